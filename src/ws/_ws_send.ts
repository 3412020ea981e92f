/**
 * Internal: writing server frames (RFC 6455 §5.2, unmasked) to a byte sink,
 * with fragmentation at `maxFrameSize`. Small payloads go out in one chunk
 * with their header; larger ones as a header chunk and the payload itself
 * (never copied unless the caller asks, for borrowed bytes): the connection
 * gathers the two into one system call.
 *
 * @module
 */

import { writeFrameHeader } from "./frame_encoder.ts";
import { put } from "../net/_connection_stage.ts";
import { LARGE_BUFFERS, type LendingPool, takeBuffer } from "../runtime/buffer_pool.ts";

/** Where frames go: a connection, or a hold queue. */
export interface ChunkOut {
  /** Queues a chunk; false above the high-water mark. */
  write(chunk: Uint8Array): boolean;
  /** Room for `n` bytes at `stageBuffer[at]` to fill at once, or -1 (a connection in a read batch). */
  _reserve?(n: number): number;
  /** Where `_reserve` made room. */
  readonly _stageBuffer?: Uint8Array;
  /** Writes `buf[0, len)`, lent from `pool` until written. */
  _writeLent?(pool: LendingPool, buf: Uint8Array, len: number): boolean;
  /** Gives back the last `n` reserved bytes (unused). */
  _unreserve?(n: number): void;
  /** After filling reserved bytes: whether more may be written now (a drain is asked for if not). */
  _reservedOk?(): boolean;
}

/**
 * Payloads up to this many bytes are copied behind their header into one
 * chunk; larger ones are written as they are, after a header chunk (the
 * connection gathers writes up to 4 KiB inside a read, and lends or copies
 * views of its read buffer itself).
 */
const COPY_UP_TO = 4096;
/** Size of the scratch buffer strings are encoded into. */
const SCRATCH_BYTES = 16 * 1024;
/** Strings up to this many UTF-16 units are encoded straight into a scratch buffer. */
const SCRATCH_CHARS = SCRATCH_BYTES / 3;

const encoder = new TextEncoder();
const scratch = new Uint8Array(SCRATCH_BYTES);

/** Header bytes for a payload of `n` bytes (unmasked). */
function headSize(n: number): number {
  return n < 126 ? 2 : n < 65536 ? 4 : 10;
}

/**
 * Writes one frame. With `copy` (borrowed payload) or a small payload the
 * frame is one new chunk; otherwise the header and the payload go as two.
 */
export function writeFrame(
  out: ChunkOut,
  opcode: number,
  payload: Uint8Array,
  fin: boolean,
  copy: boolean,
  rsv1 = false,
): boolean {
  const n = payload.length;
  const h = headSize(n);
  if (copy || n <= COPY_UP_TO) {
    // In a read batch the frame is built straight into the connection's gather buffer.
    const at = out._reserve?.(h + n) ?? -1;
    if (at >= 0) {
      const buf = out._stageBuffer!;
      writeFrameHeader(buf, at, opcode, n, fin, rsv1);
      put(buf, at + h, payload, n);
      return out._reservedOk!();
    }
    if (n > COPY_UP_TO && out._writeLent !== undefined) {
      // A large borrowed payload: copied into a pooled buffer, reused once written.
      const buf = takeBuffer(LARGE_BUFFERS, h + n);
      writeFrameHeader(buf, 0, opcode, n, fin, rsv1);
      buf.set(payload, h);
      return out._writeLent(LARGE_BUFFERS, buf, h + n);
    }
    const buf = new Uint8Array(h + n);
    writeFrameHeader(buf, 0, opcode, n, fin, rsv1);
    buf.set(payload, h);
    return out.write(buf);
  }
  const head = new Uint8Array(h);
  writeFrameHeader(head, 0, opcode, n, fin, rsv1);
  out.write(head);
  return out.write(payload);
}

/**
 * Writes a message (or, with `fin` false, a part of one) as frames of at
 * most `max` payload bytes: the first with `opcode` (and `rsv1`, a
 * compressed message, RFC 7692 §6.1), the rest as continuations; only the
 * last carries `fin`.
 */
