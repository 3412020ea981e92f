/**
 * A `node:net` socket as a {@linkcode Socket} (Node, and the compatibility
 * engine on Deno and Bun).
 *
 * @module
 */

import type { NetAddr, Socket, SocketHandlers } from "../net/types.ts";
import { callSafely, CLOSE_LINGER_MS, netAddr, NOOP_HANDLERS, rethrowLater } from "./_common.ts";
import { toSystemError } from "./_errors.ts";
import { giveBack, LARGE_BUFFERS, takeBuffer } from "./buffer_pool.ts";

type Listener0 = (...args: any[]) => void;

/** Node's `EventEmitter`, as far as used here. */
export interface NodeEmitter {
  on(event: string, listener: Listener0): unknown;
  once(event: string, listener: Listener0): unknown;
  removeListener(event: string, listener: Listener0): unknown;
}

/** Node's `net.Socket`, as far as used here. */
export interface NodeRawSocket extends NodeEmitter {
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  readonly localAddress?: string;
  readonly localPort?: number;
  readonly writableLength: number;
  readonly writableFinished: boolean;
  readonly writableCorked?: number;
  readonly destroyed: boolean;
  write(chunk: Uint8Array, callback?: (error?: Error | null) => void): boolean;
  unshift(chunk: Uint8Array): void;
  end(): void;
  destroy(error?: Error): void;
  resetAndDestroy?(): void;
  pause(): void;
  resume(): void;
  cork(): void;
  uncork(): void;
  setNoDelay(noDelay?: boolean): void;
  setKeepAlive(enable?: boolean, initialDelay?: number): void;
}

/** Overrides for {@linkcode NodeSocket}'s constructor. */
export interface NodeSocketOptions {
  /** The peer's address, when `raw` cannot tell. */
  remoteAddr?: NetAddr;
  /** Our address, when `raw` cannot tell. */
  localAddr?: NetAddr;
  /** Whether `abort()` sends RST. @default whether `raw.resetAndDestroy` exists */
  canReset?: boolean;
  /**
   * True when `raw` was created with {@linkcode SHARED_READS} as its `onread`
   * option: data then arrives in the shared buffer, not as `data` events.
   */
  sharedReads?: boolean;
}

/** The empty write of {@linkcode NodeSocket.requestDrain}. */
const EMPTY = new Uint8Array(0);

/**
 * The read buffer of every socket created with {@linkcode SHARED_READS}:
 * Node reads into it and calls back at once, so one buffer serves them all
 * (no buffer allocated per read). 64 KiB, Node's own read size. Made on
 * first use: Bun and Deno load this file for outbound TLS (`tls_connect.ts`)
 * and never read into it.
 */
let sharedReadBuffer: Uint8Array | undefined;
/**
 * The shared read buffer of sockets given `setLargeReads` (WebSocket frames):
 * a client's window of four 16 KiB messages (65,568 bytes with their headers)
 * in one read, not two (the second of 32 bytes, forwarded alone).
 */
let largeSharedReadBuffer: Uint8Array | undefined;

/** The shared read buffer (`large`: of sockets given `setLargeReads`). */
function sharedBuffer(large: boolean): Uint8Array {
  return large
    ? largeSharedReadBuffer ??= new Uint8Array(131072)
    : sharedReadBuffer ??= new Uint8Array(65536);
}
/**
 * Sockets that may have a read buffer of their own (see `#nextBuffer`): at
 * most this many at once, so at most 8 MiB (4 MiB without large reads).
 */
const MAX_OWN_BUFFERS = 64;
/** Sockets with a read buffer of their own now. */
let ownBuffers = 0;
/** Reads of at most a quarter of the buffer, in a row, after which a socket gives its own buffer up. */
const SMALL_READS = 8;
/** The buffer of the next read, left by the read callback for `_sharedReadBuffer`. */
let nextBuffer: Uint8Array | undefined;
/** The buffer whose bytes a read callback is delivering now. */
let reading: ArrayBufferLike | undefined;

/**
 * A read buffer of `size` bytes for one socket: the start of a pooled
 * buffer (whose size classes leave room for a frame header), so reads stay
 * at the shared buffers' sizes.
 */
function ownBuffer(size: number): Uint8Array {
  const buf = takeBuffer(LARGE_BUFFERS, size);
  return buf.byteLength === size ? buf : buf.subarray(0, size);
}

