/**
 * {@linkcode FrameDecoderStream}: bytes in, WebSocket frames out (RFC 6455 §5).
 *
 * @module
 */

import { checkChunk } from "./_transformer.ts";
import { FrameDecoderCore, type FrameDecoderCoreOptions } from "./frame_decoder_core.ts";
import type { Frame, FrameSink } from "./types.ts";

/** Options of {@linkcode FrameDecoderStream}: the same as {@linkcode FrameDecoderCoreOptions}. */
export type FrameDecoderStreamOptions = FrameDecoderCoreOptions;

/**
 * Decodes a byte stream into {@linkcode Frame}s with {@linkcode FrameDecoderCore}.
 * A protocol violation errors the stream with the core's
 * {@linkcode WsProtocolError}, and so does the end of input inside a frame
 * (`WS_TRUNCATED_FRAME`). As with any errored stream, frames not read yet
 * are dropped; drive {@linkcode FrameDecoderCore} directly to act on every
 * frame before the error.
 *
 * Payloads are unmasked in place and are views of the written chunks when a
 * frame lies inside one, so a written chunk must not be used afterwards.
 *
 * @example Reading a masked ping and a binary frame
 * ```ts
 * import { FrameDecoderStream } from "@netstreams/netstreams/ws";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const bytes = new Uint8Array([
 *   0x89, 0x82, 1, 2, 3, 4, 0x68 ^ 1, 0x69 ^ 2, // ping "hi"
 *   0x82, 0x81, 0, 0, 0, 0, 7, // binary [7], mask of zeros
 * ]);
 * const out = [];
 * for await (const f of ReadableStream.from([bytes]).pipeThrough(new FrameDecoderStream())) {
 *   out.push([f.opcode, [...f.payload]]);
 * }
 * deepStrictEqual(out, [[9, [0x68, 0x69]], [2, [7]]]);
 * ```
 */
export class FrameDecoderStream extends TransformStream<Uint8Array, Frame> {
  readonly #core: FrameDecoderCore;

  /** Validates the options; throws `TypeError`/`RangeError` naming the bad value. */
  constructor(options: FrameDecoderStreamOptions = {}) {
    const core = new FrameDecoderCore(options);
    let emit: FrameSink;
    super({
      start(controller) {
        emit = (payload, opcode, fin, rsv1, frameEnd) =>
          controller.enqueue({ opcode, fin, rsv1, payload, frameEnd });
      },
      transform(chunk) {
        checkChunk(chunk, "FrameDecoderStream");
        const err = core.push(chunk, emit);
        if (err !== undefined) throw err;
      },
      flush() {
        const err = core.flush();
        if (err !== undefined) throw err;
      },
    });
    this.#core = core;
  }

  /** Largest data frame payload in bytes. */
  get maxFrameSize(): number {
    return this.#core.maxFrameSize;
  }
}
