/**
 * {@linkcode LineStream}: bytes in, lines ending at CRLF, LF or CR out
 * (reference: SingleLineMode, MaxLineLength, DataIn `EOL`).
 *
 * @module
 */

import { checkMaxLength } from "./_options.ts";
import { segmentTransformer } from "./_segment_transformer.ts";
import { LineCore, type LineCoreOptions } from "./line_core.ts";
import type { Segment } from "./types.ts";

/** Options of {@linkcode LineStream}: the same as {@linkcode LineCoreOptions}. */
export type LineStreamOptions = LineCoreOptions;

/**
 * Splits a byte stream into lines ending at CRLF, LF or a lone CR (a CRLF
 * split across chunks is one line end). Each output {@linkcode Segment}
 * carries the line without its end and `eol`: true when a line end ended it,
 * false when it was cut at `maxLength` or is the rest at the end of input.
 * Nothing is dropped and at most `maxLength` bytes are buffered. The cut rule
 * is {@linkcode LineCore}'s.
 *
 * Lines are views of the written chunks when they lie inside one chunk, so a
 * written chunk must not be modified afterwards.
 *
 * @example A line longer than maxLength comes out in pieces marked unterminated
 * ```ts
 * import { LineStream } from "@netstreams/netstreams/codec";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const text = "x".repeat(300) + "\r\nok\n";
 * const input = ReadableStream.from([new TextEncoder().encode(text)]);
 * const out = [];
 * for await (const { bytes, eol } of input.pipeThrough(new LineStream({ maxLength: 256 }))) {
 *   out.push([bytes.length, eol]);
 * }
 * deepStrictEqual(out, [[256, false], [44, true], [2, true]]);
 * ```
 */
export class LineStream extends TransformStream<Uint8Array, Segment> {
  readonly #core: LineCore;

  /** Validates the options; throws `TypeError`/`RangeError` naming the bad value. */
  constructor(options: LineStreamOptions = {}) {
    const maxLength = checkMaxLength("create LineStream", options?.maxLength);
    const core = new LineCore({ maxLength });
    super(segmentTransformer(core, "LineStream"));
    this.#core = core;
  }

  /** Longest line in bytes, line end not counted. */
  get maxLength(): number {
    return this.#core.maxLength;
  }
}