/** The whole pooled buffer that `ownBuffer` gave a view of. */
function whole(own: Uint8Array): Uint8Array {
  return own.byteLength === own.buffer.byteLength ? own : new Uint8Array(own.buffer);
}

const OWNER = Symbol("netstreams.NodeSocket");

/**
 * With `onread`, Node's `pause()` and `resume()` stop and start the reads
 * themselves; but `net.Socket`'s `read()` and `_read()` start them too, and
 * the tick after every `resume()` calls `read(0)`, so a `pause()` made in
 * between did not hold (backpressure lost). Nothing is ever pushed to the
 * Readable of such a socket: this instance gets the plain `Duplex` `read`
 * and a `_read` that does nothing.
 */
function unhookReadStart(raw: NodeRawSocket): void {
  const socket = raw as unknown as { read(n?: number): unknown; _read(): void };
  const duplex = Object.getPrototypeOf(Object.getPrototypeOf(raw)) as { read?: unknown };
  if (typeof duplex.read === "function") socket.read = duplex.read as (n?: number) => unknown;
  socket._read = () => {};
}

function ownerOf(raw: NodeRawSocket): NodeSocket {
  return (raw as unknown as Record<symbol, NodeSocket>)[OWNER]!;
}

/**
 * A `node:net` socket as a {@linkcode Socket}. Chunks are views of a reused
 * read buffer with `sharedReads` (made with {@linkcode SHARED_READS}; Node's
 * own sockets), else fresh buffers (`sharedChunks` false: TLS sockets, and
 * `node:net` on Deno and Bun). The read buffer is shared by all sockets
 * while their reads are small; a socket whose reads fill it (bulk data) gets
 * a buffer of its own, which its writes may keep views of: it then reads
 * into another (`lendsReadBuffer`; an echo or relay of 64 KiB reads is not
 * copied). `write` follows Node's `writableHighWaterMark`;
 * `abort` sends RST with `resetAndDestroy`. Event listeners are shared
 * functions, not closures per socket.
 */
