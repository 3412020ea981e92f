/**
 * Internal: `TextDecoder` creation with the codecs' error style.
 *
 * @module
 */

/**
 * A `TextDecoder` for `encoding` (any WHATWG label, such as "utf-8",
 * "latin1", "shift_jis"); a byte order mark is kept as U+FEFF. Throws a
 * `RangeError` naming the label when the runtime does not know it
 * (`action` reads "decode text").
 */
export function createTextDecoder(
  encoding: string,
  fatal: boolean,
  action: string,
): TextDecoder {
  try {
    return new TextDecoder(encoding, { fatal, ignoreBOM: true });
  } catch {
    throw new RangeError(
      `Cannot ${action} as encoding must be a TextDecoder label such as "utf-8": current value is ${
        JSON.stringify(encoding)
      }`,
    );
  }
}
