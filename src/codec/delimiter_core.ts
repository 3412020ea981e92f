/**
 * The incremental state machine behind {@linkcode DelimiterStream}
 * (reference: EOL with any bytes, MaxLineLength, DataIn `EOL`).
 *
 * @module
 */

import { Carry } from "./_carry.ts";
import { checkMaxLength, toDelimiter } from "./_options.ts";
import type { FramingCore, SegmentSink } from "./types.ts";

/** Bytes scanned by a plain loop before switching to `indexOf`. */
const SHORT = 128;

/** Options of {@linkcode DelimiterCore} and {@linkcode DelimiterStream}. */
export interface DelimiterCoreOptions {
  /**
   * The bytes that end a segment: any length from 1 byte, may contain NUL.
   * A string is encoded as UTF-8.
   */
  delimiter: Uint8Array | string;
  /**
   * Longest segment in bytes, delimiter not counted (reference:
   * MaxLineLength). Must be an integer >= 256.
   * @default {2048}
   */
  maxLength?: number;
}

/**
 * Cuts bytes at a delimiter, synchronously and incrementally.
 *
 * The cut rule (identical for every way the input is split into chunks):
 * a segment ends at the leftmost delimiter that starts at most `maxLength`
 * bytes after the segment start, and is emitted without the delimiter with
 * `eol` true. When no delimiter starts within `maxLength` bytes, the first
 * `maxLength` bytes are emitted with `eol` false and the rest starts a new
 * segment; so a delimiter right after exactly `maxLength` bytes still ends the
 * segment, and a cut never splits a delimiter. At the end of input, leftover
 * bytes are emitted (in pieces of at most `maxLength`) with `eol` false.
 *
 * Segments that lie in one chunk are emitted as views of it; only a segment
 * that spans chunks is copied. The core carries at most
 * `maxLength + delimiter.length - 1` bytes, and scans each byte a bounded
 * number of times (a plain loop over the next 128 bytes, then `indexOf`, for
 * the delimiter's first byte, with the position cached).
 *
 * @example Cutting at a two-byte delimiter split across chunks
 * ```ts
 * import { DelimiterCore } from "@netstreams/netstreams/codec";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const core = new DelimiterCore({ delimiter: "\r\n" });
 * const out: [string, boolean][] = [];
 * const emit = (bytes: Uint8Array, eol: boolean) => {
 *   out.push([new TextDecoder().decode(bytes), eol]);
 * };
 * const enc = new TextEncoder();
 * core.push(enc.encode("one\r"), emit);
 * core.push(enc.encode("\ntwo\r\nthr"), emit);
 * core.flush(emit);
 * deepStrictEqual(out, [["one", true], ["two", true], ["thr", false]]);
 * ```
 */
export class DelimiterCore implements FramingCore {
  readonly #delimiter: Uint8Array;
  readonly #maxLength: number;
  readonly #carry = new Carry();
  readonly #runner = (chunk: Uint8Array, emit: SegmentSink): void => this.#run(chunk, emit);

  /** Validates the options; throws `TypeError`/`RangeError` naming the bad value. */
  constructor(options: DelimiterCoreOptions) {
    this.#delimiter = toDelimiter("create DelimiterCore", options?.delimiter);
    this.#maxLength = checkMaxLength("create DelimiterCore", options?.maxLength);
  }

  /** A copy of the delimiter bytes. */
  get delimiter(): Uint8Array {
    return this.#delimiter.slice();
  }

  /** Longest segment in bytes, delimiter not counted. */
  get maxLength(): number {
    return this.#maxLength;
  }

  /** Feeds bytes; emits every segment they complete. */
  push(chunk: Uint8Array, emit: SegmentSink): void {
    this.#carry.push(chunk, emit, this.#runner);
  }

  /** End of input: emits leftover bytes with `eol` false (nothing if none), then resets. */
  flush(emit: SegmentSink): void {
    const carry = this.#carry;
    if (!carry.flushPending(emit, this.#runner)) return;
    const max = this.#maxLength;
    const bytes = carry.bytes;
    const len = carry.length;
    carry.release();
    for (let at = 0; at < len;) {
      const end = Math.min(at + max, len);
      emit(bytes.subarray(at, end), false);
      at = end;
      if (carry.halted && at < len) {
        carry.rest = bytes.slice(at, len);
        return;
      }
    }
  }

  /** Stops the running `push` after the segment being emitted (see {@linkcode FramingCore.halt}). */
  halt(): void {
    this.#carry.halted = true;
  }

  /** Takes every byte not yet emitted and empties the core. */
  takeRest(): Uint8Array {
    return this.#carry.take();
  }

  #run(chunk: Uint8Array, emit: SegmentSink): void {
    const d = this.#delimiter;
    const dlen = d.length;
    const first = d[0];
    const max = this.#maxLength;
    const carry = this.#carry;
    const buf = carry.bytes;
    const len = carry.length;
    const n = chunk.length;
    // Start of the current segment as a virtual position (0 - len, as -0
    // would make it a double on V8).
    let s = 0 - len;
    // Earliest delimiter start not yet ruled out: the carry holds no whole
    // delimiter, so only starts that reach into the chunk remain.
    let from = len < dlen ? s : 1 - dlen;
    let hit = -1; // next `first` byte in chunk at or after `from`; n if none
    for (;;) {
      const last = s + max; // latest delimiter start for this segment
      let found = false;
      // Delimiters that start in the carry and end in the chunk.
      while (from < 0 && from <= last) {
        let j = 0;
        while (j < dlen && from + j < n) {
          const p = from + j;
          if ((p < 0 ? buf[len + p] : chunk[p]) !== d[j]) break;
          j++;
        }
        if (j === dlen) found = true;
        if (j === dlen || from + j >= n) break; // found, or needs more input
        from++;
      }
      // Delimiters inside the chunk.
      if (!found && from >= 0) {
        for (;;) {
          if (hit < from) {
            // A plain loop for nearby hits (cheaper than a call on V8), then indexOf.
            const short = n < from + SHORT ? n : from + SHORT;
            hit = from;
            while (hit < short && chunk[hit] !== first) hit++;
            if (hit === short && short < n) {
              hit = chunk.indexOf(first, short);
              if (hit < 0) hit = n;
            }
          }
          if (hit > last || hit + dlen > n) break;
          let j = 1;
          while (j < dlen && chunk[hit + j] === d[j]) j++;
          if (j === dlen) {
            found = true;
            from = hit;
            break;
          }
          from = hit + 1;
        }
      }
      if (found) {
        const bytes = carry.piece(chunk, s, from);
        s = from = from + dlen;
        emit(bytes, true);
      } else if (n - s >= max + dlen) {
        // Every start up to `last` was checked: cut at maxLength.
        const bytes = carry.piece(chunk, s, last);
        s = last;
        if (from < s) from = s;
        emit(bytes, false);
      } else break;
      if (carry.halted) return carry.halt(chunk, s);
    }
    carry.keep(chunk, s, max + dlen - 1);
  }
}
