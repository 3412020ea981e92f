/**
 * The incremental state machine behind {@linkcode DelimiterStream}
 * (reference: EOL with any bytes, MaxLineLength, DataIn `EOL`).
 *
 * @module
 */

import { Carry } from "./_carry.ts";
import { failureTable, findByte, SHORT_DELIMITER, SHORT_SCAN } from "./_delimiter_search.ts";
import { checkMaxLength, toDelimiter } from "./_options.ts";
import type { FramingCore, SegmentSink } from "./types.ts";

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
 * `maxLength + delimiter.length - 1` bytes. The search takes time linear in
 * the input for any delimiter and any chunking: the delimiter's first byte
 * is found by a plain loop over the next 128 bytes, then `indexOf`, with the
 * position cached; a delimiter of up to 4 bytes is then compared there, a
 * longer one runs on with a Knuth–Morris–Pratt failure table, so each byte
 * is compared at most twice and a partial match at the end of a chunk is
 * kept as a count, never searched again.
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
  readonly #runner: (chunk: Uint8Array, emit: SegmentSink) => void;
  /** Failure table of a delimiter longer than {@linkcode SHORT_DELIMITER} bytes. */
  readonly #fail: Int32Array | undefined;
  /** Delimiter bytes matched at the end of the carried bytes (`#runLong` only). */
  #matched = 0;

  /** Validates the options; throws `TypeError`/`RangeError` naming the bad value. */
  constructor(options: DelimiterCoreOptions) {
    const d = this.#delimiter = toDelimiter("create DelimiterCore", options?.delimiter);
    this.#maxLength = checkMaxLength("create DelimiterCore", options?.maxLength);
    if (d.length <= SHORT_DELIMITER) {
      this.#runner = (chunk, emit) => this.#run(chunk, emit);
    } else {
      this.#fail = failureTable(d);
      this.#runner = (chunk, emit) => this.#runLong(chunk, emit);
    }
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
    this.#matched = 0;
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
    this.#matched = 0;
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
            const short = n < from + SHORT_SCAN ? n : from + SHORT_SCAN;
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

  /**
   * {@linkcode DelimiterCore.#run} for long delimiters, by Knuth–Morris–Pratt:
   * `p` is the leftmost start not yet ruled out and `j` the delimiter bytes
   * known to match there. A mismatch moves `p` on by `j - fail[j]` and keeps
   * `fail[j]` bytes matched, so each compare either extends the match or
   * moves `p` (at most 2 per byte), and a partial match at the end of a
   * chunk is carried as `j` (the carried bytes are never read again). A cut
   * is made as soon as every start up to `maxLength` is ruled out, which
   * gives the same segments as waiting for `maxLength + m` bytes.
   */
  #runLong(chunk: Uint8Array, emit: SegmentSink): void {
    const d = this.#delimiter;
    const m = d.length;
    const first = d[0]!;
    const fail = this.#fail!;
    const max = this.#maxLength;
    const carry = this.#carry;
    const n = chunk.length;
    let s = 0 - carry.length; // segment start, virtual (see #run)
    let j = this.#matched; // delimiter bytes matched at p, all carried
    let p = 0 - j;
    let hit = -1; // next `first` byte at or after p when j is 0; n if none
    for (;;) {
      const last = s + max; // latest delimiter start for this segment
      let found = false;
      for (;;) {
        if (j === 0) {
          if (hit < p) hit = findByte(chunk, first, p);
          p = hit;
          if (p > last || p === n) break; // cut, or needs more input
          j = 1; // chunk[p] is the first byte
        } else if (p > last) break; // cut
        const stop = n - p < m ? n - p : m;
        while (j < stop && chunk[p + j] === d[j]) j++;
        if (j === m) {
          found = true;
          break;
        }
        if (j === stop) break; // needs more input
        const k = fail[j]!;
        p += j - k;
        j = k;
      }
      if (found) {
        const bytes = carry.piece(chunk, s, p);
        s = p = p + m;
        j = 0;
        emit(bytes, true);
      } else if (p > last) {
        // Every start up to `last` was ruled out: cut there. The partial
        // match at p starts after the cut, so it stays valid.
        const bytes = carry.piece(chunk, s, last);
        s = last;
        emit(bytes, false);
      } else break;
      if (carry.halted) {
        this.#matched = 0; // what is left is searched again from s
        return carry.halt(chunk, s);
      }
    }
    this.#matched = j;
    carry.keep(chunk, s, max + m - 1);
  }
}