export function writeData(
  out: ChunkOut,
  opcode: number,
  payload: Uint8Array,
  fin: boolean,
  max: number,
  copy: boolean,
  rsv1 = false,
): boolean {
  const n = payload.length;
  if (n <= max) return writeFrame(out, opcode, payload, fin, copy, rsv1);
  let ok = true;
  for (let at = 0; at < n; at += max) {
    const last = at + max >= n;
    const first = at === 0;
    ok = writeFrame(
      out,
      first ? opcode : 0,
      payload.subarray(at, at + max),
      fin && last,
      copy,
      rsv1 && first,
    );
  }
  return ok;
}

/**
 * Writes a whole message compressed by `deflater` (RFC 7692 §7.2.1): a
 * string is encoded into a scratch buffer first, which `deflate` consumes
 * at once. The compressed payload is owned, never copied again.
 */
export function writeDeflated(
  out: ChunkOut,
  opcode: number,
  data: string | Uint8Array,
  max: number,
  deflater: { deflate(bytes: Uint8Array): Uint8Array },
): boolean {
  return writeData(out, opcode, deflater.deflate(bytesOf(data)), true, max, false, true);
}

/**
 * The bytes of `data`: a string is encoded into a scratch buffer when
 * small, valid only until the next call (for a consumer that uses them at once).
 */
export function bytesOf(data: string | Uint8Array): Uint8Array {
  if (typeof data !== "string") return data;
  if (data.length <= SCRATCH_CHARS) {
    return scratch.subarray(0, encoder.encodeInto(data, scratch).written);
  }
  return encoder.encode(data);
}

/** Writes a string as a text message (or part), encoding it once. */
export function writeString(
  out: ChunkOut,
  opcode: number,
  text: string,
  fin: boolean,
  max: number,
): boolean {
  const len = text.length;
  if (len <= 41 && max >= 123) {
    // At most 123 UTF-8 bytes: a 2-byte header, encoded in place (in a read
    // batch, right into the connection's gather buffer).
    const at = out._reserve?.(2 + len * 3) ?? -1;
    if (at >= 0) {
      const buf = out._stageBuffer!;
      const n = len === 0
        ? 0
        : encoder.encodeInto(text, buf.subarray(at + 2, at + 2 + len * 3)).written;
      buf[at] = (fin ? 0x80 : 0) | opcode;
      buf[at + 1] = n;
      out._unreserve!(len * 3 - n);
      return out._reservedOk!();
    }
    const buf = new Uint8Array(2 + len * 3);
    const n = len === 0 ? 0 : encoder.encodeInto(text, buf.subarray(2)).written;
    buf[0] = (fin ? 0x80 : 0) | opcode;
    buf[1] = n;
    return out.write(buf.subarray(0, 2 + n));
  }
  if (len <= SCRATCH_CHARS) {
    const n = encoder.encodeInto(text, scratch).written;
    return writeData(out, opcode, scratch.subarray(0, n), fin, max, true);
  }
  return writeData(out, opcode, encoder.encode(text), fin, max, false);
}

/** A close frame with an already encoded payload (at most 125 bytes). */
export function closeFrame(payload: Uint8Array): Uint8Array {
  const buf = new Uint8Array(2 + payload.length);
  buf[0] = 0x88;
  buf[1] = payload.length;
  buf.set(payload, 2);
  return buf;
}

/** A ping (9) or pong (10) frame; `payload` is at most 125 bytes. */
export function controlFrame(opcode: 9 | 10, payload: Uint8Array): Uint8Array {
  const buf = new Uint8Array(2 + payload.length);
  buf[0] = 0x80 | opcode;
  buf[1] = payload.length;
  buf.set(payload, 2);
  return buf;
}

/**
 * A message held to be compressed when the open message ends (a
 * compressed message sent in pieces owns the compression context until then).
 */
export interface HeldMessage {
  /** The message (owned: callers copy borrowed bytes). */
  data: string | Uint8Array;
  /** 1 text, 2 binary. */
  opcode: number;
}

/** Frames held while a streamed message is open; written in order when it ends. */
export class HeldFrames implements ChunkOut {
  /** The held chunks, and messages still to compress. */
  chunks: (Uint8Array | HeldMessage)[] = [];
  /** Their total size in bytes. */
  bytes = 0;
  /** A send made while holding reported backpressure: signal the drain on release. */
  denied = false;
  /** Holds a chunk (it is owned: callers copy borrowed payloads). */
  write(chunk: Uint8Array): boolean {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    return true;
  }
  /** Holds a message to compress later; counts its uncompressed size. */
  defer(message: HeldMessage): void {
    this.chunks.push(message);
    this.bytes += message.data.length;
  }
}
