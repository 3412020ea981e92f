/**
 * {@linkcode DelimiterStream}: bytes in, segments cut at a delimiter out
 * (reference: EOL with any bytes, MaxLineLength, DataIn `EOL`).
 *
 * @module
 */

import { checkMaxLength, toDelimiter } from "./_options.ts";
import { segmentTransformer } from "./_segment_transformer.ts";
import { DelimiterCore, type DelimiterCoreOptions } from "./delimiter_core.ts";
import type { Segment } from "./types.ts";

/** Options of {@linkcode DelimiterStream}: the same as {@linkcode DelimiterCoreOptions}. */
export type DelimiterStreamOptions = DelimiterCoreOptions;

/**
 * Splits a byte stream at a delimiter of any bytes (multi-byte, NUL allowed,
 * split across chunks). Each output {@linkcode Segment} carries the bytes
 * without the delimiter and `eol`: true when the delimiter ended it, false
 * when it was cut at `maxLength` or is the rest at the end of input. Nothing
 * is dropped and at most `maxLength + delimiter.length - 1` bytes are
 * buffered. The cut rule is {@linkcode DelimiterCore}'s.
 *
 * Segments are views of the written chunks when they lie inside one chunk, so
 * a written chunk must not be modified afterwards.
 *
 * @example Splitting NUL-terminated messages
 * ```ts
 * import { DelimiterStream } from "@netstreams/netstreams/codec";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const input = ReadableStream.from([new TextEncoder().encode("a\0bc\0d")]);
 * const out = [];
 * for await (const { bytes, eol } of input.pipeThrough(new DelimiterStream({ delimiter: "\0" }))) {
 *   out.push([new TextDecoder().decode(bytes), eol]);
 * }
 * deepStrictEqual(out, [["a", true], ["bc", true], ["d", false]]);
 * ```
 */
export class DelimiterStream extends TransformStream<Uint8Array, Segment> {
  readonly #core: DelimiterCore;

  /** Validates the options; throws `TypeError`/`RangeError` naming the bad value. */
  constructor(options: DelimiterStreamOptions) {
    const delimiter = toDelimiter("create DelimiterStream", options?.delimiter);
    const maxLength = checkMaxLength("create DelimiterStream", options?.maxLength);
    const core = new DelimiterCore({ delimiter, maxLength });
    super(segmentTransformer(core, "DelimiterStream"));
    this.#core = core;
  }

  /** A copy of the delimiter bytes. */
  get delimiter(): Uint8Array {
    return this.#core.delimiter;
  }

  /** Longest segment in bytes, delimiter not counted. */
  get maxLength(): number {
    return this.#core.maxLength;
  }
}
