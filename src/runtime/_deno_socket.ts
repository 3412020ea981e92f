/**
 * The native Deno connection as a {@linkcode Socket}: a `read` loop into a
 * small reused buffer and a gathering write loop.
 *
 * @module
 */

import type { NetAddr, Socket, SocketHandlers } from "../net/types.ts";
import { ChunkQueue } from "./_chunk_queue.ts";
import {
  callSafely,
  CLOSE_LINGER_MS,
  MAX_GATHER,
  netAddr,
  NOOP_HANDLERS,
  rethrowLater,
  WRITE_HIGH_WATER_MARK,
} from "./_common.ts";
import { toSystemError } from "./_errors.ts";
import { giveBack, LARGE_BUFFERS, takeBuffer } from "./buffer_pool.ts";

/**
 * Deno.Conn has no writev, so queued chunks (a WebSocket frame header and its
 * payload) are copied into one write, into a buffer of the shared
 * {@linkcode LARGE_BUFFERS} pool given back once written: a fresh 16-64 KiB
 * buffer per write cost more in GC than the copy itself (16 KiB WS echo:
 * +25-35% msgs/s). Merges under {@linkcode POOLED_MIN} allocate their exact
 * size, so a stalled socket never holds more than four times what it has queued.
 */
const POOLED_MIN = MAX_GATHER >>> 2;
/** The buffer `takeScratch` handed out during the current `peek`. */
let taken: Uint8Array | undefined;

function takeScratch(size: number): Uint8Array | undefined {
  if (size < POOLED_MIN) return undefined;
  return taken = takeBuffer(LARGE_BUFFERS, size);
}

// Bits of #flags.
const STARTED = 1;
const PAUSED = 2;
const READING = 4;
const READ_ENDED = 8;
const WRITING = 16;
const NEED_DRAIN = 32;
const FIN_REQUESTED = 64;
const WRITE_ENDED = 128;
const CLOSING = 256;
const DESTROYED = 512;
const CLOSE_EMITTED = 1024;
const LARGE_READS = 2048;
/** The peer's FIN came while paused: `end` waits for `resume`. */
const END_HELD = 4096;

/** `Deno.NetAddr`, as far as used here. */
export interface DenoAddr {
  hostname: string;
  port: number;
}

/** `Deno.TcpConn`, as far as used here. */
export interface DenoConn {
  readonly remoteAddr: DenoAddr;
  readonly localAddr: DenoAddr;
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
  setNoDelay(noDelay?: boolean): void;
  setKeepAlive(keepAlive?: boolean): void;
}

/**
 * An idle connection's pending `read` holds its buffer (Deno cannot wait for
 * readability without one), so the buffer starts small: measured at 10,000
 * idle connections, 4 KiB cost 10.8 KiB per connection, 512 B 7.2 KiB.
 */
const MIN_READ_BUFFER = 512;
const MAX_READ_BUFFER = 65536;
/**
 * The largest read buffer with `setLargeReads`: a client's window of four 16
 * KiB WebSocket frames is 65,568 bytes, which a 64 KiB buffer took in two
 * reads (the second of 32 bytes, then forwarded alone). Measured, interleaved
 * A/B: proxy ws-stream 1090-1159 -> 1091-1324 MB/s (median +9 %), 16 KiB
 * WebSocket echo median +37 % (noisy); plain bulk TCP echo was not helped,
 * so plain sockets keep 64 KiB.
 */
const LARGE_READ_BUFFER = 131072;

/**
 * A native Deno TCP connection as a {@linkcode Socket}. Chunks given to
 * `data` are views of the read buffer (`sharedChunks` is true); the buffer
 * starts at 512 bytes and doubles up to 64 KiB while reads fill it, and
 * halves after a run of reads that use a quarter of it or less. When both directions have ended
 * (peer FIN read, our FIN sent), the socket releases itself.
 */
