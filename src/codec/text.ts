/**
 * Text helpers for segments and sends (reference: CodePage): decode with any
 * `TextDecoder` label, encode as UTF-8, UTF-16LE or windows-1252 (latin1).
 *
 * @module
 */

import { createTextDecoder } from "./_text_decoder.ts";

const UTF8 = "utf-8";
const utf8Decoder = new TextDecoder(UTF8, { ignoreBOM: true });
const utf8Encoder = new TextEncoder();
const decoders = new Map<string, TextDecoder>([[UTF8, utf8Decoder]]);

/** windows-1252 bytes 0x80-0x9F that are not the C1 control of the same number. */
const CP1252_HIGH = new Map<number, number>(
  [
    [0x20ac, 0x80],
    [0x201a, 0x82],
    [0x0192, 0x83],
    [0x201e, 0x84],
    [0x2026, 0x85],
    [0x2020, 0x86],
    [0x2021, 0x87],
    [0x02c6, 0x88],
    [0x2030, 0x89],
    [0x0160, 0x8a],
    [0x2039, 0x8b],
    [0x0152, 0x8c],
    [0x017d, 0x8e],
    [0x2018, 0x91],
    [0x2019, 0x92],
    [0x201c, 0x93],
    [0x201d, 0x94],
    [0x2022, 0x95],
    [0x2013, 0x96],
    [0x2014, 0x97],
    [0x02dc, 0x98],
    [0x2122, 0x99],
    [0x0161, 0x9a],
    [0x203a, 0x9b],
    [0x0153, 0x9c],
    [0x017e, 0x9e],
    [0x0178, 0x9f],
  ],
);

/**
 * Decodes bytes as text. Invalid sequences become U+FFFD; a byte order mark
 * is kept.
 *
 * @example Decoding UTF-8 and latin1
 * ```ts
 * import { decodeText } from "@netstreams/netstreams/codec";
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(decodeText(new Uint8Array([0x68, 0xc3, 0xa9])), "hé");
 * strictEqual(decodeText(new Uint8Array([0x68, 0xe9]), "latin1"), "hé");
 * ```
 */
export function decodeText(bytes: Uint8Array, encoding: string = UTF8): string {
  let decoder = decoders.get(encoding);
  if (decoder === undefined) {
    decoder = createTextDecoder(encoding, false, "decode text");
    decoders.set(encoding, decoder);
  }
  return decoder.decode(bytes);
}

/**
 * Encodes text. `TextEncoder` only writes UTF-8, so the other encodings are
 * done here: "utf-16le", and "windows-1252" (what the labels "latin1",
 * "iso-8859-1" and "ascii" mean to `TextDecoder`), where a character with no
 * byte becomes "?". Any other label throws a `RangeError`.
 *
 * @example Encoding for a latin1 peer
 * ```ts
 * import { encodeText } from "@netstreams/netstreams/codec";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * deepStrictEqual(encodeText("hé"), new Uint8Array([0x68, 0xc3, 0xa9]));
 * deepStrictEqual(encodeText("hé€", "latin1"), new Uint8Array([0x68, 0xe9, 0x80]));
 * ```
 */
export function encodeText(text: string, encoding: string = UTF8): Uint8Array {
  const name = encoding === UTF8
    ? UTF8
    : createTextDecoder(encoding, false, "encode text").encoding;
  if (name === UTF8) return utf8Encoder.encode(text);
  const n = text.length;
  if (name === "utf-16le") {
    const out = new Uint8Array(n * 2);
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      out[2 * i] = c & 0xff;
      out[2 * i + 1] = c >> 8;
    }
    return out;
  }
  if (name === "windows-1252") {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      out[i] = c < 0x100 ? c : CP1252_HIGH.get(c) ?? 0x3f;
    }
    return out;
  }
  throw new RangeError(
    `Cannot encode text as encoding must be "utf-8", "utf-16le" or "windows-1252" (latin1): current value is ${
      JSON.stringify(encoding)
    }`,
  );
}
