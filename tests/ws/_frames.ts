/**
 * Test helpers for the WebSocket codecs: a reference frame builder written
 * straight from RFC 6455 §5.2 (independent of our encoder), chunkings over
 * fresh copies (the decoder unmasks in place, so every replay needs its own
 * bytes), and a runner that records frames and the error with where it came.
 */

import fc from "fast-check";
import { chunkings, latin1 } from "../codec/_chunkings.ts";
import assert from "node:assert/strict";
import { FrameDecoderCore, type FrameDecoderCoreOptions } from "../../src/ws/frame_decoder_core.ts";

export { bytes, every, latin1, split } from "../codec/_chunkings.ts";

/** A frame to build; `payload` strings are latin1 (one char per byte). */
export interface RefFrame {
  opcode: number;
  payload?: Uint8Array | string;
  fin?: boolean;
  /** Raw RSV bits: 4 = RSV1, 2 = RSV2, 1 = RSV3. */
  rsv?: number;
  /** Masking key, or null for an unmasked frame. */
  mask?: readonly number[] | null;
  /** Force a length encoding (7, 16 or 64 bits), minimal by default. */
  lengthBits?: 7 | 16 | 64;
  /** Claim this length instead of the payload's (for limit tests). */
  claimLength?: bigint;
}

/** The default masking key of built frames. */
export const MASK = [0x37, 0xfa, 0x21, 0x3d] as const;

function toBytes(p: Uint8Array | string | undefined): Uint8Array {
  if (p === undefined) return new Uint8Array(0);
  if (typeof p !== "string") return p;
  const out = new Uint8Array(p.length);
  for (let i = 0; i < p.length; i++) out[i] = p.charCodeAt(i);
  return out;
}

/** Builds one frame's bytes (RFC 6455 §5.2), masking a copy of the payload. */
export function frame(f: RefFrame): Uint8Array {
  const payload = toBytes(f.payload);
  const mask = f.mask === undefined ? MASK : f.mask;
  const len = f.claimLength ?? BigInt(payload.length);
  const bits = f.lengthBits ?? (len < 126n ? 7 : len < 65536n ? 16 : 64);
  const head: number[] = [
    ((f.fin ?? true) ? 0x80 : 0) | ((f.rsv ?? 0) << 4) | f.opcode,
  ];
  const m = mask === null ? 0 : 0x80;
  if (bits === 7) head.push(m | Number(len));
  else if (bits === 16) head.push(m | 126, Number(len >> 8n) & 255, Number(len) & 255);
  else {
    head.push(m | 127);
    for (let s = 56n; s >= 0n; s -= 8n) head.push(Number((len >> s) & 255n));
  }
  if (mask !== null) head.push(...mask);
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  for (let i = 0; i < payload.length; i++) {
    out[head.length + i] = payload[i] ^ (mask === null ? 0 : mask[i & 3]);
  }
  return out;
}

/** Concatenates byte arrays. */
export function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, at), at += p.length;
  return out;
}

/** Re-splits a fresh copy of the chunks' bytes at the same places (same offsets). */
export function fresh(chunks: readonly Uint8Array[]): Uint8Array[] {
  const copy = cat(...chunks);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const c of chunks) out.push(copy.subarray(at, at += c.length));
  return out;
}

/**
 * The codec chunkings (whole, split at every byte, one byte at a time, pairs
 * of splits up to `pairsUpTo` bytes), each over a fresh copy.
 */
export function* freshChunkings(
  input: Uint8Array,
  pairsUpTo = 40,
): Generator<[string, Uint8Array[]]> {
  for (const [label, chunks] of chunkings(input, pairsUpTo)) yield [label, fresh(chunks)];
}

/** Chunkings for big inputs: splits near both ends, and fixed sizes. */
export function* bigChunkings(input: Uint8Array): Generator<[string, Uint8Array[]]> {
  const n = input.length;
  yield ["whole", [input.slice()]];
  for (const i of [1, 2, 3, 4, 5, 9, 13, 14, 15, n - 1, n - 2, n >> 1]) {
    if (i > 0 && i < n) yield [`split at ${i}`, fresh([input.subarray(0, i), input.subarray(i)])];
  }
  for (const size of [1, 7, 4096, 65535]) {
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < n; at += size) chunks.push(input.subarray(at, at + size));
    yield [`chunks of ${size}`, fresh(chunks)];
  }
}

