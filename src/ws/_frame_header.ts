/**
 * Internal: the header of the frame being decoded, and the checks on its
 * fields (RFC 6455 §5.1, §5.2, §5.5) in the order they arrive. Each check
 * returns the error to report or undefined.
 *
 * @module
 */

import { WsProtocolError, type WsProtocolErrorCodeName } from "./errors.ts";

/** Opcode names for messages. */
export const OPCODE_NAMES = [
  "continuation",
  "text",
  "binary",
  "",
  "",
  "",
  "",
  "",
  "close",
  "ping",
  "pong",
];

function error(code: WsProtocolErrorCodeName, message: string): WsProtocolError {
  return new WsProtocolError(code, `${message} (RFC 6455 §5)`);
}

/** Byte 0: RSV bits, reserved opcodes, then FIN on control frames. */
export function checkByte0(b: number, allowRsv1: boolean): WsProtocolError | undefined {
  const opcode = b & 0x0f;
  if ((b & 0x30) !== 0) {
    return error("WS_RESERVED_BITS", `Received a frame with RSV${b & 0x20 ? 2 : 3} set`);
  }
  if ((opcode > 2 && opcode < 8) || opcode > 10) {
    return error("WS_RESERVED_OPCODE", `Received reserved opcode ${opcode}`);
  }
  if ((b & 0x40) !== 0 && (!allowRsv1 || opcode === 0 || opcode > 2)) {
    const why = allowRsv1 ? "; only text and binary frames may set it" : "";
    return error(
      "WS_RESERVED_BITS",
      `Received a ${OPCODE_NAMES[opcode]} frame with RSV1 set${why}`,
    );
  }
  if ((b & 0x80) === 0 && opcode > 7) {
    return error(
      "WS_FRAGMENTED_CONTROL",
      `Received a ${
        OPCODE_NAMES[opcode]
      } frame with FIN clear; control frames cannot be fragmented`,
    );
  }
  return undefined;
}

/** Byte 1: the mask bit, then the 7-bit length of control frames. */
export function checkByte1(
  b: number,
  opcode: number,
  requireMask: boolean,
): WsProtocolError | undefined {
  if ((b & 0x80) === 0 && requireMask) {
    return error("WS_UNMASKED_FRAME", "Received an unmasked frame; clients must mask");
  }
  if (opcode > 7 && (b & 0x7f) > 125) {
    return error(
      "WS_CONTROL_TOO_LONG",
      `Received a ${OPCODE_NAMES[opcode]} frame longer than 125 bytes`,
    );
  }
  return undefined;
}

/**
 * Reads the 2- or 8-byte extended length at `b[at]`. Returns it, or an error
 * for a 64-bit length with its top bit set, or (when `strict`) a length that
 * fits a shorter encoding.
 */
export function readExtLength(
  b: Uint8Array,
  at: number,
  ext: number,
  strict: boolean,
): number | WsProtocolError {
  if (ext === 2) {
    const len = (b[at] << 8) | b[at + 1];
    if (len < 126 && strict) {
      return error("WS_NON_MINIMAL_LENGTH", `Received length ${len} in 16 bits`);
    }
    return len;
  }
  const hi = ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
  const lo = ((b[at + 4] << 24) | (b[at + 5] << 16) | (b[at + 6] << 8) | b[at + 7]) >>> 0;
  if (hi >= 0x80000000) {
    return error(
      "WS_LENGTH_OVERFLOW",
      "Received a 64-bit payload length with its most significant bit set",
    );
  }
  const len = hi * 0x100000000 + lo;
  if (len < 65536 && strict) {
    return error("WS_NON_MINIMAL_LENGTH", `Received length ${len} in 64 bits`);
  }
  return len;
}

/** A data frame longer than `max`. */
function frameTooBig(opcode: number, len: number, max: number): WsProtocolError {
  return error(
    "WS_FRAME_TOO_BIG",
    `Received a ${OPCODE_NAMES[opcode]} frame of ${len} bytes; maxFrameSize is ${max}`,
  );
}

/** End of input inside a frame. */
export function truncated(where: string): WsProtocolError {
  return error("WS_TRUNCATED_FRAME", `The input ended ${where}`);
}

/** The header fields of the frame being decoded, with the decoder's limits. */
export class FrameHead {
  readonly requireMask: boolean;
  readonly allowRsv1: boolean;
  readonly strict: boolean;
  readonly maxFrameSize: number;
  opcode = 0;
  fin = false;
  rsv1 = false;
  masked = false;
  /** Bytes of extended length: 0, 2 or 8. */
  ext = 0;
  /** Payload length in bytes. */
  length = 0;
  m0 = 0;
  m1 = 0;
  m2 = 0;
  m3 = 0;
  /** Extended length or masking key bytes carried between chunks, and their count. */
  readonly bytes = new Uint8Array(8);
  have = 0;

  constructor(requireMask: boolean, allowRsv1: boolean, strict: boolean, maxFrameSize: number) {
    this.requireMask = requireMask;
    this.allowRsv1 = allowRsv1;
    this.strict = strict;
    this.maxFrameSize = maxFrameSize;
  }

  /** Byte 0: FIN, RSV1-3, opcode (§5.2), then control frames unfragmented (§5.5). */
  byte0(b: number): WsProtocolError | undefined {
    const err = checkByte0(b, this.allowRsv1);
    if (err !== undefined) return err;
    this.opcode = b & 0x0f;
    this.fin = (b & 0x80) !== 0;
    this.rsv1 = (b & 0x40) !== 0;
    return undefined;
  }

  /** Byte 1: MASK (§5.1), 7-bit length (§5.2, §5.5); sets `ext`. */
  byte1(b: number): WsProtocolError | undefined {
    const err = checkByte1(b, this.opcode, this.requireMask);
    if (err !== undefined) return err;
    this.masked = (b & 0x80) !== 0;
    const len = b & 0x7f;
    this.ext = len < 126 ? 0 : len === 126 ? 2 : 8;
    return len < 126 ? this.#setLength(len) : undefined;
  }

  /** The extended length at `b[at]` (§5.2). */
  extLength(b: Uint8Array, at: number): WsProtocolError | undefined {
    const len = readExtLength(b, at, this.ext, this.strict);
    return typeof len === "number" ? this.#setLength(len) : len;
  }

  /** The masking key at `b[at]` (§5.3). */
  maskKey(b: Uint8Array, at: number): void {
    this.m0 = b[at];
    this.m1 = b[at + 1];
    this.m2 = b[at + 2];
    this.m3 = b[at + 3];
  }

  /** Copies header bytes into `bytes` until it holds `want`; returns the new position. */
  collect(chunk: Uint8Array, i: number, want: number): number {
    let have = this.have;
    const bytes = this.bytes;
    while (have < want && i < chunk.length) bytes[have++] = chunk[i++];
    this.have = have;
    return i;
  }

  #setLength(len: number): WsProtocolError | undefined {
    if (len > this.maxFrameSize && this.opcode < 8) {
      return frameTooBig(this.opcode, len, this.maxFrameSize);
    }
    this.length = len;
    return undefined;
  }
}
