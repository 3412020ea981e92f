/**
 * Internal: the bytes a core carries between pushes, and what a halt left.
 *
 * Positions used by the cores are "virtual": the carried bytes sit at
 * `[-length, 0)` and the chunk being pushed at `[0, chunk.length)`, so one
 * loop handles a segment that starts in the carry and ends in the chunk.
 *
 * @module
 */

import type { SegmentSink } from "./types.ts";

const EMPTY = new Uint8Array(0);

/** Pieces up to this many bytes are copied when {@linkcode pieceCopy} has a copier. */
export const SHORT_PIECE = 128;

/**
 * How a piece that lies within one chunk is handed out: a view of the chunk
 * (`subarray`), or, when `copy` is set, a new array for a piece of at most
 * {@linkcode SHORT_PIECE} bytes. The runtime layer sets it: on
 * JavaScriptCore a view costs about 45 ns, more than a small new array and a
 * native copy (Bun, 64-byte lines: 257 -> 225 ns of CPU per echoed line).
 */
export const pieceCopy: {
  copy: ((chunk: Uint8Array, a: number, b: number) => Uint8Array) | undefined;
} = { copy: undefined };

/** Bytes `[a, b)` of `chunk`: a view, or a copy where {@linkcode pieceCopy} says so. */
export function pieceOf(chunk: Uint8Array, a: number, b: number): Uint8Array {
  const copy = pieceCopy.copy;
  return copy === undefined || b - a > SHORT_PIECE ? chunk.subarray(a, b) : copy(chunk, a, b);
}
const FIRST_CAPACITY = 64;

/** Concatenates two arrays into a new one. */
export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Carried bytes of an unfinished segment, in a buffer reused across pushes. */
export class Carry {
  /** The reusable buffer; never handed out. */
  bytes: Uint8Array = EMPTY;
  /** Carried bytes at the start of `bytes`. */
  length = 0;
  /** Owned copy of the bytes a halt left uncut, cut first by the next push. */
  rest: Uint8Array | undefined = undefined;
  /** Set by `halt()`; the cores clear it when a push starts. */
  halted = false;

  /**
   * Bytes `[a, b)` of carry ++ chunk: a view of `chunk` when `a >= 0` (or a
   * copy, see {@linkcode pieceCopy}), otherwise a new array (the buffer is
   * reused, so it is never viewed).
   */
  piece(chunk: Uint8Array, a: number, b: number): Uint8Array {
    if (a >= 0) return pieceOf(chunk, a, b);
    const len = this.length;
    if (b <= 0) return this.bytes.slice(len + a, len + b);
    const out = new Uint8Array(b - a);
    out.set(this.bytes.subarray(len + a, len));
    out.set(chunk.subarray(0, b), -a);
    return out;
  }

  /**
   * Keeps `[s, chunk.length)` of carry ++ chunk as the new carry. The buffer
   * grows by doubling from a small size, capped at `limit` (the most a core
   * ever carries) unless more is needed right now.
   */
  keep(chunk: Uint8Array, s: number, limit: number): void {
    const len = this.length;
    const size = chunk.length - s;
    if (size <= 0) {
      this.length = 0;
      return;
    }
    let buf = this.bytes;
    if (size > buf.length) {
      const doubled = Math.min(Math.max(buf.length * 2, FIRST_CAPACITY), limit);
      const grown = new Uint8Array(Math.max(size, doubled));
      if (s < 0) grown.set(buf.subarray(len + s, len));
      buf = this.bytes = grown;
    } else if (s < 0 && len + s > 0) {
      buf.copyWithin(0, len + s, len);
    }
    if (s < 0) buf.set(chunk, -s);
    else buf.set(s === 0 ? chunk : chunk.subarray(s));
    this.length = size;
  }

  /** After a halt: keeps an owned copy of `[s, chunk.length)` as `rest`; empties the carry. */
  halt(chunk: Uint8Array, s: number): void {
    const n = chunk.length;
    this.rest = s >= n ? undefined : s >= 0 ? chunk.slice(s) : this.piece(chunk, s, n);
    this.length = 0;
  }

  /** Takes the uncut `rest`, if any, so the next push cuts it first. */
  takePending(): Uint8Array | undefined {
    const rest = this.rest;
    this.rest = undefined;
    return rest;
  }

  /** Everything carried and left by a halt, as an owned array; empties the carry. */
  take(): Uint8Array {
    const carried = this.bytes.slice(0, this.length);
    const rest = this.rest;
    this.length = 0;
    this.rest = undefined;
    this.halted = false;
    return rest === undefined ? carried : carried.length === 0 ? rest : concat(carried, rest);
  }

  /** Drops the buffer after its bytes were emitted as views (at flush). */
  release(): void {
    this.bytes = EMPTY;
    this.length = 0;
  }

  /**
   * The start of every core's `push`: clears a halt, cuts what an earlier
   * halt left, then the chunk; when that halts again the chunk is kept whole.
   */
  push(chunk: Uint8Array, emit: SegmentSink, run: Run): void {
    this.halted = false;
    const pending = this.takePending();
    if (pending !== undefined) {
      run(pending, emit);
      if (this.halted) {
        this.rest = this.rest === undefined ? chunk.slice() : concat(this.rest, chunk);
        return;
      }
    }
    run(chunk, emit);
  }

  /** The start of every core's `flush`: cuts what a halt left; false when that halts again. */
  flushPending(emit: SegmentSink, run: Run): boolean {
    this.halted = false;
    const pending = this.takePending();
    if (pending !== undefined) {
      run(pending, emit);
      if (this.halted) return false;
    }
    return true;
  }
}

/** A core's cutting loop over one chunk. */
export type Run = (chunk: Uint8Array, emit: SegmentSink) => void;
