/**
 * The incremental RFC 6455 §5 frame parser behind {@linkcode FrameDecoderStream}.
 *
 * @module
 */

import { pieceOf } from "../codec/_carry.ts";
import { grow } from "./_grow.ts";
import { xorMask } from "./_mask.ts";
import { checkBoolean, checkInteger, DEFAULT_MAX_PAYLOAD } from "./_options.ts";
import type { WsProtocolError } from "./errors.ts";
import { FrameHead, truncated } from "./_frame_header.ts";
import type { FrameSink, OpcodeValue } from "./types.ts";

// Named states, in the order a frame's fields arrive (RFC 6455 §5.2).
const OPCODE = 0; // waiting for byte 0: FIN, RSV1-3, opcode
const LENGTH = 1; // waiting for byte 1: MASK, 7-bit payload length
const EXTENDED_LENGTH = 2; // collecting the 16- or 64-bit extended length
const MASK_KEY = 3; // collecting the 4-byte masking key
const PAYLOAD = 4; // receiving payload bytes
const FAILED = 5; // a protocol error was reported; nothing more is decoded
const STOPPED = 6; // stop() was called; nothing more is decoded

const EMPTY = new Uint8Array(0);
/** A gathered payload starts at most this big and doubles as bytes arrive. */
const GATHER_START = 64 * 1024;

/** Options of {@linkcode FrameDecoderCore} and {@linkcode FrameDecoderStream}. */
export interface FrameDecoderCoreOptions {
  /**
   * Refuse unmasked frames (`WS_UNMASKED_FRAME`, 1002), as a server must
   * (RFC 6455 §5.1). When false, masked and unmasked frames are accepted.
   * @default {true}
   */
  requireMask?: boolean;
  /**
   * Largest data frame payload in bytes. A longer frame is refused from its
   * header (`WS_FRAME_TOO_BIG`, 1009), before any payload is buffered.
   * Control frames are limited to 125 bytes by the RFC.
   * @default {67108864} (64 MiB)
   */
  maxFrameSize?: number;
  /**
   * Accept RSV1 on text and binary frames (permessage-deflate, RFC 7692 §6).
   * RSV1 stays refused on continuation and control frames; RSV2 and RSV3 are
   * always refused.
   * @default {false}
   */
  allowRsv1?: boolean;
  /**
   * Emit data frame payloads as they arrive, in parts, instead of gathering
   * each frame whole; only the last part has `frameEnd` true. Control frames
   * always come whole.
   * @default {false}
   */
  streamPayload?: boolean;
  /**
   * Refuse lengths not in their shortest encoding (`WS_NON_MINIMAL_LENGTH`,
   * 1002). RFC 6455 §5.2 puts this MUST on the sender; browsers, `ws` and
   * uWebSockets accept such frames, so the default does too.
   * @default {false}
   */
  strictLengths?: boolean;
}

/**
 * Parses WebSocket frames (RFC 6455 §5) synchronously and incrementally, as
 * a named-state machine (opcode, length, extended length, masking key,
 * payload) that validates each field in the RFC's order as soon as it
 * arrives: RSV bits, reserved opcodes, fragmented control frames, the mask
 * bit, control frames over 125 bytes, 64-bit lengths with the top bit set,
 * then `maxFrameSize`.
 *
 * It is pure: on a violation `push` returns a {@linkcode WsProtocolError}
 * (with `code` and `closeCode`) and the core stops; later calls return the
 * same error. The caller decides what to send and whether to drop.
 *
 * Payloads are unmasked in place, so the pushed chunk is modified. A frame
 * inside one chunk is emitted as a view of it (no copy); a frame spanning
 * chunks is gathered into an array the core hands over, unless
 * `streamPayload` is set, in which case data frames come in parts as views.
 *
 * @example Decoding a masked text frame split across two chunks
 * ```ts
 * import { FrameDecoderCore } from "@netstreams/netstreams/ws";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const core = new FrameDecoderCore();
 * const out: [number, boolean, string][] = [];
 * const emit = (payload: Uint8Array, opcode: number, fin: boolean) => {
 *   out.push([opcode, fin, new TextDecoder().decode(payload)]);
 * };
 * // "Hello" masked with 37 fa 21 3d (RFC 6455 §5.7)
 * core.push(new Uint8Array([0x81, 0x85, 0x37, 0xfa, 0x21]), emit);
 * core.push(new Uint8Array([0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]), emit);
 * deepStrictEqual(out, [[1, true, "Hello"]]);
 * ```
 */
export class FrameDecoderCore {
  readonly #h: FrameHead;
  readonly #stream: boolean;
  #state = OPCODE;
  #error: WsProtocolError | undefined = undefined;
  /** The current frame is a data frame emitted in parts. */
  #streamData = false;
  /** Payload bytes of the current frame received so far. */
  #done = 0;
  /** A payload being gathered across chunks. */
  #buf: Uint8Array | undefined = undefined;

