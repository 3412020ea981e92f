/**
 * Shared shapes of the WebSocket codecs: opcodes and frames (RFC 6455 §5.2).
 *
 * @module
 */

/**
 * Frame opcodes (RFC 6455 §5.2, §11.8). 3-7 and 11-15 are reserved.
 *
 * @example Telling control frames from data frames
 * ```ts
 * import { isControlOpcode, Opcode } from "@netstreams/netstreams/ws";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * deepStrictEqual([Opcode.Text, Opcode.Ping].map(isControlOpcode), [false, true]);
 * ```
 */
export const Opcode = {
  /** 0: continues a fragmented text or binary message. */
  Continuation: 0,
  /** 1: first (or only) frame of a text message. */
  Text: 1,
  /** 2: first (or only) frame of a binary message. */
  Binary: 2,
  /** 8: close. */
  Close: 8,
  /** 9: ping. */
  Ping: 9,
  /** 10: pong. */
  Pong: 10,
} as const;

/** One of the values of {@linkcode Opcode}. */
export type OpcodeValue = typeof Opcode[keyof typeof Opcode];

/**
 * Whether `opcode` is a control opcode (close, ping, pong; the high bit of
 * the 4-bit opcode is set, RFC 6455 §5.5).
 *
 * @example Ping is a control frame
 * ```ts
 * import { isControlOpcode } from "@netstreams/netstreams/ws";
 * import { ok } from "node:assert/strict";
 *
 * ok(isControlOpcode(9));
 * ```
 */
export function isControlOpcode(opcode: number): boolean {
  return (opcode & 8) !== 0;
}

/**
 * A decoded frame, or a part of one. Control frames (and, unless the decoder
 * streams payloads, every frame) come whole, with `frameEnd` true. When
 * payloads are streamed, a data frame may come as several parts sharing its
 * `opcode`, `fin` and `rsv1`, and only the last part has `frameEnd` true.
 */
export interface Frame {
  /** The frame's opcode (see {@linkcode Opcode}). */
  opcode: OpcodeValue;
  /** FIN: this frame ends its message. */
  fin: boolean;
  /** RSV1 (only ever set when the decoder allows it, for permessage-deflate). */
  rsv1: boolean;
  /** Unmasked payload bytes (of this part). */
  payload: Uint8Array;
  /** True on the part that completes the frame's payload. */
  frameEnd: boolean;
}

/**
 * Receives each decoded frame or frame part (see {@linkcode Frame}).
 * `payload` may be a view of the chunk being pushed.
 */
export type FrameSink = (
  payload: Uint8Array,
  opcode: OpcodeValue,
  fin: boolean,
  rsv1: boolean,
  frameEnd: boolean,
) => void;
