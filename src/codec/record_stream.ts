/**
 * {@linkcode RecordStream}: bytes in, fixed-length records out
 * (reference: RecordLength, ChangeRecordLength).
 *
 * @module
 */

import { checkRecordLength } from "./_options.ts";
import { segmentTransformer } from "./_segment_transformer.ts";
import { RecordCore, type RecordCoreOptions } from "./record_core.ts";
import type { Segment } from "./types.ts";

/** Options of {@linkcode RecordStream}: the same as {@linkcode RecordCoreOptions}. */
export type RecordStreamOptions = RecordCoreOptions;

/**
 * Cuts a byte stream into records of `recordLength` bytes (`eol` true); a
 * partial record at the end of input goes out with `eol` false. With
 * `recordLength` 0, chunks pass through as they are, with `eol` false.
 *
 * Setting {@linkcode RecordStream.recordLength} applies to the next record
 * cut from bytes not yet cut. The stream cuts a whole written chunk at once,
 * so a reader that changes the length after reading a record may be too late
 * for records of the same chunk; to change the length in reaction to a record
 * (ChangeRecordLength inside DataIn), drive a {@linkcode RecordCore}, whose
 * callback runs before the next record is cut.
 *
 * @example Cutting 4-byte records
 * ```ts
 * import { RecordStream } from "@netstreams/netstreams/codec";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const input = ReadableStream.from([new TextEncoder().encode("abcdefghij")]);
 * const out = [];
 * for await (const { bytes, eol } of input.pipeThrough(new RecordStream({ recordLength: 4 }))) {
 *   out.push([new TextDecoder().decode(bytes), eol]);
 * }
 * deepStrictEqual(out, [["abcd", true], ["efgh", true], ["ij", false]]);
 * ```
 */
export class RecordStream extends TransformStream<Uint8Array, Segment> {
  readonly #core: RecordCore;

  /** Validates the options; throws `TypeError`/`RangeError` naming the bad value. */
  constructor(options: RecordStreamOptions) {
    const recordLength = checkRecordLength("create RecordStream", options?.recordLength);
    const core = new RecordCore({ recordLength });
    super(segmentTransformer(core, "RecordStream"));
    this.#core = core;
  }

  /** Record length in bytes, 0 = pass-through; applies to the next record cut. */
  get recordLength(): number {
    return this.#core.recordLength;
  }
  set recordLength(length: number) {
    this.#core.setRecordLength(length);
  }
}
