/**
 * Frame encoding (RFC 6455 §5.2): headers written apart from payloads,
 * optional masking, fragmentation at `maxFrameSize` (reference: MaxFrameSize).
 *
 * @module
 */

import { xorMask } from "./_mask.ts";
import { checkInteger, DEFAULT_MAX_OUTGOING_FRAME } from "./_options.ts";

/** Payloads up to this many bytes are copied behind their header into one chunk. */
const SMALL = 1024;
/** Random masking keys drawn from the system at once (256 keys). */
const POOL = 1024;

/** Options of {@linkcode FrameEncoder} and {@linkcode FrameEncoderStream}. */
export interface FrameEncoderOptions {
  /**
   * Largest data frame payload in bytes; longer text and binary payloads are
   * split into a frame and continuation frames (reference: MaxFrameSize).
   * Must be >= 1. The default keeps ordinary messages in one frame.
   * @default {16777216} (16 MiB)
   */
  maxFrameSize?: number;
  /**
   * Mask payloads, as a client must (RFC 6455 §5.3): `true` draws a random
   * key per frame with `crypto.getRandomValues`; a 4-byte array uses that key
   * for every frame (for tests only: a client must use fresh keys). Masked
   * payloads are copied, never modified.
   * @default {false}
   */
  mask?: boolean | Uint8Array;
}

/** Receives encoded bytes, one chunk per call. */
export type ChunkSink = (chunk: Uint8Array) => void;

/**
 * Header size in bytes for a payload of `length` bytes: 2, 4 or 10, plus 4
 * when masked.
 *
 * @example Sizes at the length-encoding edges
 * ```ts
 * import { frameHeaderSize } from "@netstreams/netstreams/ws";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * deepStrictEqual([125, 126, 65536].map((n) => frameHeaderSize(n, false)), [2, 4, 10]);
 * ```
 */
