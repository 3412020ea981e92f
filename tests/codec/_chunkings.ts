/**
 * Test helpers: replay an input under every chunking (split at every byte,
 * one byte at a time, optionally every pair of splits) through a core or a
 * stream, and render segments so that failures read well.
 */

import fc from "fast-check";
import type { FramingCore, Segment } from "../../src/codec/types.ts";
import { pieceCopy } from "../../src/codec/_carry.ts";

/** A segment rendered as latin1 text (one char per byte) and its `eol`. */
export type Out = [string, boolean];

/** Bytes from a string of char codes 0-255 (latin1), so binary is easy to write. */
export function bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** The inverse of {@linkcode bytes}. */
export function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 8192) {
    s += String.fromCharCode(...b.subarray(i, i + 8192));
  }
  return s;
}

/** Splits `input` before each position in `cuts` (sorted or not, duplicates give empty chunks). */
export function split(input: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const sorted = [...cuts].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const c of sorted) {
    out.push(input.subarray(at, c));
    at = c;
  }
  out.push(input.subarray(at));
  return out;
}

/** Fixed-size chunks. */
export function every(input: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < input.length; at += size) out.push(input.subarray(at, at + size));
  return out;
}

/**
 * Every chunking the codec tests replay: whole, split at every position
 * (0 and n included, giving empty chunks), one byte at a time, and for
 * inputs up to `pairsUpTo` bytes every pair of split positions.
 */
export function* chunkings(
  input: Uint8Array,
  pairsUpTo = 48,
): Generator<[string, Uint8Array[]]> {
  const n = input.length;
  yield ["whole", [input]];
  for (let i = 0; i <= n; i++) yield [`split at ${i}`, split(input, [i])];
  yield ["one byte at a time", every(input, 1)];
  if (n <= pairsUpTo) {
    for (let i = 1; i < n; i++) {
      for (let j = i + 1; j < n; j++) yield [`split at ${i} and ${j}`, split(input, [i, j])];
    }
  }
}

/**
 * Runs `chunks` through `core` then flushes it. Segments are kept as emitted
 * (no copy) and rendered at the end, which also checks that no emitted bytes
 * are overwritten later by the core.
 */
export function runCore(core: FramingCore, chunks: Iterable<Uint8Array>): Out[] {
  const got: Segment[] = [];
  const emit = (b: Uint8Array, eol: boolean) => {
    got.push({ bytes: b, eol });
  };
  for (const chunk of chunks) core.push(chunk, emit);
  core.flush(emit);
  return got.map((s) => [latin1(s.bytes), s.eol]);
}

/** Writes `chunks` to `stream` and reads every segment. */
export async function runStream(
  stream: TransformStream<Uint8Array, Segment>,
  chunks: Iterable<Uint8Array>,
): Promise<Out[]> {
  const reading = (async () => {
    const out: Out[] = [];
    const reader = stream.readable.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return out;
      out.push([latin1(value.bytes), value.eol]);
    }
  })();
  const writer = stream.writable.getWriter();
  for (const chunk of chunks) await writer.write(chunk);
  await writer.close();
  return await reading;
}

/** Asserts, via `check`, the output of `make()` for every chunking of `input`. */
export function forEveryChunking(
  input: Uint8Array,
  check: (chunks: Uint8Array[], label: string) => void,
  pairsUpTo?: number,
): void {
  for (const [label, chunks] of chunkings(input, pairsUpTo)) check(chunks, label);
}

/** The async variant of {@linkcode forEveryChunking}, for streams (no pairs). */
export async function forEveryChunkingAsync(
  input: Uint8Array,
  check: (chunks: Uint8Array[], label: string) => Promise<void>,
): Promise<void> {
  for (const [label, chunks] of chunkings(input, 0)) await check(chunks, label);
}

/** A fast-check arbitrary of split positions for an input of `length` bytes. */
export function arbCuts(length: number): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: 0, max: length }), { maxLength: 24 });
}

/**
 * Inputs made of runs of bytes from `alphabet` (so delimiters, long lines and
 * runs past maxLength are all likely), up to about `maxBytes` bytes.
 */
export function arbInput(alphabet: readonly number[], maxBytes: number): fc.Arbitrary<Uint8Array> {
  const run = fc.tuple(fc.constantFrom(...alphabet), fc.integer({ min: 1, max: 300 }));
  const runs = fc.array(fc.oneof(run, fc.tuple(fc.constantFrom(...alphabet), fc.constant(1))), {
    maxLength: 40,
  });
  return runs.map((rs) => {
    const out: number[] = [];
    for (const [b, k] of rs) for (let i = 0; i < k && out.length < maxBytes; i++) out.push(b);
    return Uint8Array.from(out);
  });
}

/**
 * Runs `body` with the cores handing out short pieces as copies (Bun's
 * choice, see `pieceCopy`) when `copies`, or as views; restores the setting.
 */
export function withPieceCopy(copies: boolean, body: () => void): void {
  const before = pieceCopy.copy;
  pieceCopy.copy = copies ? (chunk, a, b) => chunk.slice(a, b) : undefined;
  try {
    body();
  } finally {
    pieceCopy.copy = before;
  }
}
