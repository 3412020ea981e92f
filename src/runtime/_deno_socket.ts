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

const MIN_READ_BUFFER = 4096;
const MAX_READ_BUFFER = 65536;

/**
 * A native Deno TCP connection as a {@linkcode Socket}. Chunks given to
 * `data` are views of the read buffer (`sharedChunks` is true); the buffer
 * starts at 4 KiB and doubles up to 64 KiB while reads fill it, and falls
 * back to 4 KiB after a few small reads. When both directions have ended
 * (peer FIN read, our FIN sent), the socket releases itself.
 */
export class DenoSocket implements Socket {
  /** Chunks are views of a reused buffer. */
  readonly sharedChunks = true;
  /** Deno has no abortive close. */
  readonly canReset = false;
  #conn: DenoConn;
  #handlers: SocketHandlers = NOOP_HANDLERS;
  #started = false;
  #remote: NetAddr | undefined;
  #local: NetAddr | undefined;
  // read side
  #buffer: Uint8Array | undefined;
  #smallReads = 0;
  #paused = false;
  #reading = false;
  #held: Uint8Array | undefined;
  #readEnded = false;
  // write side
  #queue = new ChunkQueue();
  #writing = false;
  #corks = 0;
  #needDrain = false;
  #finRequested = false;
  #writeEnded = false;
  // lifetime
  #closing = false;
  #destroyed = false;
  #closeEmitted = false;
  #error: Error | undefined;
  #linger: ReturnType<typeof setTimeout> | undefined;

