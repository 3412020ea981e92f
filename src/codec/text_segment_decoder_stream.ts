/**
 * {@linkcode TextSegmentDecoderStream}: segments in, text segments out
 * (reference: DataIn `Text` with CodePage).
 *
 * @module
 */

import { createTextDecoder } from "./_text_decoder.ts";
import type { Segment } from "./types.ts";

/** A segment decoded as text. */
export interface TextSegment {
  /** The decoded text, without the delimiter. */
  text: string;
  /** Copied from the {@linkcode Segment}: true when a delimiter or full record ended it. */
  eol: boolean;
}

/** Options of {@linkcode TextSegmentDecoderStream}. */
export interface TextSegmentDecoderStreamOptions {
  /**
   * Any `TextDecoder` label ("utf-8", "latin1", "shift_jis", ...).
   * @default {"utf-8"}
   */
  encoding?: string;
  /**
   * Error the stream with a `TypeError` on invalid bytes instead of writing
   * U+FFFD.
   * @default {false}
   */
  fatal?: boolean;
}

const STREAM = { stream: true };
const END = { stream: false };

/**
 * Decodes {@linkcode Segment}s into {@linkcode TextSegment}s. A character cut
 * in two by a `maxLength` cut (`eol` false) is decoded whole at the start of
 * the next piece; a segment with `eol` true ends all pending characters. A
 * byte order mark is kept as U+FEFF.
 *
 * @example Decoding lines, with a character split by a maxLength cut
 * ```ts
 * import { LineStream, TextSegmentDecoderStream } from "@netstreams/netstreams/codec";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("a".repeat(255) + "é\nok\n");
 * const lines = ReadableStream.from([bytes])
 *   .pipeThrough(new LineStream({ maxLength: 256 }))
 *   .pipeThrough(new TextSegmentDecoderStream());
 * const out = [];
 * for await (const { text, eol } of lines) out.push([text.length, eol]);
 * deepStrictEqual(out, [[255, false], [1, true], [2, true]]);
 * ```
 */
export class TextSegmentDecoderStream extends TransformStream<Segment, TextSegment> {
  readonly #decoder: TextDecoder;

  /** Validates the options; an unknown encoding throws a `RangeError`. */
  constructor(options: TextSegmentDecoderStreamOptions = {}) {
    const decoder = createTextDecoder(
      options?.encoding ?? "utf-8",
      options?.fatal ?? false,
      "create TextSegmentDecoderStream",
    );
    super({
      transform(segment, controller) {
        const eol = segment.eol;
        controller.enqueue({ text: decoder.decode(segment.bytes, eol ? END : STREAM), eol });
      },
      flush(controller) {
        const text = decoder.decode();
        if (text.length > 0) controller.enqueue({ text, eol: false });
      },
    });
    this.#decoder = decoder;
  }

  /** The canonical name of the encoding ("windows-1252" for "latin1"). */
  get encoding(): string {
    return this.#decoder.encoding;
  }

  /** True when invalid bytes error the stream. */
  get fatal(): boolean {
    return this.#decoder.fatal;
  }
}
