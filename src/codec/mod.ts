/**
 * Pure framing codecs: cut a byte stream into lines, delimited segments or
 * fixed-length records, and decode them as text. Each codec is a
 * `TransformStream` class wrapping a synchronous core the server drives
 * directly. Only web APIs are used, so they run in any runtime.
 *
 * @example Reading CRLF-terminated text lines
 * ```ts
 * import { LineStream, TextSegmentDecoderStream } from "@netstreams/netstreams/codec";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const input = ReadableStream.from([new TextEncoder().encode("HELO a\r\nQUIT\r\n")]);
 * const out = [];
 * for await (const { text } of input.pipeThrough(new LineStream()).pipeThrough(new TextSegmentDecoderStream())) {
 *   out.push(text);
 * }
 * deepStrictEqual(out, ["HELO a", "QUIT"]);
 * ```
 *
 * @module
 */

export type { FramingCore, Segment, SegmentSink } from "./types.ts";
export * from "./delimiter_core.ts";
export * from "./delimiter_stream.ts";
export * from "./line_core.ts";
export * from "./line_stream.ts";
export * from "./record_core.ts";
export * from "./record_stream.ts";
export * from "./text.ts";
export * from "./text_segment_decoder_stream.ts";