export class DenoSocket implements Socket {
  /** Chunks are views of a reused buffer. */
  get sharedChunks(): boolean {
    return true;
  }
  /** Deno has no abortive close. */
  get canReset(): boolean {
    return false;
  }
  /**
   * `write` may be given views of the chunk being delivered: the socket
   * then reads into another buffer until they are written (no copy).
   */
  get lendsReadBuffer(): boolean {
    return true;
  }
  /**
   * The buffer `chunk` was read into is given away when no read will use
   * it again and the chunk fills at least half of it (the current read
   * buffer is then replaced by a new one); else the chunk is copied.
   */
  keepChunk(chunk: Uint8Array): Uint8Array {
    const memory = chunk.buffer;
    if (chunk.byteLength < memory.byteLength >>> 1 || memory === this.#spare?.buffer) {
      return chunk.slice();
    }
    const buffer = this.#buffer;
    if (buffer !== undefined && memory === buffer.buffer) {
      // Views of it queued for writing stay valid: it just never becomes the spare.
      if (this.#lent === memory) this.#lent = undefined;
      this.#buffer = new Uint8Array(buffer.byteLength);
    } else if (memory === this.#lent) {
      return chunk.slice();
    }
    // Else a buffer the reads have left (it grew or shrank): never read into again.
    return chunk;
  }
  #conn: DenoConn;
  #handlers: SocketHandlers = NOOP_HANDLERS;
  /** Boolean state, one bit each (accessors below): an idle connection stays small. */
  #flags = 0;
  #remote: NetAddr | undefined;
  #local: NetAddr | undefined;
  // read side
  #buffer: Uint8Array | undefined;
  /** The read buffer's memory while queued writes hold views of it (an echo): not read into. */
  #lent: ArrayBufferLike | undefined;
  /** A read buffer given back by the write side, used instead of allocating. */
  #spare: Uint8Array | undefined;
  #smallReads = 0;
  #held: Uint8Array | undefined;
  // write side
  #queue: ChunkQueue | undefined; // created by the first write
  #corks = 0;
  #queuedTotal = 0;
  // lifetime
  #error: Error | undefined;
  #linger: ReturnType<typeof setTimeout> | undefined;

  /** Wraps an accepted or connected `Deno.TcpConn`. */
  /** True when any of `bits` is set in #flags. */
  #has(bits: number): boolean {
    return (this.#flags & bits) !== 0;
  }

  constructor(conn: DenoConn) {
    this.#conn = conn;
  }

  /** The peer's address. */
  get remoteAddr(): NetAddr {
    return this.#remote ??= netAddr(this.#conn.remoteAddr?.hostname, this.#conn.remoteAddr?.port);
  }

  /** Our side's address. */
  get localAddr(): NetAddr {
    return this.#local ??= netAddr(this.#conn.localAddr?.hostname, this.#conn.localAddr?.port);
  }

  /** Bytes queued and not yet written to the kernel. */
  get writableLength(): number {
    return this.#queue?.byteLength ?? 0;
  }

  /** Bytes ever queued: a buffer pool tells from it which of a busy socket's writes are done. */
  get queuedTotal(): number {
    return this.#queuedTotal;
  }

  /** Starts the read loop and event delivery; callable once. */
  start(handlers: SocketHandlers): void {
    if (this.#has(STARTED)) throw new Error("Cannot start the socket as it was already started");
    this.#flags |= STARTED;
    this.#handlers = handlers;
    if (this.#has(DESTROYED)) queueMicrotask(() => this.#maybeEmitClose());
    else this.#pump();
  }

  /**
   * @internal A TLS layer takes the socket over: starts it with `handlers`,
   * or replaces the handlers of a started one. False when closed or closing.
   */
  _takeOver(handlers: SocketHandlers): boolean {
    if (this.#has(DESTROYED) || this.#has(CLOSING)) return false;
    if (!this.#has(STARTED)) this.start(handlers);
    else this.#handlers = handlers;
    return true;
  }

  /** Lets the read buffer grow to 128 KiB instead of 64 KiB (a socket carrying WebSocket frames). */
  setLargeReads(): void {
    this.#flags |= LARGE_READS;
  }

  /** Stops reading after the read in progress; its chunk is held until `resume`. */
  pause(): void {
    if (!this.#has(CLOSING)) this.#flags |= PAUSED; // a closing socket reads on to see the FIN
  }

  /** Resumes reading (first delivering a chunk held by `pause`). */
  resume(): void {
    if (!this.#has(PAUSED)) return;
    this.#flags &= ~PAUSED;
    this.#pump();
    if (this.#has(END_HELD)) queueMicrotask(() => this.#releaseEnd());
  }

  /** Delivers a held `end` unless paused again or closing meanwhile. */
  #releaseEnd(): void {
    if (!this.#has(END_HELD) || this.#has(PAUSED)) return;
    this.#flags &= ~END_HELD;
    if (this.#has(CLOSING) || this.#has(CLOSE_EMITTED)) return;
    const error = callSafely(() => this.#handlers.end());
    if (error !== undefined) this.#destroy(error);
  }

  /** Queues bytes; false once 64 KiB or more wait (then `drain` follows). */
  write(chunk: Uint8Array): boolean {
    if (this.#has(DESTROYED) || this.#has(FIN_REQUESTED)) return false;
    const queue = this.#queue ??= new ChunkQueue();
    const buffer = this.#buffer;
    if (buffer !== undefined && chunk.buffer === buffer.buffer) this.#lent = buffer.buffer;
    queue.push(chunk);
    this.#queuedTotal += chunk.byteLength;
    if (!this.#has(WRITING) && this.#corks === 0 && !queue.isEmpty) void this.#writeLoop();
    if (queue.byteLength < WRITE_HIGH_WATER_MARK) return true;
    this.#flags |= NEED_DRAIN;
    return false;
  }

  /** A `drain` follows once the queue is written (asynchronously, also when it is empty). */
  requestDrain(): void {
    if (this.#has(DESTROYED)) return;
    this.#flags |= NEED_DRAIN;
    if (!this.#has(WRITING) && this.#corks === 0) void this.#writeLoop();
  }

  /** Defers starting a write until `uncork` (a write already running continues). */
  cork(): void {
    this.#corks++;
  }

  /** Ends one `cork`; the last one starts writing what was gathered. */
  uncork(): void {
    if (this.#corks === 0) return;
    if (
      --this.#corks === 0 && !this.#has(WRITING) &&
      (this.writableLength > 0 || this.#has(NEED_DRAIN))
    ) {
      void this.#writeLoop();
    }
  }

  /** Sends FIN once the queue is written; reading continues. */
  closeWrite(): void {
    if (this.#has(DESTROYED) || this.#has(FIN_REQUESTED)) return;
    this.#flags |= FIN_REQUESTED;
    if (!this.#has(WRITING)) void this.#writeLoop();
  }

  /**
   * Graceful close: write the queue, send FIN, discard input until the
   * peer's FIN (at most {@linkcode CLOSE_LINGER_MS}), then release.
   * No `data` or `end` events follow.
   */
  close(): void {
    if (this.#has(DESTROYED) || this.#has(CLOSING)) return;
    this.#flags |= CLOSING;
    this.#held = undefined;
    this.#flags |= FIN_REQUESTED;
    if (this.#has(WRITE_ENDED)) this.#maybeFinish();
    else if (!this.#has(WRITING)) void this.#writeLoop();
    this.#flags &= ~PAUSED;
    this.#pump();
  }

  /** Drops the queue and closes now (a FIN, not an RST: Deno cannot reset). */
  abort(): void {
    this.#destroy(undefined);
  }

  /** Sets TCP_NODELAY. */
  setNoDelay(enable: boolean): void {
    if (this.#has(DESTROYED)) return;
    try {
      this.#conn.setNoDelay(enable);
    } catch { /* closed meanwhile */ }
  }

  /** Sets SO_KEEPALIVE; Deno offers no initial delay, so `initialDelay` is ignored. */
  setKeepAlive(enable: boolean, _initialDelay?: number): void {
    if (this.#has(DESTROYED)) return;
    try {
      this.#conn.setKeepAlive(enable);
    } catch { /* closed meanwhile */ }
  }

  #pump(): void {
    if (
      !this.#has(READING) && !this.#has(PAUSED) && !this.#has(READ_ENDED) &&
      !this.#has(DESTROYED) &&
      (this.#has(STARTED) || this.#has(CLOSING))
    ) void this.#readLoop();
  }

  async #readLoop(): Promise<void> {
    this.#flags |= READING;
    try {
      if (this.#held !== undefined) {
        await undefined; // resume() returns before the held chunk is delivered
        if (this.#has(PAUSED) && !this.#has(CLOSING)) return; // paused again meanwhile: keep holding
        const held = this.#held;
        this.#held = undefined;
        if (held !== undefined && !this.#has(DESTROYED)) this.#deliver(held);
      }
      while (!this.#has(PAUSED) && !this.#has(DESTROYED) && !this.#has(READ_ENDED)) {
        let buffer = this.#buffer ??= new Uint8Array(MIN_READ_BUFFER);
        if (this.#lent === buffer.buffer) {
          // Queued writes still hold views of it: read into the spare.
          const spare = this.#spare;
          this.#spare = undefined;
          buffer = this.#buffer = spare?.byteLength === buffer.byteLength
            ? spare
            : new Uint8Array(buffer.byteLength);
        }
        const n = await this.#conn.read(buffer);
        if (this.#has(DESTROYED)) break;
        if (n === null) {
          this.#onEof();
          break;
        }
        this.#resize(buffer.byteLength, n);
        const chunk = buffer.subarray(0, n);
        if (this.#has(PAUSED) && !this.#has(CLOSING)) {
          this.#held = chunk;
          break;
        }
        this.#deliver(chunk);
      }
    } catch (err) {
      this.#destroy(toSystemError(err));
    } finally {
      this.#flags &= ~READING;
      if (this.#has(DESTROYED)) this.#maybeEmitClose();
    }
  }

  /** Grows the read buffer while reads fill it; shrinks it after small reads. */
  #resize(size: number, n: number): void {
    if (n === size) {
      this.#smallReads = 0;
      if (size < (this.#has(LARGE_READS) ? LARGE_READ_BUFFER : MAX_READ_BUFFER)) {
        this.#buffer = new Uint8Array(size * 2);
      }
    } else if (size > MIN_READ_BUFFER && n <= size >>> 2) {
      if (++this.#smallReads >= 8) {
        this.#smallReads = 0;
        this.#buffer = new Uint8Array(size >>> 1);
      }
    } else {
      this.#smallReads = 0;
    }
  }

  #deliver(chunk: Uint8Array): void {
    if (this.#has(CLOSING)) return;
    const error = callSafely(() => this.#handlers.data(chunk));
    if (error !== undefined) this.#destroy(error);
  }

  #onEof(): void {
    this.#flags |= READ_ENDED;
    if (this.#has(PAUSED) && !this.#has(CLOSING)) {
      this.#flags |= END_HELD; // told on resume, or before the close
    } else if (!this.#has(CLOSING)) {
      const error = callSafely(() => this.#handlers.end());
      if (error !== undefined) return this.#destroy(error);
    }
    this.#maybeFinish();
  }

  async #writeLoop(): Promise<void> {
    this.#flags |= WRITING;
    try {
      await undefined; // writes made in the same turn join this batch
      while (!this.#has(DESTROYED)) {
        const queue = this.#queue;
        if (queue !== undefined && !queue.isEmpty) {
          const bytes = queue.peek(MAX_GATHER, takeScratch);
          const scratch = taken; // lent to this write: returned once it is written
          taken = undefined;
          let written = 0;
          while (written < bytes.byteLength) {
            written += await this.#conn.write(written === 0 ? bytes : bytes.subarray(written));
            if (this.#has(DESTROYED)) return;
          }
          queue.consume(bytes.byteLength);
          if (scratch !== undefined) giveBack(LARGE_BUFFERS, scratch);
          const lent = this.#lent;
          if (lent !== undefined && queue.isEmpty) {
            // Every view of the lent buffer is written: it can be read into again.
            this.#lent = undefined;
            if (lent !== this.#buffer?.buffer) this.#spare = new Uint8Array(lent);
          }
        } else if (this.#has(NEED_DRAIN)) {
          this.#flags &= ~NEED_DRAIN;
          const error = callSafely(() => this.#handlers.drain());
          if (error !== undefined) return this.#destroy(error);
        } else {
          if (this.#has(FIN_REQUESTED) && !this.#has(WRITE_ENDED)) {
            await this.#conn.closeWrite();
            this.#flags |= WRITE_ENDED;
            this.#maybeFinish();
          }
          return;
        }
      }
    } catch (err) {
      this.#destroy(toSystemError(err));
    } finally {
      this.#flags &= ~WRITING;
      if (this.#has(DESTROYED)) this.#maybeEmitClose();
    }
  }

  /** Releases the socket when both directions ended; arms the close linger. */
  #maybeFinish(): void {
    if (this.#has(DESTROYED) || !this.#has(WRITE_ENDED)) return;
    if (this.#has(READ_ENDED)) this.#destroy(undefined);
    else if (this.#has(CLOSING) && this.#linger === undefined) {
      this.#linger = setTimeout(() => this.#destroy(undefined), CLOSE_LINGER_MS);
    }
  }

  #destroy(error: Error | undefined): void {
    if (this.#has(DESTROYED)) return;
    this.#flags |= DESTROYED;
    this.#error = error;
    if (this.#linger !== undefined) clearTimeout(this.#linger);
    this.#queue = undefined;
    this.#lent = undefined;
    this.#spare = undefined;
    this.#held = undefined;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    this.#maybeEmitClose();
  }

  /** Emits `close` once every pending read and write has settled. */
  #maybeEmitClose(): void {
    if (
      !this.#has(DESTROYED) || this.#has(READING) || this.#has(WRITING) || this.#has(CLOSE_EMITTED)
    ) return;
    if (!this.#has(STARTED)) return;
    if (this.#has(END_HELD) && this.#error === undefined) {
      this.#flags &= ~PAUSED; // closed while paused: the FIN is told before the close
      this.#releaseEnd();
    }
    this.#flags |= CLOSE_EMITTED;
    const handlers = this.#handlers;
    this.#handlers = NOOP_HANDLERS;
    const error = callSafely(() => handlers.close(this.#error));
    if (error !== undefined) rethrowLater(error);
  }
}
