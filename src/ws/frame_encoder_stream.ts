/**
 * {@linkcode FrameEncoderStream}: frames in, bytes out (RFC 6455 §5.2).
 *
 * @module
 */

import { type ChunkSink, FrameEncoder, type FrameEncoderOptions } from "./frame_encoder.ts";

/** Options of {@linkcode FrameEncoderStream}: the same as {@linkcode FrameEncoderOptions}. */
export type FrameEncoderStreamOptions = FrameEncoderOptions;

/** A frame to encode. */
export interface OutgoingFrame {
  /** Opcode: 0-2 for data, 8-10 for control (see {@linkcode Opcode}). */
  opcode: number;
  /** Payload; a string is encoded as UTF-8. */
  payload: Uint8Array | string;
  /**
   * False leaves the message open: continuation frames (opcode 0) follow.
   * @default {true}
   */
  fin?: boolean;
  /**
   * RSV1, for permessage-deflate.
   * @default {false}
   */
  rsv1?: boolean;
}

const encoder = new TextEncoder();

/**
 * Encodes {@linkcode OutgoingFrame}s into bytes with {@linkcode FrameEncoder}:
 * headers and large payloads as separate chunks (payloads are not copied
 * unless masked or under 1 KiB), fragmentation at `maxFrameSize`, optional
 * masking. An invalid frame errors the stream with the encoder's
 * `RangeError`.
 *
 * @example A masked text frame and a close frame, decoded back
 * ```ts
 * import { FrameDecoderStream, FrameEncoderStream } from "@netstreams/netstreams/ws";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const frames = ReadableStream.from([
 *   { opcode: 1, payload: "hi" },
 *   { opcode: 8, payload: new Uint8Array([0x03, 0xe8]) },
 * ]);
 * const out = [];
 * const decoded = frames
 *   .pipeThrough(new FrameEncoderStream({ mask: true }))
 *   .pipeThrough(new FrameDecoderStream());
 * for await (const f of decoded) out.push([f.opcode, [...f.payload]]);
 * deepStrictEqual(out, [[1, [0x68, 0x69]], [8, [0x03, 0xe8]]]);
 * ```
 */
export class FrameEncoderStream extends TransformStream<OutgoingFrame, Uint8Array> {
  readonly #encoder: FrameEncoder;

  /** Validates the options; throws `TypeError`/`RangeError` naming the bad value. */
  constructor(options: FrameEncoderStreamOptions = {}) {
    const frameEncoder = new FrameEncoder(options);
    let emit: ChunkSink;
    super({
      start(controller) {
        emit = (chunk) => controller.enqueue(chunk);
      },
      transform(frame) {
        const payload = frame?.payload;
        const bytes = typeof payload === "string" ? encoder.encode(payload) : payload;
        if (!(bytes instanceof Uint8Array)) {
          throw new TypeError(
            `Cannot write to FrameEncoderStream as payload must be a Uint8Array or a string: current value is ${
              Object.prototype.toString.call(payload)
            }`,
          );
        }
        frameEncoder.encode(frame.opcode, bytes, emit, frame.fin ?? true, frame.rsv1 ?? false);
      },
    });
    this.#encoder = frameEncoder;
  }

  /** Largest data frame payload in bytes. */
  get maxFrameSize(): number {
    return this.#encoder.maxFrameSize;
  }
}