export class NodeSocket implements Socket {
  /** True when reads go to the shared buffer (`sharedReads`); else Node hands out a new buffer per read. */
  get sharedChunks(): boolean {
    return this.#sharedReads;
  }
  /**
   * True while the chunk being delivered is in this socket's own read
   * buffer: `write` may keep views of it, the socket reads into another
   * buffer until they are written. False for the shared buffer.
   */
  get lendsReadBuffer(): boolean {
    const own = this.#own;
    return own !== undefined && reading === own.buffer;
  }
  /**
   * A chunk of this socket's own read buffer (a large read) is given away:
   * the next read goes to another buffer. A chunk of the buffer shared by
   * all sockets, or one under half of its buffer, is copied.
   */
  keepChunk(chunk: Uint8Array): Uint8Array {
    const own = this.#own;
    if (
      own !== undefined && chunk.buffer === own.buffer && reading === own.buffer &&
      chunk.byteLength >= own.byteLength >>> 1
    ) {
      this.#ownGiven = true;
      return chunk;
    }
    return chunk.slice();
  }
  /** `uncork` hands the gathered chunks to libuv as one vectored write, uncopied. */
  get gathersWrites(): boolean {
    return true;
  }
  /** True where `resetAndDestroy` exists (Node 16.17+, Deno, Bun). */
  readonly canReset: boolean;
  #raw: NodeRawSocket;
  #sharedReads: boolean;
  #largeReads = false;
  /** This socket's own read buffer, while its reads are large (see `#nextBuffer`). */
  #own: Uint8Array | undefined;
  /** `#own` was given to a consumer by `keepChunk`: never read into, lent or given back again. */
  #ownGiven = false;
  #smallReads = 0;
  /**
   * Reads of up to 128 KiB instead of 64 KiB: only with `sharedReads` (Node's
   * own reads are 64 KiB, in fresh buffers).
   */
  readonly setLargeReads: (() => void) | undefined;
  static readonly #setLargeReads = function (this: NodeSocket): void {
    this.#largeReads = true;
  };
  #handlers: SocketHandlers = NOOP_HANDLERS;
  #started = false;
  #paused = false;
  /** The peer's FIN came while paused: `end` waits for `resume`. */
  #endHeld = false;
  #finRequested = false;
  #closing = false;
  #closed = false;
  #closeEmitted = false;
  #error: Error | undefined;
  #linger: ReturnType<typeof setTimeout> | undefined;
  /** The peer's address. */
  readonly remoteAddr: NetAddr;
  /** Our side's address. */
  readonly localAddr: NetAddr;

  /**
   * Wraps a connected `net.Socket` (paused, or not yet flowing). `options`
   * overrides what is read from `raw` (a TLS socket over a stream has no
   * addresses of its own and cannot reset by itself).
   */
  constructor(raw: NodeRawSocket, options: NodeSocketOptions = {}) {
    this.#raw = raw;
    this.canReset = options.canReset ?? typeof raw.resetAndDestroy === "function";
    this.#sharedReads = options.sharedReads === true;
    this.setLargeReads = this.#sharedReads ? NodeSocket.#setLargeReads : undefined;
    if (this.#sharedReads) unhookReadStart(raw);
    (raw as unknown as Record<symbol, NodeSocket>)[OWNER] = this;
    raw.on("error", NodeSocket.#onError);
    raw.on("close", NodeSocket.#onClose);
    // Node forgets the addresses once the handle is gone: read them now.
    this.remoteAddr = options.remoteAddr ?? netAddr(raw.remoteAddress, raw.remotePort);
    this.localAddr = options.localAddr ?? netAddr(raw.localAddress, raw.localPort);
  }

  /**
   * @internal Hands the `net.Socket` over (to a TLS layer): removes every
   * listener, pauses it, and returns it, or undefined when it is closed or
   * closing. This object then never emits again.
   */
  _detach(): NodeRawSocket | undefined {
    const raw = this.#raw;
    if (this.#closed || this.#closing || this.#finRequested || raw.destroyed) return undefined;
    raw.removeListener("data", NodeSocket.#onData);
    raw.removeListener("end", NodeSocket.#onEnd);
    raw.removeListener("drain", NodeSocket.#onDrain);
    raw.removeListener("error", NodeSocket.#onError);
    raw.removeListener("close", NodeSocket.#onClose);
    raw.pause();
    // Writes gathered by cork() (a "220 go ahead" reply) must leave before the TLS bytes.
    for (let n = raw.writableCorked ?? 0; n > 0; n--) raw.uncork();
    this.#closed = true;
    this.#closeEmitted = true;
    this.#handlers = NOOP_HANDLERS;
    if (this.#own !== undefined) {
      // Node may still read into it for the new owner: forgotten, not given back to the pool.
      this.#own = undefined;
      ownBuffers--;
    }
    return raw;
  }

  /**
   * @internal A TLS layer takes the socket over: starts it with `handlers`,
   * or replaces the handlers of a started one. False when closed or closing.
   */
  _takeOver(handlers: SocketHandlers): boolean {
    if (this.#closed || this.#closing) return false;
    if (!this.#started) this.start(handlers);
    else this.#handlers = handlers;
    return true;
  }

  /** Node's `writableLength`. */
  get writableLength(): number {
    return this.#raw.writableLength ?? 0;
  }

  /** Starts event delivery; callable once. */
  start(handlers: SocketHandlers): void {
    if (this.#started) throw new Error("Cannot start the socket as it was already started");
    this.#started = true;
    this.#handlers = handlers;
    if (this.#closed) {
      queueMicrotask(() => this.#emitClose());
      return;
    }
    const raw = this.#raw;
    if (!this.#sharedReads) raw.on("data", NodeSocket.#onData);
    raw.on("end", NodeSocket.#onEnd);
    raw.on("drain", NodeSocket.#onDrain);
    // Sockets accepted with pauseOnConnect start reading only on resume().
    if (!this.#paused) raw.resume();
  }

  /** `socket.pause()`: Node stops reading once its small buffer is full. */
  pause(): void {
    this.#paused = true;
    if (!this.#closed && !this.#closing) this.#raw.pause();
  }

  /** `socket.resume()`; a FIN held by `pause` is delivered as `end`, asynchronously. */
  resume(): void {
    this.#paused = false;
    if (!this.#closed && !this.#closing && this.#started) this.#raw.resume();
    if (this.#endHeld) queueMicrotask(() => this.#releaseEnd());
  }

  /** Delivers a held `end` unless paused again or closing meanwhile. */
  #releaseEnd(): void {
    if (!this.#endHeld || this.#paused) return;
    this.#endHeld = false;
    if (this.#closing || this.#closeEmitted) return;
    const error = callSafely(() => this.#handlers.end());
    if (error !== undefined) this.#fail(error);
  }

  /** `socket.write()`; false above Node's high-water mark (then `drain` follows). */
  write(chunk: Uint8Array): boolean {
    if (this.#closed || this.#finRequested || this.#raw.destroyed) return false;
    return this.#raw.write(chunk);
  }

  /**
   * A `drain` follows once everything written so far is flushed: an empty
   * write whose callback Node calls after the earlier ones.
   */
  requestDrain(): void {
    if (this.#closed || this.#finRequested || this.#raw.destroyed) return;
    this.#raw.write(EMPTY, () => {
      if (this.#closed) return;
      const error = callSafely(() => this.#handlers.drain());
      if (error !== undefined) this.#fail(error);
    });
  }

  /** `socket.cork()`. */
  cork(): void {
    if (!this.#closed) this.#raw.cork();
  }

  /** `socket.uncork()`. */
  uncork(): void {
    if (!this.#closed) this.#raw.uncork();
  }

  /** `socket.end()` with half-open allowed: FIN after the queue, reading goes on. */
  closeWrite(): void {
    if (this.#closed || this.#finRequested) return;
    this.#finRequested = true;
    this.#raw.end();
  }

  /**
   * Graceful close: write the queue, send FIN, discard input until the
   * peer's FIN (at most {@linkcode CLOSE_LINGER_MS} after our FIN), then release.
   */
  close(): void {
    if (this.#closed || this.#closing) return;
    this.#closing = true;
    const raw = this.#raw;
    if (!this.#finRequested) {
      this.#finRequested = true;
      raw.end();
    }
    if (raw.writableFinished) this.#startLinger();
    else raw.once("finish", NodeSocket.#onFinish);
    raw.on("data", NodeSocket.#discard);
    raw.resume();
  }

  /** `resetAndDestroy()`: drops the queue and sends RST. */
  abort(): void {
    if (this.#closed) return;
    const raw = this.#raw;
    if (typeof raw.resetAndDestroy === "function") raw.resetAndDestroy();
    else raw.destroy();
  }

  /** `socket.setNoDelay()`. */
  setNoDelay(enable: boolean): void {
    if (!this.#closed) this.#raw.setNoDelay(enable);
  }

  /** `socket.setKeepAlive()`; `initialDelay` in milliseconds (0 keeps the system value). */
  setKeepAlive(enable: boolean, initialDelay?: number): void {
    if (!this.#closed) this.#raw.setKeepAlive(enable, initialDelay ?? 0);
  }

  #startLinger(): void {
    if (this.#closed || this.#linger !== undefined) return;
    this.#linger = setTimeout(() => this.#raw.destroy(), CLOSE_LINGER_MS);
  }

  #emitClose(): void {
    if (this.#closeEmitted) return;
    if (this.#endHeld && this.#error === undefined) {
      this.#paused = false; // closed while paused: the FIN is told before the close
      this.#releaseEnd();
    }
    this.#closeEmitted = true;
    const handlers = this.#handlers;
    this.#handlers = NOOP_HANDLERS;
    const error = callSafely(() => handlers.close(this.#error));
    if (error !== undefined) rethrowLater(error);
  }

  #fail(error: Error): void {
    this.#error ??= error;
    this.#raw.destroy(error);
  }

  static #onData(this: NodeRawSocket, chunk: Uint8Array): void {
    const socket = ownerOf(this);
    if (socket.#closing) return;
    const error = callSafely(() => socket.#handlers.data(chunk));
    if (error !== undefined) socket.#fail(error);
  }

  static #discard(): void {}

  /**
   * `onread.buffer` of {@linkcode SHARED_READS}: the buffer of the next read.
   * Node asks once when the socket is made (the shared buffer), then right
   * after every read callback (without `this`): the callback leaves the
   * answer in `nextBuffer`. Node keeps the buffer alive while it reads into it.
   */
  static _sharedReadBuffer(): Uint8Array {
    const next = nextBuffer ?? sharedBuffer(false);
    nextBuffer = undefined;
    return next;
  }

  /**
   * `onread.callback` of {@linkcode SHARED_READS}: `this` is the `net.Socket`.
   * Reads start only at `start()` (the socket is made paused, and
   * `unhookReadStart` keeps Node from starting them), or at `close()`, which
   * discards what comes.
   */
  static _onSharedRead(this: NodeRawSocket, n: number, buffer: Uint8Array): boolean {
    const socket = ownerOf(this);
    if (socket === undefined || socket.#closed) return false;
    if (!socket.#closing) {
      const chunk = buffer.subarray(0, n);
      reading = buffer.buffer;
      const error = callSafely(() => socket.#handlers.data(chunk));
      reading = undefined;
      if (error !== undefined) socket.#fail(error);
    }
    nextBuffer = socket.#nextBuffer(buffer, n);
    return true;
  }

  /**
   * The buffer of this socket's next read, after a read of `n` bytes into
   * `buffer`. Reads that fill the shared buffer get the socket a buffer of
   * its own (from {@linkcode LARGE_BUFFERS}), while fewer than
   * {@linkcode MAX_OWN_BUFFERS} sockets have one. Writes still queued after
   * the callback may hold views of it: it is then lent to the queue and the
   * socket reads into another. After {@linkcode SMALL_READS} small reads in
   * a row the socket goes back to the shared buffer. Large reads (a
   * WebSocket upgrade) may be asked for by the data handler meanwhile.
   */
  #nextBuffer(buffer: Uint8Array, n: number): Uint8Array {
    const given = this.#ownGiven;
    if (given) {
      this.#ownGiven = false;
      this.#own = undefined; // the consumer keeps it
      ownBuffers--;
    }
    const shared = sharedBuffer(this.#largeReads);
    const size = shared.byteLength;
    let own = this.#own;
    if (this.#closing || this.#closed) {
      this.#dropOwnBuffer();
      return shared;
    }
    if (own === undefined) {
      // Bulk data: a read that filled the shared buffer, or a large one a consumer kept.
      if ((!given && n < buffer.byteLength) || ownBuffers >= MAX_OWN_BUFFERS) return shared;
      ownBuffers++;
      this.#smallReads = 0;
      return this.#own = ownBuffer(size);
    }
    if (n <= own.byteLength >>> 2 && ++this.#smallReads >= SMALL_READS) {
      this.#dropOwnBuffer();
      return shared;
    }
    if (n > own.byteLength >>> 2) this.#smallReads = 0;
    if (this.#raw.writableLength > 0) {
      LARGE_BUFFERS.lend(whole(own), this.#raw); // written views of it may be queued
      own = this.#own = ownBuffer(size);
    } else if (own.byteLength < size) {
      giveBack(LARGE_BUFFERS, whole(own));
      own = this.#own = ownBuffer(size);
    }
    return own;
  }

  /** Gives this socket's own read buffer back (unless its queue may hold views of it) and forgets it. */
  #dropOwnBuffer(): void {
    const own = this.#own;
    if (own === undefined) return;
    this.#own = undefined;
    ownBuffers--;
    if (this.#raw.writableLength > 0) LARGE_BUFFERS.lend(whole(own), this.#raw);
    else giveBack(LARGE_BUFFERS, whole(own));
  }

  static #onEnd(this: NodeRawSocket): void {
    const socket = ownerOf(this);
    if (socket.#closing) return;
    if (socket.#paused) {
      socket.#endHeld = true;
      return;
    }
    const error = callSafely(() => socket.#handlers.end());
    if (error !== undefined) socket.#fail(error);
  }

  static #onDrain(this: NodeRawSocket): void {
    const socket = ownerOf(this);
    const error = callSafely(() => socket.#handlers.drain());
    if (error !== undefined) socket.#fail(error);
  }

  static #onFinish(this: NodeRawSocket): void {
    ownerOf(this).#startLinger();
  }

  static #onError(this: NodeRawSocket, error: Error): void {
    const socket = ownerOf(this);
    socket.#error ??= toSystemError(error);
  }

  static #onClose(this: NodeRawSocket): void {
    const socket = ownerOf(this);
    socket.#closed = true;
    socket.#dropOwnBuffer();
    if (socket.#linger !== undefined) clearTimeout(socket.#linger);
    if (socket.#started) socket.#emitClose();
  }
}

/**
 * The `onread` option that makes a `net.Socket` read into one buffer shared
 * by all sockets (`new net.Socket({ onread })`, `net.connect({ onread })`);
 * wrap the socket with `{ sharedReads: true }`.
 */
export const SHARED_READS = {
  buffer: NodeSocket._sharedReadBuffer,
  callback: NodeSocket._onSharedRead,
} as const;