export function frameHeaderSize(length: number, masked: boolean): number {
  return (length < 126 ? 2 : length < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

/**
 * Writes a frame header into `target` at `offset` and returns the offset
 * after it, so a server can gather headers and small payloads in one write
 * buffer. The length is written in its shortest form. No checks are made
 * here (see {@linkcode FrameEncoder} for a checked encoder).
 *
 * @example A 300-byte final binary frame
 * ```ts
 * import { writeFrameHeader } from "@netstreams/netstreams/ws";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const head = new Uint8Array(4);
 * writeFrameHeader(head, 0, 2, 300);
 * deepStrictEqual([...head], [0x82, 126, 1, 44]);
 * ```
 */
export function writeFrameHeader(
  target: Uint8Array,
  offset: number,
  opcode: number,
  length: number,
  fin = true,
  rsv1 = false,
  mask?: Uint8Array,
): number {
  let at = offset;
  target[at++] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  const m = mask === undefined ? 0 : 0x80;
  if (length < 126) target[at++] = m | length;
  else if (length < 65536) {
    target[at++] = m | 126;
    target[at++] = length >>> 8;
    target[at++] = length & 0xff;
  } else {
    const hi = Math.floor(length / 0x100000000);
    target[at++] = m | 127;
    target[at++] = hi >>> 24;
    target[at++] = (hi >>> 16) & 0xff;
    target[at++] = (hi >>> 8) & 0xff;
    target[at++] = hi & 0xff;
    target[at++] = length >>> 24;
    target[at++] = (length >>> 16) & 0xff;
    target[at++] = (length >>> 8) & 0xff;
    target[at++] = length & 0xff;
  }
  if (mask !== undefined) {
    target[at++] = mask[0];
    target[at++] = mask[1];
    target[at++] = mask[2];
    target[at++] = mask[3];
  }
  return at;
}

/**
 * Encodes frames, checking what the RFC requires of a sender: a known
 * opcode, control frames final and at most 125 bytes (§5.5). Text and binary
 * payloads longer than `maxFrameSize` go out as a frame and continuation
 * frames (RSV1 only on the first, RFC 7692 §6.1).
 *
 * Unmasked, each frame is its header as one chunk and its payload as
 * another (a view, never copied), except that payloads up to 1 KiB are
 * copied behind the header into a single chunk. Masked, each frame is one
 * new chunk holding the header and a masked copy of the payload.
 *
 * @example A 5-byte text message fragmented at 2 bytes
 * ```ts
 * import { FrameEncoder } from "@netstreams/netstreams/ws";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const chunks: number[][] = [];
 * new FrameEncoder({ maxFrameSize: 2 }).encode(1, new TextEncoder().encode("Hello"), (c) => {
 *   chunks.push([...c]);
 * });
 * deepStrictEqual(chunks, [
 *   [0x01, 2, 0x48, 0x65],
 *   [0x00, 2, 0x6c, 0x6c],
 *   [0x80, 1, 0x6f],
 * ]);
 * ```
 */
export class FrameEncoder {
  readonly #maxFrameSize: number;
  readonly #fixedKey: Uint8Array | undefined;
  readonly #masked: boolean;
  #pool: Uint8Array<ArrayBuffer> | undefined = undefined;
  #poolAt = POOL;

  /** Validates the options; throws `TypeError`/`RangeError` naming the bad value. */
  constructor(options: FrameEncoderOptions = {}) {
    const act = "create FrameEncoder";
    const max = options.maxFrameSize;
    this.#maxFrameSize = checkInteger(act, "maxFrameSize", max, 1, DEFAULT_MAX_OUTGOING_FRAME);
    const mask = options.mask;
    if (mask instanceof Uint8Array) {
      if (mask.length !== 4) {
        throw new RangeError(
          `Cannot ${act} as mask must be 4 bytes long: current length is ${mask.length}`,
        );
      }
      this.#fixedKey = mask.slice();
    } else if (mask !== undefined && typeof mask !== "boolean") {
      throw new TypeError(
        `Cannot ${act} as mask must be a boolean or a 4-byte Uint8Array: current value is ${mask}`,
      );
    }
    this.#masked = mask !== undefined && mask !== false;
  }

  /** Largest data frame payload in bytes. */
  get maxFrameSize(): number {
    return this.#maxFrameSize;
  }

  /**
   * Encodes one frame (or, for text and binary payloads over
   * `maxFrameSize`, several) and passes its chunks to `emit`. `fin` false
   * leaves the message open for continuation frames. Throws `RangeError`
   * for an unknown opcode or a control frame that is fragmented or over 125
   * bytes.
   */
  encode(opcode: number, payload: Uint8Array, emit: ChunkSink, fin = true, rsv1 = false): void {
    if (!Number.isInteger(opcode) || (opcode > 2 && opcode < 8) || opcode < 0 || opcode > 10) {
      throw new RangeError(
        `Cannot encode a frame as opcode must be 0-2 or 8-10: current value is ${opcode}`,
      );
    }
    if (opcode > 7 && (payload.length > 125 || !fin || rsv1)) {
      throw new RangeError(
        `Cannot encode a control frame as it must be final, without RSV1 and at most 125 bytes: current length is ${payload.length}, fin ${fin}, rsv1 ${rsv1}`,
      );
    }
    const max = this.#maxFrameSize;
    if (payload.length <= max || opcode > 7) return this.#frame(opcode, payload, emit, fin, rsv1);
    for (let at = 0; at < payload.length; at += max) {
      const last = at + max >= payload.length;
      this.#frame(
        at === 0 ? opcode : 0,
        payload.subarray(at, at + max),
        emit,
        fin && last,
        rsv1 && at === 0,
      );
    }
  }

  #frame(opcode: number, payload: Uint8Array, emit: ChunkSink, fin: boolean, rsv1: boolean): void {
    const n = payload.length;
    if (this.#masked) {
      const key = this.#key();
      const head = frameHeaderSize(n, true);
      const out = new Uint8Array(head + n);
      writeFrameHeader(out, 0, opcode, n, fin, rsv1, key);
      out.set(payload, head);
      xorMask(out.subarray(head), key[0], key[1], key[2], key[3], 0);
      return emit(out);
    }
    if (n <= SMALL) {
      const out = new Uint8Array(frameHeaderSize(n, false) + n);
      out.set(payload, writeFrameHeader(out, 0, opcode, n, fin, rsv1));
      return emit(out);
    }
    const head = new Uint8Array(frameHeaderSize(n, false));
    writeFrameHeader(head, 0, opcode, n, fin, rsv1);
    emit(head);
    emit(payload);
  }

  /** The fixed key, or the next random one from a pool refilled 256 keys at a time. */
  #key(): Uint8Array {
    if (this.#fixedKey !== undefined) return this.#fixedKey;
    if (this.#poolAt >= POOL) {
      this.#pool ??= new Uint8Array(POOL);
      crypto.getRandomValues(this.#pool);
      this.#poolAt = 0;
    }
    const at = this.#poolAt;
    this.#poolAt = at + 4;
    return this.#pool!.subarray(at, at + 4);
  }
}