  /** Validates the options; throws `TypeError`/`RangeError` naming the bad value. */
  constructor(options: FrameDecoderCoreOptions = {}) {
    const act = "create FrameDecoderCore";
    this.#h = new FrameHead(
      checkBoolean(act, "requireMask", options.requireMask, true),
      checkBoolean(act, "allowRsv1", options.allowRsv1, false),
      checkBoolean(act, "strictLengths", options.strictLengths, false),
      checkInteger(act, "maxFrameSize", options.maxFrameSize, 0, DEFAULT_MAX_PAYLOAD),
    );
    this.#stream = checkBoolean(act, "streamPayload", options.streamPayload, false);
  }

  /** Largest data frame payload in bytes. */
  get maxFrameSize(): number {
    return this.#h.maxFrameSize;
  }

  /** Payload length of the frame being emitted (all its parts), in bytes. */
  get frameLength(): number {
    return this.#h.length;
  }

  /** The error that stopped the core, if any. */
  get error(): WsProtocolError | undefined {
    return this.#error;
  }

  /**
   * Feeds bytes; calls `emit` for every frame (or part) they complete.
   * Returns the protocol error that stopped decoding, else undefined.
   * `emit` must not call `push` or `flush`.
   */
  push(chunk: Uint8Array, emit: FrameSink): WsProtocolError | undefined {
    const n = chunk.length;
    const h = this.#h;
    let i = 0;
    while (i < n) {
      switch (this.#state) {
        case OPCODE: {
          const err = h.byte0(chunk[i++]);
          if (err !== undefined) return this.#stop(err);
          this.#state = LENGTH;
          if (i < n) i = this.#header(chunk, i, emit); // usually the whole header is here
          break;
        }
        case LENGTH:
          i = this.#header(chunk, i, emit);
          break;
        case EXTENDED_LENGTH: {
          i = h.collect(chunk, i, h.ext);
          if (h.have < h.ext) break;
          h.have = 0;
          const err = h.extLength(h.bytes, 0);
          if (err !== undefined) return this.#stop(err);
          if (h.masked) this.#state = MASK_KEY;
          else this.#payloadStart(emit);
          break;
        }
        case MASK_KEY:
          i = h.collect(chunk, i, 4);
          if (h.have < 4) break;
          h.have = 0;
          h.maskKey(h.bytes, 0);
          this.#payloadStart(emit);
          break;
        case PAYLOAD:
          i = this.#payload(chunk, i, emit);
          break;
        default:
          return this.#error;
      }
    }
    return this.#state === FAILED ? this.#error : undefined;
  }

  /**
   * Called from inside `emit` (or between pushes): `push` returns after the
   * current frame and the core decodes nothing more; the rest of the chunk
   * is left as it is. Used after a close frame or a message-level error.
   */
  stop(): void {
    if (this.#state !== FAILED) this.#state = STOPPED;
    this.#buf = undefined;
  }

  /**
   * End of input. Returns `WS_TRUNCATED_FRAME` (close code 1006) when it
   * comes inside a frame, the stopping error if any, else undefined.
   */
  flush(): WsProtocolError | undefined {
    const state = this.#state;
    if (state === OPCODE || state === FAILED || state === STOPPED) return this.#error;
    const where = state === PAYLOAD
      ? `after ${this.#done} of ${this.#h.length} payload bytes`
      : "inside a frame header";
    return this.#stop(truncated(where));
  }

  #stop(error: WsProtocolError): WsProtocolError {
    this.#state = FAILED;
    this.#buf = undefined;
    return this.#error = error;
  }

  /**
   * Byte 1 at `chunk[i]`, then the rest of the header when the chunk holds
   * it (else the states collect it). Returns the new position, `n` on error.
   */
  #header(chunk: Uint8Array, i: number, emit: FrameSink): number {
    const h = this.#h;
    const n = chunk.length;
    let err = h.byte1(chunk[i++]);
    if (err !== undefined) return this.#stop(err), n;
    this.#streamData = this.#stream && h.opcode < 8;
    const ext = h.ext;
    if (n - i < ext + (h.masked ? 4 : 0)) {
      this.#state = ext > 0 ? EXTENDED_LENGTH : MASK_KEY;
      return i;
    }
    if (ext > 0) {
      if ((err = h.extLength(chunk, i)) !== undefined) return this.#stop(err), n;
      i += ext;
    }
    if (h.masked) h.maskKey(chunk, i), i += 4;
    this.#payloadStart(emit);
    return i;
  }

  /** The header is complete: an empty payload is emitted at once. */
  #payloadStart(emit: FrameSink): void {
    const h = this.#h;
    this.#done = 0;
    this.#state = PAYLOAD;
    if (h.length === 0) {
      this.#state = OPCODE;
      emit(EMPTY, h.opcode as OpcodeValue, h.fin, h.rsv1, true);
    }
  }

  /** Payload bytes from `chunk[i]`; returns the new position. */
  #payload(chunk: Uint8Array, i: number, emit: FrameSink): number {
    const h = this.#h;
    const avail = chunk.length - i;
    const done = this.#done;
    const rem = h.length - done;
    const take = avail < rem ? avail : rem;
    let buf = this.#buf;
    let out: Uint8Array;
    if (buf === undefined && (take === rem || this.#streamData)) {
      // A view of the chunk: the whole frame, or a streamed part (a short one
      // copied where views are costly, see pieceCopy).
      out = pieceOf(chunk, i, i + take);
      if (h.masked) xorMask(out, h.m0, h.m1, h.m2, h.m3, done & 3);
    } else {
      // Gather: grow by doubling up to the frame length, as bytes arrive.
      const need = done + take;
      buf = this.#buf = grow(buf, done, need, GATHER_START, h.length);
      buf.set(take === avail && i === 0 ? chunk : chunk.subarray(i, i + take), done);
      if (take < rem) {
        this.#done = need;
        return i + take;
      }
      this.#buf = undefined;
      out = buf; // exactly the frame length: the cap never exceeds it
      if (h.masked) xorMask(out, h.m0, h.m1, h.m2, h.m3, 0);
    }
    this.#done = done + take;
    const end = take === rem;
    if (end) this.#state = OPCODE;
    emit(out, h.opcode as OpcodeValue, h.fin, h.rsv1, end);
    return i + take;
  }
}
