/**
 * The incremental state machine behind {@linkcode LineStream}
 * (reference: SingleLineMode, MaxLineLength, DataIn `EOL`).
 *
 * @module
 */

import { Carry } from "./_carry.ts";
import { checkMaxLength } from "./_options.ts";
import type { FramingCore, SegmentSink } from "./types.ts";
import { CR, LF, lineScan, scanBytes, scanWords, WORDS_MIN, wordsOf } from "./_scan.ts";

/** Options of {@linkcode LineCore} and {@linkcode LineStream}. */
export interface LineCoreOptions {
  /**
   * Longest line in bytes, line end not counted (reference: MaxLineLength).
   * Must be an integer >= 256.
   * @default {2048}
   */
  maxLength?: number;
}

/**
 * Cuts bytes into lines ending at CRLF, LF or a lone CR, synchronously and
 * incrementally (reference: single-line mode).
 *
 * A CR at the end of one chunk and an LF at the start of the next are one
 * line end: the line is emitted at the CR and the LF is skipped. Line ends
 * are stripped. Cut rule: a line ends at the first CR or LF at most
 * `maxLength` bytes after its start (`eol` true); when there is none, the
 * first `maxLength` bytes go out with `eol` false and the rest starts a new
 * line. A line of exactly `maxLength` bytes followed by its line end is one
 * line with `eol` true. At the end of input, leftover bytes go out with `eol`
 * false.
 *
 * Lines inside one chunk are emitted as views of it; only a line that spans
 * chunks is copied. The core carries at most `maxLength` bytes. Line ends
 * are found by a loop over the bytes, four at a time in chunks of 256 bytes
 * or more, or by `indexOf` where that is faster (Bun); each byte is scanned
 * a bounded number of times.
 *
 * @example Lines with mixed endings and a CRLF split across chunks
 * ```ts
 * import { LineCore } from "@netstreams/netstreams/codec";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const core = new LineCore();
 * const out: [string, boolean][] = [];
 * const emit = (bytes: Uint8Array, eol: boolean) => {
 *   out.push([new TextDecoder().decode(bytes), eol]);
 * };
 * const enc = new TextEncoder();
 * core.push(enc.encode("a\nb\r"), emit);
 * core.push(enc.encode("\nc\rd"), emit);
 * core.flush(emit);
 * deepStrictEqual(out, [["a", true], ["b", true], ["c", true], ["d", false]]);
 * ```
 */
export class LineCore implements FramingCore {
  readonly #maxLength: number;
  readonly #carry = new Carry();
  readonly #runner = (chunk: Uint8Array, emit: SegmentSink): void => this.#run(chunk, emit);
  /** The last line ended at a CR that was the last byte of a chunk. */
  #skipLF = false;

  /** Validates the options; throws `TypeError`/`RangeError` naming the bad value. */
  constructor(options: LineCoreOptions = {}) {
    this.#maxLength = checkMaxLength("create LineCore", options?.maxLength);
  }

  /** Longest line in bytes, line end not counted. */
  get maxLength(): number {
    return this.#maxLength;
  }

  /** Feeds bytes; emits every line they complete. */
  push(chunk: Uint8Array, emit: SegmentSink): void {
    this.#carry.push(chunk, emit, this.#runner);
  }

  /** End of input: emits a leftover partial line with `eol` false (nothing if none), then resets. */
  flush(emit: SegmentSink): void {
    const carry = this.#carry;
    if (!carry.flushPending(emit, this.#runner)) return;
    this.#skipLF = false;
    const bytes = carry.bytes;
    const len = carry.length;
    carry.release();
    if (len > 0) emit(bytes.subarray(0, len), false);
  }

  /** Stops the running `push` after the line being emitted (see {@linkcode FramingCore.halt}). */
  halt(): void {
    this.#carry.halted = true;
  }

  /**
   * Takes every byte not yet emitted and empties the core. An LF still
   * expected after a chunk-final CR stays expected.
   */
  takeRest(): Uint8Array {
    return this.#carry.take();
  }

  #run(chunk: Uint8Array, emit: SegmentSink): void {
    const max = this.#maxLength;
    const carry = this.#carry;
    const n = chunk.length;
    // Start of the current line as a virtual position (0 - length, as -0
    // would make it a double on V8).
    let s = 0 - carry.length;
    if (this.#skipLF && n > 0) {
      this.#skipLF = false; // nothing is carried after a line end
      if (chunk[0] === LF) s = 1;
    }
    let from = s < 0 ? 0 : s; // where the next line end is searched
    const byIndexOf = lineScan.byIndexOf;
    const words = !byIndexOf && n >= WORDS_MIN ? wordsOf(chunk) : undefined;
    let lf = -1; // next LF at or after `from`, n if none (byIndexOf only)
    let cr = -1; // next CR at or after `from`, n if none (byIndexOf only)
    for (;;) {
      const limit = n < s + max + 1 ? n : s + max + 1; // a line end must come before
      let end: number;
      if (byIndexOf) {
        // Each position is kept until passed, so no byte is searched twice.
        if (lf < from) {
          lf = chunk.indexOf(LF, from);
          if (lf < 0) lf = n;
        }
        if (cr < from) {
          cr = chunk.indexOf(CR, from);
          if (cr < 0) cr = n;
        }
        end = lf < cr ? lf : cr; // past limit: treated as limit below
      } else {
        end = words === undefined
          ? scanBytes(chunk, from, limit)
          : scanWords(chunk, words, from, limit);
      }
      if (end < limit) {
        let next = end + 1;
        if (chunk[end] === CR) {
          if (next === n) this.#skipLF = true;
          else if (chunk[next] === LF) next++;
        }
        const bytes = carry.piece(chunk, s, end);
        s = from = next;
        emit(bytes, true);
      } else if (n - s > max) {
        // The byte after maxLength bytes is not a line end: cut.
        const bytes = carry.piece(chunk, s, s + max);
        s = from = s + max;
        emit(bytes, false);
      } else break;
      if (carry.halted) return carry.halt(chunk, s);
    }
    carry.keep(chunk, s, max);
  }
}