/** A frame or part as recorded: opcode, fin, rsv1, payload as latin1, frameEnd. */
export type Got = [number, boolean, boolean, string, boolean];

/** What a run produced: frames, and the error with the index of the chunk that reported it. */
export interface Run {
  frames: Got[];
  error?: { code: string; closeCode: number; chunk: number; name: string };
}

/**
 * Pushes `chunks` through `core`, then flushes. Payloads are kept as emitted
 * and rendered at the end, which also checks the core never overwrites them.
 * With `merge`, streamed parts are joined into whole frames.
 */
export function decode(core: FrameDecoderCore, chunks: readonly Uint8Array[], merge = true): Run {
  const raw: [number, boolean, boolean, Uint8Array, boolean][] = [];
  const emit = (p: Uint8Array, op: number, fin: boolean, rsv1: boolean, end: boolean) => {
    raw.push([op, fin, rsv1, p, end]);
  };
  const run: Run = { frames: [] };
  let index = 0;
  for (; index <= chunks.length; index++) {
    const err = index < chunks.length ? core.push(chunks[index], emit) : core.flush();
    if (err !== undefined) {
      run.error = { code: err.code, closeCode: err.closeCode, chunk: index, name: err.name };
      break;
    }
  }
  let pending = "";
  for (const [op, fin, rsv1, p, end] of raw) {
    if (!merge) run.frames.push([op, fin, rsv1, latin1(p), end]);
    else {
      pending += latin1(p);
      if (end) run.frames.push([op, fin, rsv1, pending, true]), pending = "";
    }
  }
  return run;
}

/** Index of the chunk holding byte `at` in a chunking (the push that must fail). */
export function chunkOf(chunks: readonly Uint8Array[], at: number): number {
  let end = 0;
  for (let i = 0; i < chunks.length; i++) {
    end += chunks[i].length;
    if (at < end) return i;
  }
  return chunks.length; // at flush
}

/** A fast-check arbitrary of valid frames: data and control, masked with random keys. */
export function arbFrame(maxPayload = 300): fc.Arbitrary<RefFrame> {
  const mask = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 });
  const data = fc.record({
    opcode: fc.constantFrom(0, 1, 2),
    payload: fc.uint8Array({ maxLength: maxPayload, size: "max" }),
    fin: fc.boolean(),
    mask,
  });
  const control = fc.record({
    opcode: fc.constantFrom(8, 9, 10),
    payload: fc.uint8Array({ maxLength: 125, size: "max" }),
    mask,
  });
  return fc.oneof(data, control);
}

/** Decodes `input` under every chunking (both payload modes) and expects `frames`. */
export function checkFrames(
  input: Uint8Array,
  frames: Got[],
  options: FrameDecoderCoreOptions = {},
): void {
  for (const streamPayload of [false, true]) {
    for (const [label, chunks] of freshChunkings(input)) {
      const run = decode(new FrameDecoderCore({ ...options, streamPayload }), chunks);
      assert.deepEqual(run, { frames }, `${label}, streamPayload ${streamPayload}`);
    }
  }
}

/**
 * Expects `code` (and `closeCode`) from the push holding byte `at` (fail
 * fast), after the frames before it, under every chunking.
 */
export function checkFrameError(
  input: Uint8Array,
  at: number,
  code: string,
  closeCode: number,
  options: FrameDecoderCoreOptions = {},
  frames: Got[] = [],
): void {
  for (const streamPayload of [false, true]) {
    for (const [label, chunks] of freshChunkings(input)) {
      const core = new FrameDecoderCore({ ...options, streamPayload });
      const run = decode(core, chunks);
      const where = `${label}, streamPayload ${streamPayload}`;
      assert.deepEqual(run.error, {
        code,
        closeCode,
        chunk: chunkOf(chunks, at),
        name: "WsProtocolError",
      }, where);
      assert.deepEqual(run.frames, frames, where);
      assert.equal(core.error?.code, code, where);
      assert.equal(core.push(new Uint8Array([0x81]), () => assert.fail("stopped")), core.error);
    }
  }
}
