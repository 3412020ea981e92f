/**
 * The incremental message layer behind {@linkcode MessageStream}: frames to
 * messages (RFC 6455 §5.4-§5.6), with size, fragment and UTF-8 checks
 * (reference: DataIn DataFormat and EOM, BufferMessage).
 *
 * @module
 */

import { grow } from "./_grow.ts";
import {
  checkBoolean,
  checkInteger,
  DEFAULT_MAX_FRAGMENTS,
  DEFAULT_MAX_PAYLOAD,
} from "./_options.ts";
import { parseClosePayload } from "./close_frame.ts";
import { WsProtocolError, type WsProtocolErrorCodeName } from "./errors.ts";
import type { Inflater } from "./deflate_engine.ts";
import { FrameDecoderCore } from "./frame_decoder_core.ts";
import type { FrameSink, OpcodeValue } from "./types.ts";
import { Utf8Validator } from "./utf8_validator.ts";
import { engine } from "../_engine.ts";

/** A gathered message starts at most this much larger than what arrived. */
const GATHER_START = 64 * 1024;

/** Options of {@linkcode MessageCore} and {@linkcode MessageStream}. */
export interface MessageCoreOptions {
  /**
   * Largest message in bytes (all its frames). A frame that would take the
   * message past it is refused before any of its payload is buffered: a
   * single frame from its header (`WS_FRAME_TOO_BIG`), a later fragment when
   * its first payload bytes arrive (`WS_MESSAGE_TOO_BIG`); both close 1009. The default is Deno's native limit, below
   * `ws`'s 100 MiB, and fits the 16 MiB messages browsers commonly send.
   * @default {67108864} (64 MiB)
   */
  maxPayload?: number;
  /**
   * Most frames in one message. More is refused (`WS_TOO_MANY_FRAGMENTS`,
   * 1009: the message is too big to process, counted in frames). Buffering
   * costs no memory per fragment here; the limit bounds the work a stream of
   * tiny or empty fragments can cause. The default admits Autobahn case
   * 9.3.1 (4 MiB in 64-byte frames).
   * @default {65536}
   */
  maxFragments?: number;
  /**
   * Deliver each message whole (true), or each part as it arrives with
   * `eom` on the last (false; reference: BufferMessage). Parts of a text
   * message may split a UTF-8 sequence; decode them with a streaming
   * `TextDecoder`.
   * @default {true}
   */
  bufferMessage?: boolean;
  /**
   * Refuse unmasked frames, as a server must (RFC 6455 §5.1).
   * @default {true}
   */
  requireMask?: boolean;
  /**
   * Refuse lengths not in their shortest encoding (see
   * {@linkcode FrameDecoderCoreOptions.strictLengths}).
   * @default {false}
   */
  strictLengths?: boolean;
  /**
   * Decompresses messages with RSV1 set (permessage-deflate, RFC 7692 §6.2)
   * once the extension was negotiated. Without it RSV1 is refused (1002).
   * `maxPayload` then bounds the inflated size (inflating stops as soon as
   * it is passed, 1009) and the compressed size; text is validated after
   * inflating; corrupt data fails with `WS_INVALID_COMPRESSED_DATA` (1007).
   */
  inflater?: Inflater;
}

/** Receives what {@linkcode MessageCore} decodes. Payloads may be views of the pushed chunk. */
export interface MessageHandler {
  /**
   * A whole message, or a part of one when not buffering; `eom` is true on
   * its last part. `opcode` is 1 (text, validated UTF-8) or 2 (binary).
   */
  message(payload: Uint8Array, opcode: 1 | 2, eom: boolean): void;
  /** A ping; the caller answers with a pong carrying the same payload (§5.5.2). */
  ping(payload: Uint8Array): void;
  /** A pong. */
  pong(payload: Uint8Array): void;
  /** A valid close frame (code 1005 when it had no payload); nothing is decoded after it. */
  close(code: number, reason: string): void;
}

/**
 * Reassembles frames into messages, synchronously and incrementally, over a
 * {@linkcode FrameDecoderCore} that streams payloads. It enforces the
 * fragmentation rules (a continuation needs an open message, a new message
 * needs the last one finished; control frames may come in between),
 * `maxPayload` and `maxFragments`, validates text as UTF-8 as bytes arrive
 * (so an invalid sequence fails at once, not at the end of the message) and
 * validates close frames. Like the decoder it is pure: `push` returns the
 * {@linkcode WsProtocolError} and stops. After a close frame it stops and
 * ignores what follows.
 *
 * A single-frame message inside one chunk is delivered as a view of it;
 * a message spanning chunks or frames is gathered when buffering.
 *
 * @example A fragmented text message with a ping in between
 * ```ts
 * import { MessageCore, type MessageHandler } from "@netstreams/netstreams/ws";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const seen: string[] = [];
 * const handler: MessageHandler = {
 *   message: (p, opcode, eom) => seen.push(`${opcode}:${new TextDecoder().decode(p)}:${eom}`),
 *   ping: (p) => seen.push(`ping:${p.length}`),
 *   pong: () => {},
 *   close: (code) => seen.push(`close:${code}`),
 * };
 * const core = new MessageCore({ requireMask: false });
 * core.push(new Uint8Array([0x01, 2, 0x48, 0x65, 0x89, 0, 0x80, 3, 0x6c, 0x6c, 0x6f]), handler);
 * core.push(new Uint8Array([0x88, 2, 0x03, 0xe8]), handler);
 * deepStrictEqual(seen, ["ping:0", "1:Hello:true", "close:1000"]);
 * ```
 */
