/**
 * Internal: option checks shared by the codecs. Messages say what to do and
 * the current value (STYLE.md, guideline 8).
 *
 * @module
 */

/** Default longest segment in bytes (reference: DefaultMaxLineLength). */
export const DEFAULT_MAX_LENGTH = 2048;
/** Smallest allowed `maxLength` (reference: MaxLineLength minimum). */
export const MIN_MAX_LENGTH = 256;

const encoder = new TextEncoder();

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value instanceof Uint8Array) return `a Uint8Array of ${value.length} bytes`;
  return String(value);
}

/** Validates `maxLength` (`action` reads "create LineStream"); undefined gives the default. */
export function checkMaxLength(action: string, value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_LENGTH;
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot ${action} as maxLength must be a number: current value is ${show(value)}`,
    );
  }
  if (!Number.isSafeInteger(value) || value < MIN_MAX_LENGTH) {
    throw new RangeError(
      `Cannot ${action} as maxLength must be an integer >= ${MIN_MAX_LENGTH}: current value is ${value}`,
    );
  }
  return value;
}

/** Validates a delimiter and returns an owned byte copy (strings are encoded as UTF-8). */
export function toDelimiter(action: string, value: unknown): Uint8Array {
  let bytes: Uint8Array;
  if (typeof value === "string") bytes = encoder.encode(value);
  else if (value instanceof Uint8Array) bytes = value.slice();
  else {
    throw new TypeError(
      `Cannot ${action} as delimiter must be a string or a Uint8Array: current value is ${
        show(value)
      }`,
    );
  }
  if (bytes.length === 0) {
    throw new RangeError(
      `Cannot ${action} as delimiter must be at least 1 byte long: current value is ${show(value)}`,
    );
  }
  return bytes;
}

/** Validates a record length (0 = pass-through). */
export function checkRecordLength(action: string, value: unknown): number {
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot ${action} as recordLength must be a number: current value is ${show(value)}`,
    );
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(
      `Cannot ${action} as recordLength must be an integer >= 0 (0 = pass-through): current value is ${value}`,
    );
  }
  return value;
}