  /** Wraps an accepted or connected `Deno.TcpConn`. */
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
    return this.#queue.byteLength;
  }

  /** Starts the read loop and event delivery; callable once. */
  start(handlers: SocketHandlers): void {
    if (this.#started) throw new Error("Cannot start the socket as it was already started");
    this.#started = true;
    this.#handlers = handlers;
    if (this.#destroyed) queueMicrotask(() => this.#maybeEmitClose());
    else this.#pump();
  }

  /**
   * @internal A TLS layer takes the socket over: starts it with `handlers`,
   * or replaces the handlers of a started one. False when closed or closing.
   */
  _takeOver(handlers: SocketHandlers): boolean {
    if (this.#destroyed || this.#closing) return false;
    if (!this.#started) this.start(handlers);
    else this.#handlers = handlers;
    return true;
  }

  /** Stops reading after the read in progress; its chunk is held until `resume`. */
  pause(): void {
    if (!this.#closing) this.#paused = true; // a closing socket reads on to see the FIN
  }

  /** Resumes reading (first delivering a chunk held by `pause`). */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#pump();
  }

  /** Queues bytes; false once 64 KiB or more wait (then `drain` follows). */
  write(chunk: Uint8Array): boolean {
    if (this.#destroyed || this.#finRequested) return false;
    this.#queue.push(chunk);
    if (!this.#writing && this.#corks === 0 && !this.#queue.isEmpty) void this.#writeLoop();
    if (this.#queue.byteLength < WRITE_HIGH_WATER_MARK) return true;
    this.#needDrain = true;
    return false;
  }

  /** Defers starting a write until `uncork` (a write already running continues). */
  cork(): void {
    this.#corks++;
  }

  /** Ends one `cork`; the last one starts writing what was gathered. */
  uncork(): void {
    if (this.#corks === 0) return;
    if (--this.#corks === 0 && !this.#writing && !this.#queue.isEmpty) void this.#writeLoop();
  }

  /** Sends FIN once the queue is written; reading continues. */
  closeWrite(): void {
    if (this.#destroyed || this.#finRequested) return;
    this.#finRequested = true;
    if (!this.#writing) void this.#writeLoop();
  }

  /**
   * Graceful close: write the queue, send FIN, discard input until the
   * peer's FIN (at most {@linkcode CLOSE_LINGER_MS}), then release.
   * No `data` or `end` events follow.
   */
  close(): void {
    if (this.#destroyed || this.#closing) return;
    this.#closing = true;
    this.#held = undefined;
    this.#finRequested = true;
    if (this.#writeEnded) this.#maybeFinish();
    else if (!this.#writing) void this.#writeLoop();
    this.#paused = false;
    this.#pump();
  }

  /** Drops the queue and closes now (a FIN, not an RST: Deno cannot reset). */
  abort(): void {
    this.#destroy(undefined);
  }

  /** Sets TCP_NODELAY. */
  setNoDelay(enable: boolean): void {
    if (this.#destroyed) return;
    try {
      this.#conn.setNoDelay(enable);
    } catch { /* closed meanwhile */ }
  }

  /** Sets SO_KEEPALIVE; Deno offers no initial delay, so `initialDelay` is ignored. */
  setKeepAlive(enable: boolean, _initialDelay?: number): void {
    if (this.#destroyed) return;
    try {
      this.#conn.setKeepAlive(enable);
    } catch { /* closed meanwhile */ }
  }

  #pump(): void {
    if (
      !this.#reading && !this.#paused && !this.#readEnded && !this.#destroyed &&
      (this.#started || this.#closing)
    ) void this.#readLoop();
  }

  async #readLoop(): Promise<void> {
    this.#reading = true;
    try {
      if (this.#held !== undefined) {
        await undefined; // resume() returns before the held chunk is delivered
        if (this.#paused && !this.#closing) return; // paused again meanwhile: keep holding
        const held = this.#held;
        this.#held = undefined;
        if (held !== undefined && !this.#destroyed) this.#deliver(held);
      }
      while (!this.#paused && !this.#destroyed && !this.#readEnded) {
        const buffer = this.#buffer ??= new Uint8Array(MIN_READ_BUFFER);
        const n = await this.#conn.read(buffer);
        if (this.#destroyed) break;
        if (n === null) {
          this.#onEof();
          break;
        }
        this.#resize(buffer.byteLength, n);
        const chunk = buffer.subarray(0, n);
        if (this.#paused && !this.#closing) {
          this.#held = chunk;
          break;
        }
        this.#deliver(chunk);
      }
    } catch (err) {
      this.#destroy(toSystemError(err));
    } finally {
      this.#reading = false;
      if (this.#destroyed) this.#maybeEmitClose();
    }
  }

  /** Grows the read buffer while reads fill it; shrinks it after small reads. */
  #resize(size: number, n: number): void {
    if (n === size) {
      this.#smallReads = 0;
      if (size < MAX_READ_BUFFER) this.#buffer = new Uint8Array(size * 2);
    } else if (size > MIN_READ_BUFFER && n <= size >>> 2) {
      if (++this.#smallReads >= 4) {
        this.#smallReads = 0;
        this.#buffer = new Uint8Array(MIN_READ_BUFFER);
      }
    } else {
      this.#smallReads = 0;
    }
  }

  #deliver(chunk: Uint8Array): void {
    if (this.#closing) return;
    const error = callSafely(() => this.#handlers.data(chunk));
    if (error !== undefined) this.#destroy(error);
  }

  #onEof(): void {
    this.#readEnded = true;
    if (!this.#closing) {
      const error = callSafely(() => this.#handlers.end());
      if (error !== undefined) return this.#destroy(error);
    }
    this.#maybeFinish();
  }

  async #writeLoop(): Promise<void> {
    this.#writing = true;
    try {
      await undefined; // writes made in the same turn join this batch
      while (!this.#destroyed) {
        if (!this.#queue.isEmpty) {
          const bytes = this.#queue.peek(MAX_GATHER);
          let written = 0;
          while (written < bytes.byteLength) {
            written += await this.#conn.write(written === 0 ? bytes : bytes.subarray(written));
            if (this.#destroyed) return;
          }
          this.#queue.consume(bytes.byteLength);
        } else if (this.#needDrain) {
          this.#needDrain = false;
          const error = callSafely(() => this.#handlers.drain());
          if (error !== undefined) return this.#destroy(error);
        } else {
          if (this.#finRequested && !this.#writeEnded) {
            await this.#conn.closeWrite();
            this.#writeEnded = true;
            this.#maybeFinish();
          }
          return;
        }
      }
    } catch (err) {
      this.#destroy(toSystemError(err));
    } finally {
      this.#writing = false;
      if (this.#destroyed) this.#maybeEmitClose();
    }
  }

  /** Releases the socket when both directions ended; arms the close linger. */
  #maybeFinish(): void {
    if (this.#destroyed || !this.#writeEnded) return;
    if (this.#readEnded) this.#destroy(undefined);
    else if (this.#closing && this.#linger === undefined) {
      this.#linger = setTimeout(() => this.#destroy(undefined), CLOSE_LINGER_MS);
    }
  }

  #destroy(error: Error | undefined): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#error = error;
    if (this.#linger !== undefined) clearTimeout(this.#linger);
    this.#queue.clear();
    this.#held = undefined;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    this.#maybeEmitClose();
  }

  /** Emits `close` once every pending read and write has settled. */
  #maybeEmitClose(): void {
    if (!this.#destroyed || this.#reading || this.#writing || this.#closeEmitted) return;
    if (!this.#started) return;
    this.#closeEmitted = true;
    const handlers = this.#handlers;
    this.#handlers = NOOP_HANDLERS;
    const error = callSafely(() => handlers.close(this.#error));
    if (error !== undefined) rethrowLater(error);
  }
}
