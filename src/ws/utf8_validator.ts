/**
 * Incremental, fail-fast UTF-8 validation for text messages and close
 * reasons (RFC 6455 §8.1, RFC 3629 §4).
 *
 * @module
 */

import { engine } from "../_engine.ts";

/**
 * ASCII runs at least this long are scanned 4 bytes at a time (through a
 * 32-bit view; where views are costly, from 256 bytes: Bun, 64-byte text,
 * 127 ns with the view against 94 byte by byte, even at 256).
 */
const WORDS_FROM = 32;
const WORDS_FROM_COSTLY_VIEWS = 256;

/**
 * Validates UTF-8 incrementally, across any split into chunks, and fails at
 * the first byte that no continuation could make valid: overlong forms,
 * UTF-16 surrogates (U+D800-U+DFFF), code points above U+10FFFF, stray
 * continuation bytes and bytes C0, C1, F5-FF. A sequence left open at the
 * end of the text is caught by {@linkcode Utf8Validator.end}.
 *
 * The state machine follows the well-formed byte sequences of Unicode
 * Table 3-7: after a lead byte it keeps how many continuation bytes are
 * still needed and the range the next one must fall in. ASCII runs are
 * skipped 4 bytes at a time.
 *
 * @example An invalid sequence is found before the message ends
 * ```ts
 * import { Utf8Validator } from "@netstreams/netstreams/ws";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const v = new Utf8Validator();
 * const results = [
 *   v.push(new Uint8Array([0x68, 0xe2, 0x82])), // "h" and 2 bytes of "€"
 *   v.push(new Uint8Array([0xac])), // "€" complete
 *   v.end(),
 *   v.push(new Uint8Array([0xed, 0xa0])), // a surrogate: fails at 0xa0
 * ];
 * deepStrictEqual(results, [true, true, true, false]);
 * ```
 */
export class Utf8Validator {
  /** Continuation bytes still needed; -1 once failed. */
  #need = 0;
  /** Range of the next continuation byte. */
  #lo = 0x80;
  #hi = 0xbf;

  /** True when the bytes so far are complete, valid UTF-8. */
  get complete(): boolean {
    return this.#need === 0;
  }

  /** True once a byte made the input invalid (until {@linkcode Utf8Validator.reset}). */
  get failed(): boolean {
    return this.#need < 0;
  }

  /**
   * Feeds the next bytes. Returns false as soon as the input cannot be valid
   * UTF-8 (and keeps returning false until reset), true while it can.
   */
  push(bytes: Uint8Array): boolean {
    let need = this.#need;
    if (need < 0) return false;
    let lo = this.#lo;
    let hi = this.#hi;
    const n = bytes.length;
    let i = 0;
    while (i < n) {
      const c = bytes[i];
      if (need > 0) {
        if (c < lo || c > hi) return this.#fail();
        need--;
        lo = 0x80;
        hi = 0xbf;
        i++;
      } else if (c < 0x80) {
        i = asciiEnd(bytes, i + 1, n);
      } else {
        // Lead bytes (Table 3-7); the first continuation byte's range
        // excludes overlongs (E0, F0), surrogates (ED) and > U+10FFFF (F4).
        if (c < 0xc2 || c > 0xf4) return this.#fail();
        if (c < 0xe0) need = 1;
        else if (c < 0xf0) {
          need = 2;
          if (c === 0xe0) lo = 0xa0;
          else if (c === 0xed) hi = 0x9f;
        } else {
          need = 3;
          if (c === 0xf0) lo = 0x90;
          else if (c === 0xf4) hi = 0x8f;
        }
        i++;
      }
    }
    this.#need = need;
    this.#lo = lo;
    this.#hi = hi;
    return true;
  }

  /**
   * End of the text: returns true when everything pushed is complete, valid
   * UTF-8 (false when it failed or a sequence is unfinished), and resets.
   */
  end(): boolean {
    const ok = this.#need === 0;
    this.reset();
    return ok;
  }

  /** Forgets everything pushed. */
  reset(): void {
    this.#need = 0;
    this.#lo = 0x80;
    this.#hi = 0xbf;
  }

  #fail(): false {
    this.#need = -1;
    return false;
  }
}

/** Position of the first non-ASCII byte at or after `i`, or `n`. */
function asciiEnd(bytes: Uint8Array, i: number, n: number): number {
  if (n - i >= (engine.costlyViews ? WORDS_FROM_COSTLY_VIEWS : WORDS_FROM)) {
    while (i < n && ((bytes.byteOffset + i) & 3) !== 0) {
      if (bytes[i] >= 0x80) return i;
      i++;
    }
    const words = (n - i) >>> 2;
    const w = new Uint32Array(bytes.buffer, bytes.byteOffset + i, words);
    let j = 0;
    while (j < words && (w[j] & 0x80808080) === 0) j++;
    i += j * 4;
  }
  while (i < n && bytes[i] < 0x80) i++;
  return i;
}

/**
 * Whether `bytes` are complete, valid UTF-8 (see {@linkcode Utf8Validator}).
 *
 * @example A close reason check
 * ```ts
 * import { isValidUtf8 } from "@netstreams/netstreams/ws";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * deepStrictEqual([
 *   isValidUtf8(new TextEncoder().encode("κόσμε")),
 *   isValidUtf8(new Uint8Array([0xc0, 0xaf])), // overlong "/"
 * ], [true, false]);
 * ```
 */
export function isValidUtf8(bytes: Uint8Array): boolean {
  const v = new Utf8Validator();
  return v.push(bytes) && v.end();
}
