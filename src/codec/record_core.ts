/**
 * The incremental state machine behind {@linkcode RecordStream}
 * (reference: RecordLength, ChangeRecordLength).
 *
 * @module
 */

import { Carry } from "./_carry.ts";
import { checkRecordLength } from "./_options.ts";
import type { FramingCore, SegmentSink } from "./types.ts";

/** Options of {@linkcode RecordCore} and {@linkcode RecordStream}. */
export interface RecordCoreOptions {
  /**
   * Record length in bytes; 0 passes bytes through as they come (each chunk,
   * or what is left of it, is one segment with `eol` false). The core
   * buffers up to one record, so this is also its memory bound.
   */
  recordLength: number;
}

/**
 * Cuts bytes into fixed-length records, synchronously and incrementally.
 *
 * Full records go out with `eol` true. The length can be changed at any time
 * with {@linkcode RecordCore.setRecordLength}, including from inside `emit`
 * while a record is being delivered (reference: ChangeRecordLength inside
 * DataIn): the new length applies to the very next record, even for the rest
 * of the chunk being pushed. Bytes already carried count towards the next
 * record. At the end of input a partial record goes out with `eol` false.
 *
 * Records inside one chunk are emitted as views of it; only a record that
 * spans chunks is copied.
 *
 * @example A length prefix read inside the callback picks the next record's length
 * ```ts
 * import { RecordCore } from "@netstreams/netstreams/codec";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const core = new RecordCore({ recordLength: 1 });
 * const out: string[] = [];
 * let header = true;
 * core.push(new TextEncoder().encode("3abc2de"), (bytes) => {
 *   const text = new TextDecoder().decode(bytes);
 *   out.push(text);
 *   core.setRecordLength(header ? Number(text) : 1);
 *   header = !header;
 * });
 * deepStrictEqual(out, ["3", "abc", "2", "de"]);
 * ```
 */
export class RecordCore implements FramingCore {
  #recordLength: number;
  readonly #carry = new Carry();
  readonly #runner = (chunk: Uint8Array, emit: SegmentSink): void => this.#run(chunk, emit);

  /** Validates the options; throws `TypeError`/`RangeError` naming the bad value. */
  constructor(options: RecordCoreOptions) {
    this.#recordLength = checkRecordLength("create RecordCore", options?.recordLength);
  }

  /** Record length in bytes, 0 = pass-through. Setting it is {@linkcode RecordCore.setRecordLength}. */
  get recordLength(): number {
    return this.#recordLength;
  }
  set recordLength(length: number) {
    this.setRecordLength(length);
  }

  /**
   * Changes the record length (reference: ChangeRecordLength); applies to the
   * next record cut, also when called from inside `emit`.
   */
  setRecordLength(length: number): void {
    this.#recordLength = checkRecordLength("set recordLength", length);
  }

  /** Feeds bytes; emits every record they complete. */
  push(chunk: Uint8Array, emit: SegmentSink): void {
    this.#carry.push(chunk, emit, this.#runner);
  }

  /**
   * End of input: emits the full records still carried (possible after the
   * length was lowered) and a partial record with `eol` false, then resets.
   */
  flush(emit: SegmentSink): void {
    const carry = this.#carry;
    if (!carry.flushPending(emit, this.#runner)) return;
    const bytes = carry.bytes;
    const len = carry.length;
    carry.release();
    for (let at = 0; at < len;) {
      const r = this.#recordLength;
      const full = r > 0 && len - at >= r;
      const end = full ? at + r : len;
      emit(bytes.subarray(at, end), full);
      at = end;
      if (carry.halted && at < len) {
        carry.rest = bytes.slice(at, len);
        return;
      }
    }
  }

  /** Stops the running `push` after the record being emitted (see {@linkcode FramingCore.halt}). */
  halt(): void {
    this.#carry.halted = true;
  }

  /** Takes every byte not yet emitted and empties the core. */
  takeRest(): Uint8Array {
    return this.#carry.take();
  }

  #run(chunk: Uint8Array, emit: SegmentSink): void {
    const carry = this.#carry;
    const n = chunk.length;
    // Start of the current record as a virtual position (0 - length, as -0
    // would make it a double on V8).
    let s = 0 - carry.length;
    for (;;) {
      const r = this.#recordLength; // re-read: emit may have changed it
      let bytes: Uint8Array;
      if (r === 0) {
        if (s >= n) break;
        // Pass-through: the carry (if any) then the chunk, each as it is.
        const end = s < 0 ? 0 : n;
        bytes = carry.piece(chunk, s, end);
        s = end;
        emit(bytes, false);
      } else {
        if (n - s < r) break;
        bytes = carry.piece(chunk, s, s + r);
        s += r;
        emit(bytes, true);
      }
      if (carry.halted) return carry.halt(chunk, s);
    }
    carry.keep(chunk, s, this.#recordLength);
  }
}
