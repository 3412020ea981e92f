/**
 * Buffers lent to sockets and reused once written. A buffer handed to a
 * socket's `write` is held by that socket until the kernel has taken it; it
 * is free again once the socket's queue is empty (`writableLength === 0`:
 * everything it was given is written). Reusing such buffers spares the
 * allocation, the zero-fill and the page faults of a fresh buffer per write,
 * and the collector's work after it (Deno proxy, 64 KiB chunks: fresh
 * buffers cost more than the copies made into them). Pure: no runtime APIs.
 *
 * @module
 */

/** What a pool needs of whoever holds a buffer: its queue, empty once everything given is written. */
export interface BufferHolder {
  /** Bytes queued and not yet written. */
  readonly writableLength: number;
  /**
   * Bytes ever queued, when the holder counts them: a loan is then free once
   * the bytes queued up to it are written (`queuedTotal - writableLength`
   * reached its mark), also while later writes wait. Without it a loan is
   * free only when the queue is empty, which a busy socket's seldom is.
   */
  readonly queuedTotal?: number;
}

/** The mark of a holder that does not count its bytes. */
const NO_MARK = -1;

/** Loans a `take` looks at before giving up (the pool allocates then). */
const LOOK = 8;

/**
 * A bounded set of buffers lent to holders, oldest loan first (the one most
 * likely written by now). Only the `maxLent` most recent loans are
 * remembered (older ones are left to the collector), and only buffers of at
 * most `maxSize` bytes are kept, so the pool never holds more than
 * `(maxLent + 1) * maxSize` bytes (the loans, and one buffer that was free
 * when it came back).
 */
export class LendingPool {
  readonly maxSize: number;
  readonly maxLent: number;
  // A ring of `maxLent` slots, loans in [#head, #head + #count): the arrays
  // never resize after the first loans (resizing them per take/lend cost
  // more than the reuse saved).
  readonly #bufs: (Uint8Array | undefined)[] = [];
  readonly #holders: (BufferHolder | undefined)[] = [];
  /** Per loan: the holder's `queuedTotal` when it was lent, or NO_MARK. */
  readonly #marks: number[] = [];
  #head = 0;
  #count = 0;
  /**
   * One buffer already written when it was lent (a socket that writes at
   * once, as Bun's and mostly Node's do), kept outside the ring: the next
   * `take` gets it without looking at any loan.
   */
  #free: Uint8Array | undefined;

  /** A pool of buffers up to `maxSize` bytes, remembering `maxLent` loans. */
  constructor(maxSize: number, maxLent: number) {
    this.maxSize = maxSize;
    this.maxLent = maxLent;
  }

  /** Loans remembered now (for tests and statistics). */
  get lent(): number {
    return this.#count + (this.#free === undefined ? 0 : 1);
  }

  /**
   * A lent buffer of at least `size` bytes whose holder has written it, or
   * undefined (the caller allocates). The buffer leaves the pool. Looks at
   * the oldest loans only: one still held (a stalled socket's) moves to the
   * back, so it does not stand in front of the others.
   */
  take(size = 0): Uint8Array | undefined {
    const free = this.#free;
    if (free !== undefined && free.byteLength >= size) {
      this.#free = undefined;
      return free;
    }
    const bufs = this.#bufs;
    const holders = this.#holders;
    const marks = this.#marks;
    const cap = this.maxLent;
    const count = this.#count;
    const look = count < LOOK ? count : LOOK;
    let head = this.#head;
    for (let k = 0; k < look; k++) {
      const buf = bufs[head]!;
      const holder = holders[head]!;
      const mark = marks[head]!;
      bufs[head] = undefined;
      holders[head] = undefined;
      const next = head + 1 === cap ? 0 : head + 1;
      const queued = holder.writableLength;
      if (
        (queued === 0 || (mark !== NO_MARK && holder.queuedTotal! - queued >= mark)) &&
        buf.byteLength >= size
      ) {
        this.#head = next;
        this.#count = count - 1;
        return buf;
      }
      let tail = head + count; // the slot after the newest loan
      if (tail >= cap) tail -= cap;
      bufs[tail] = buf;
      holders[tail] = holder;
      marks[tail] = mark;
      head = next;
    }
    this.#head = head;
    return undefined;
  }

  /**
   * Records that `buf` was handed to `holder` (call it after the write):
   * reusable once the holder has written it (see `queuedTotal`), or once
   * its queue is empty. When `maxLent` loans are remembered, the one at the
   * front is forgotten (left to the collector): the oldest, or a held one
   * that `take` moved to the back and that came round again.
   */
  lend(buf: Uint8Array, holder: BufferHolder): void {
    if (buf.byteLength > this.maxSize) return;
    if (this.#free === undefined && holder.writableLength === 0) {
      this.#free = buf;
      return;
    }
    const cap = this.maxLent;
    let head = this.#head;
    let count = this.#count;
    if (count === cap) {
      head = this.#head = head + 1 === cap ? 0 : head + 1;
      count--;
    }
    let tail = head + count;
    if (tail >= cap) tail -= cap;
    this.#bufs[tail] = buf;
    this.#holders[tail] = holder;
    this.#marks[tail] = holder.queuedTotal ?? NO_MARK;
    this.#count = count + 1;
  }
}

/** Always free: for a buffer given back at once. */
const FREE: BufferHolder = { writableLength: 0 };

/**
 * The pool of large write buffers (a WebSocket frame around a payload of up
 * to 128 KiB, a proxy's gathered client data, a Deno socket's merged writes): buffers of 64 or 128 KiB plus
 * room for a frame header; at most 16 lent and one free (about 2 MiB at most).
 */
export const LARGE_BUFFERS: LendingPool = new LendingPool(131072 + 64, 16);

/** Size of a new buffer for `size` bytes: the pool's half or whole size. */
function sizeClass(pool: LendingPool, size: number): number {
  const half = pool.maxSize >>> 1;
  return size <= half ? half : pool.maxSize;
}

/** A buffer of at least `size` bytes: a written one from `pool` when it has one, else new. */
export function takeBuffer(pool: LendingPool, size: number): Uint8Array {
  if (size > pool.maxSize) return new Uint8Array(size);
  return pool.take(size) ?? new Uint8Array(sizeClass(pool, size));
}

/** Gives `buf` back to `pool` now (nothing holds it). */
export function giveBack(pool: LendingPool, buf: Uint8Array): void {
  pool.lend(buf, FREE);
}
