/**
 * {@linkcode MessageStream}: bytes in, WebSocket messages out (RFC 6455
 * §5.4-§5.6; reference: DataIn DataFormat and EOM, BufferMessage).
 *
 * @module
 */

import { checkChunk } from "./_transformer.ts";
import { MessageCore, type MessageCoreOptions, type MessageHandler } from "./message_core.ts";

/** Options of {@linkcode MessageStream}: the same as {@linkcode MessageCoreOptions}. */
export type MessageStreamOptions = MessageCoreOptions;

/** A text message (valid UTF-8) or a binary one, or a part of it. */
export interface WsDataMessage<T extends "text" | "binary"> {
  /** The message type (reference: DataFormat 1 or 2). */
  type: T;
  /** The message, or this part of it. */
  data: Uint8Array;
  /** End of message: always true when buffering, else true on the last part. */
  eom: boolean;
}

/** A ping (answer it with a pong carrying `data`) or a pong. */
export interface WsControlMessage<T extends "ping" | "pong"> {
  /** The control frame type. */
  type: T;
  /** The control frame's payload. */
  data: Uint8Array;
}

/** The peer's close frame; nothing follows it. */
export interface WsCloseMessage {
  /** Always "close". */
  type: "close";
  /** The close code, 1005 when the frame had none. */
  code: number;
  /** The close reason, possibly empty. */
  reason: string;
}

/** What {@linkcode MessageStream} emits; `type` tells them apart. */
export type WsMessage =
  | WsDataMessage<"text">
  | WsDataMessage<"binary">
  | WsControlMessage<"ping">
  | WsControlMessage<"pong">
  | WsCloseMessage;

/**
 * Decodes a byte stream from a client into {@linkcode WsMessage}s with
 * {@linkcode MessageCore}: whole messages (or parts with `eom`, when
 * `bufferMessage` is false), pings, pongs and the close frame, after which
 * input is ignored. A protocol violation errors the stream with the core's
 * {@linkcode WsProtocolError} (messages not read yet are dropped); so does
 * the end of input inside a frame or message (close code 1006).
 *
 * Payloads are unmasked in place and may be views of the written chunks, so
 * a written chunk must not be used afterwards.
 *
 * @example Echoing what a client sent, as a server reads it
 * ```ts
 * import { FrameEncoderStream, MessageStream } from "@netstreams/netstreams/ws";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const fromClient = ReadableStream.from([
 *   { opcode: 1, payload: "hel", fin: false },
 *   { opcode: 0, payload: "lo" },
 *   { opcode: 8, payload: new Uint8Array([0x03, 0xe8]) },
 * ]).pipeThrough(new FrameEncoderStream({ mask: true }));
 * const out = [];
 * for await (const m of fromClient.pipeThrough(new MessageStream())) {
 *   out.push(m.type === "close" ? m.code : new TextDecoder().decode(m.data));
 * }
 * deepStrictEqual(out, ["hello", 1000]);
 * ```
 */
export class MessageStream extends TransformStream<Uint8Array, WsMessage> {
  readonly #core: MessageCore;

  /** Validates the options; throws `TypeError`/`RangeError` naming the bad value. */
  constructor(options: MessageStreamOptions = {}) {
    const core = new MessageCore(options);
    let handler: MessageHandler;
    super({
      start(controller) {
        handler = {
          message: (data, opcode, eom) =>
            controller.enqueue(
              opcode === 1 ? { type: "text", data, eom } : { type: "binary", data, eom },
            ),
          ping: (data) => controller.enqueue({ type: "ping", data }),
          pong: (data) => controller.enqueue({ type: "pong", data }),
          close: (code, reason) => controller.enqueue({ type: "close", code, reason }),
        };
      },
      transform(chunk) {
        checkChunk(chunk, "MessageStream");
        const err = core.push(chunk, handler);
        if (err !== undefined) throw err;
      },
      flush() {
        const err = core.flush();
        if (err !== undefined) throw err;
      },
    });
    this.#core = core;
  }

  /** Largest message in bytes. */
  get maxPayload(): number {
    return this.#core.maxPayload;
  }

  /** True after the peer's close frame was read. */
  get closed(): boolean {
    return this.#core.closed;
  }
}