export class MessageCore {
  readonly #decoder: FrameDecoderCore;
  readonly #maxPayload: number;
  readonly #maxFragments: number;
  readonly #buffer: boolean;
  readonly #utf8 = new Utf8Validator();
  readonly #sink: FrameSink;
  #handler: MessageHandler | undefined = undefined;
  #error: WsProtocolError | undefined = undefined;
  #closed = false;
  /** Opcode of the open message: 0 when none, 1 text, 2 binary. */
  #type = 0;
  /** Bytes and frames of the open message so far. */
  #size = 0;
  #fragments = 0;
  /** The open message is compressed, and its compressed bytes so far. */
  #deflated = false;
  #csize = 0;
  readonly #inflater: Inflater | undefined;
  /** The next part starts a frame. */
  #frameStart = true;
  /** Message size when the current frame ends. */
  #frameEndSize = 0;
  /** The open message, gathered when buffering. */
  #buf: Uint8Array | undefined = undefined;

  /** Validates the options; throws `TypeError`/`RangeError` naming the bad value. */
  constructor(options: MessageCoreOptions = {}) {
    const act = "create MessageCore";
    this.#maxPayload = checkInteger(act, "maxPayload", options.maxPayload, 0, DEFAULT_MAX_PAYLOAD);
    this.#maxFragments = checkInteger(
      act,
      "maxFragments",
      options.maxFragments,
      1,
      DEFAULT_MAX_FRAGMENTS,
    );
    this.#buffer = checkBoolean(act, "bufferMessage", options.bufferMessage, true);
    this.#inflater = options.inflater;
    this.#decoder = new FrameDecoderCore({
      allowRsv1: options.inflater !== undefined,
      requireMask: options.requireMask,
      strictLengths: options.strictLengths,
      maxFrameSize: this.#maxPayload,
      streamPayload: true,
    });
    this.#sink = (payload, opcode, fin, rsv1, frameEnd) => {
      if (opcode > 7) this.#control(payload, opcode);
      else this.#data(payload, opcode, fin, rsv1, frameEnd);
    };
  }

  /** Largest message in bytes. */
  get maxPayload(): number {
    return this.#maxPayload;
  }

  /** Most frames in one message. */
  get maxFragments(): number {
    return this.#maxFragments;
  }

  /** True after a close frame was received. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Feeds bytes; calls `handler` for everything they complete. Returns the
   * protocol error that stopped decoding, else undefined. The handler must
   * not call `push` or `flush`.
   */
  push(chunk: Uint8Array, handler: MessageHandler): WsProtocolError | undefined {
    if (this.#error !== undefined || this.#closed) return this.#error;
    this.#handler = handler;
    const err = this.#decoder.push(chunk, this.#sink);
    this.#handler = undefined;
    if (err !== undefined && this.#error === undefined) this.#error = err;
    return this.#error;
  }

  /**
   * End of input: returns `WS_TRUNCATED_FRAME` or `WS_UNFINISHED_MESSAGE`
   * (close code 1006) when it comes inside a frame or a message, the
   * stopping error if any, else undefined. Nothing is missing after a close.
   */
  flush(): WsProtocolError | undefined {
    if (this.#error !== undefined || this.#closed) return this.#error;
    const err = this.#decoder.flush();
    if (err !== undefined) return this.#error = err;
    if (this.#type !== 0) {
      return this.#fail("WS_UNFINISHED_MESSAGE", "The input ended inside a fragmented message");
    }
    return undefined;
  }

  #fail(code: WsProtocolErrorCodeName, message: string): WsProtocolError {
    this.#decoder.stop();
    this.#buf = undefined;
    return this.#error = new WsProtocolError(code, message);
  }

  /** Inflates a part of a compressed message within maxPayload; undefined after a failure. */
  #inflate(payload: Uint8Array, eom: boolean): Uint8Array | undefined {
    const room = this.#maxPayload - this.#size;
    let out: Uint8Array | undefined;
    try {
      out = this.#inflater!.inflate(payload, eom, room);
    } catch (error) {
      this.#fail(
        "WS_INVALID_COMPRESSED_DATA",
        `Received a compressed message that cannot be inflated: ${
          error instanceof Error ? error.message : error
        } (RFC 7692 §8)`,
      );
      return undefined;
    }
    if (out === undefined) {
      this.#fail(
        "WS_MESSAGE_TOO_BIG",
        `Received a compressed message that inflates to more than ${this.#maxPayload} bytes (maxPayload)`,
      );
    }
    return out;
  }

  #control(payload: Uint8Array, opcode: OpcodeValue): void {
    const handler = this.#handler!;
    if (opcode === 9) return handler.ping(payload);
    if (opcode === 10) return handler.pong(payload);
    const info = parseClosePayload(payload);
    if (info instanceof WsProtocolError) {
      this.#decoder.stop();
      this.#error = info;
      return;
    }
    this.#closed = true;
    this.#decoder.stop();
    handler.close(info.code, info.reason);
  }

  #data(
    payload: Uint8Array,
    opcode: OpcodeValue,
    fin: boolean,
    rsv1: boolean,
    frameEnd: boolean,
  ): void {
    let type = this.#type;
    if (this.#frameStart) {
      // A frame header: fragmentation rules (§5.4), then the limits.
      if (opcode === 0) {
        if (type === 0) {
          this.#fail(
            "WS_UNEXPECTED_CONTINUATION",
            "Received a continuation frame with no message open (RFC 6455 §5.4)",
          );
          return;
        }
      } else if (type !== 0) {
        this.#fail(
          "WS_EXPECTED_CONTINUATION",
          `Received a new ${
            opcode === 1 ? "text" : "binary"
          } frame while a message was open (RFC 6455 §5.4)`,
        );
        return;
      } else {
        type = this.#type = opcode;
        this.#size = 0;
        this.#fragments = 0;
        this.#deflated = rsv1; // RSV1 on the first frame only (§6.1); the decoder refuses it elsewhere
        this.#csize = 0;
      }
      if (++this.#fragments > this.#maxFragments) {
        this.#fail(
          "WS_TOO_MANY_FRAGMENTS",
          `Received a message of more than ${this.#maxFragments} frames (maxFragments)`,
        );
        return;
      }
      const total = this.#frameEndSize = (this.#deflated ? this.#csize : this.#size) +
        this.#decoder.frameLength;
      if (total > this.#maxPayload) {
        this.#fail(
          "WS_MESSAGE_TOO_BIG",
          `Received a message of at least ${total} bytes; maxPayload is ${this.#maxPayload}`,
        );
        return;
      }
    }
    this.#frameStart = frameEnd;
    const eom = fin && frameEnd;
    if (this.#deflated) {
      this.#csize += payload.length;
      const out = this.#inflate(payload, eom);
      if (out === undefined) return;
      payload = out;
    }
    if (type === 1 && !this.#validUtf8(payload, eom)) {
      this.#fail(
        "WS_INVALID_UTF8",
        "Received a text message that is not valid UTF-8 (RFC 6455 §8.1)",
      );
      return;
    }
    if (eom) this.#type = 0;
    const size = this.#size;
    const need = this.#size = size + payload.length;
    const handler = this.#handler!;
    if (!this.#buffer) {
      if (payload.length > 0 || eom) handler.message(payload, type as 1 | 2, eom);
      return;
    }
    // The whole message is this part: no copy.
    if (size === 0 && eom) return handler.message(payload, type as 1 | 2, true);
    let buf = this.#buf;
    if (payload.length > 0) {
      // Grows by doubling from what arrived (not what a header claims), up
      // to the message size when this frame ends it, else to maxPayload.
      // Inflated sizes are unknown ahead: up to maxPayload.
      const end = this.#deflated ? this.#maxPayload : this.#frameEndSize;
      const first = end < need + GATHER_START ? end : need + GATHER_START;
      buf = this.#buf = grow(
        buf,
        size,
        need,
        first,
        fin && !this.#deflated ? end : this.#maxPayload,
      );
      buf.set(payload, size);
    }
    if (eom) {
      this.#buf = undefined;
      handler.message(buf!.length === need ? buf! : buf!.subarray(0, need), type as 1 | 2, true);
    }
  }

  /** Whether the text so far is valid UTF-8 and, at `eom`, complete; a whole message may be checked natively. */
  #validUtf8(payload: Uint8Array, eom: boolean): boolean {
    const native = engine.isUtf8;
    if (
      native !== undefined && eom && this.#size === 0 && payload.length >= engine.nativeUtf8From
    ) {
      return native(payload);
    }
    const v = this.#utf8;
    if (v.push(payload) && (!eom || v.end())) return true;
    v.reset();
    return false;
  }
}
