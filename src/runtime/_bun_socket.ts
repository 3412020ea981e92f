/**
 * The native Bun socket as a {@linkcode Socket}, with the adapter-owned
 * write queue Bun needs (its `write()` keeps nothing the kernel refuses).
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
import { parseIp } from "../net/ip_filter.ts";

// Bits of #flags.
const STARTED = 1;
const PAUSED = 2;
const RAW_PAUSED = 4;
const END_HELD = 8;
const READ_ENDED = 16;
const NEED_DRAIN = 32;
const FIN_REQUESTED = 64;
const WRITE_ENDED = 128;
const CLOSING = 256;
const ABORTED = 512;
const CLOSED = 1024;
const CLOSE_EMITTED = 2048;
/** The bits above these count the open `cork()` calls, one unit each. */
const CORK = 4096;
const CORKS = -CORK;

/** What only a closing or failed socket has (one slot fewer on every idle connection). */
interface Ending {
  error?: Error;
  linger?: ReturnType<typeof setTimeout>;
}

/** Bun's `Socket`, as far as used here. */
export interface BunRawSocket {
  data: BunSocket | undefined;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  write(data: Uint8Array, byteOffset?: number, byteLength?: number): number;
  shutdown(): void;
  end(): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  setNoDelay(enable?: boolean): boolean;
  setKeepAlive(enable?: boolean, initialDelay?: number): boolean;
}

/** Bun's `SocketHandler`, as far as used here. */
export interface BunHandlers {
  open(raw: BunRawSocket): void;
  data(raw: BunRawSocket, chunk: Uint8Array): void;
  drain(raw: BunRawSocket): void;
  end(raw: BunRawSocket): void;
  close(raw: BunRawSocket, error?: Error): void;
  error(raw: BunRawSocket, error: Error): void;
}

/**
 * A native Bun TCP socket as a {@linkcode Socket}. Chunks are fresh buffers;
 * `write` queues what the kernel does not take (false at 64 KiB queued).
 * Data that arrives while paused or before `start` is held and delivered,
 * in order, on `resume`/`start`.
 */
export class BunSocket implements Socket {
  /** Bun gives a new buffer per `data` call. */
  get sharedChunks(): boolean {
    return false;
  }
  /** `terminate()` sends RST. */
  get canReset(): boolean {
    return true;
  }
  #raw: BunRawSocket;
  #handlers: SocketHandlers = NOOP_HANDLERS;
  /** Boolean state, one bit each (accessors below): an idle connection stays small. */
  #flags = 0;
  // Bun forgets the addresses once the socket is closed: they are read at
  // once, and the NetAddr objects are built on first use.
  #remoteHost: string;
  #remotePort: number;
  #remote: NetAddr | undefined;
  #local: NetAddr | undefined;
  // read side
  #held: Uint8Array[] | undefined;
  // write side: the queue exists only while the kernel refuses bytes
  #queue: ChunkQueue | undefined;
  /** The one chunk written while corked with nothing queued (no queue made for it). */
  #one: Uint8Array | undefined;
  // lifetime
  #ending: Ending | undefined;

  /** Wraps a Bun socket and stores itself in `raw.data`. */
  /** True when any of `bits` is set in #flags. */
  #has(bits: number): boolean {
    return (this.#flags & bits) !== 0;
  }

  /**
   * `local`: our address when it is known without asking (a listener bound
   * to one address): Bun keeps every address string it is asked for on the
   * socket, 50-60 bytes each for as long as the connection lives.
   */
  constructor(raw: BunRawSocket, local?: NetAddr) {
    this.#raw = raw;
    raw.data = this;
    this.#remoteHost = sharedHost(raw.remoteAddress);
    this.#remotePort = raw.remotePort;
    this.#local = local ?? localAddr(raw.localAddress, raw.localPort);
  }

  /** The peer's address. */
  get remoteAddr(): NetAddr {
    return this.#remote ??= netAddr(this.#remoteHost, this.#remotePort);
  }

  /** Our side's address. */
  get localAddr(): NetAddr {
    return this.#local!;
  }

  /**
   * The handler object for `Bun.listen`/`Bun.connect`: `open` wraps each raw
   * socket and passes it to `onSocket`; the other handlers dispatch to it.
   */
  static handlers(
    onSocket?: (socket: BunSocket) => void,
    local?: { addr?: NetAddr },
  ): BunHandlers {
    return {
      open(raw) {
        const socket = new BunSocket(raw, local?.addr);
        if (onSocket === undefined) return;
        const error = callSafely(() => onSocket(socket));
        if (error !== undefined) {
          socket.abort();
          rethrowLater(error);
        }
      },
      data(raw, chunk) {
        const socket = raw.data;
        if (socket !== undefined) socket.#onData(chunk);
      },
      drain(raw) {
        const socket = raw.data;
        if (socket !== undefined) socket.#flush();
      },
      end(raw) {
        const socket = raw.data;
        if (socket !== undefined) socket.#onEnd();
      },
      close(raw, error) {
        const socket = raw.data;
        if (socket !== undefined) socket.#onClose(error);
      },
      error(raw, error) {
        const socket = raw.data;
        if (socket !== undefined) socket.#setError(toSystemError(error));
      },
    };
  }

  /** Bytes queued and not yet taken by the kernel. */
  get writableLength(): number {
    return (this.#queue?.byteLength ?? 0) + (this.#one?.byteLength ?? 0);
  }

  /** Starts event delivery; callable once. */
  start(handlers: SocketHandlers): void {
    if (this.#has(STARTED)) throw new Error("Cannot start the socket as it was already started");
    this.#flags |= STARTED;
    this.#handlers = handlers;
    if (this.#has(CLOSED)) {
      queueMicrotask(() => this.#finishClose());
      return;
    }
    if (this.#held !== undefined || this.#has(END_HELD)) {
      queueMicrotask(() => this.#flushHeld(false));
    }
    if (!this.#has(PAUSED)) this.#setRawPaused(false);
  }

  /**
   * @internal A TLS layer takes the socket over: starts it with `handlers`,
   * or replaces the handlers of a started one. False when closed or closing.
   */
  _takeOver(handlers: SocketHandlers): boolean {
    if (this.#has(CLOSED) || this.#has(CLOSING) || this.#has(ABORTED)) return false;
    if (!this.#has(STARTED)) this.start(handlers);
    else this.#handlers = handlers;
    return true;
  }

  /**
   * Stops delivery; Bun's own `pause()` is called when data arrives while
   * paused (that chunk and a FIN are held until `resume`). A pause undone
   * in the same turn (an echo told "wait" by a 64 KiB write that its
   * uncork then writes whole, resumed by the drain that follows) costs no
   * system calls: Bun pauses and resumes with two `epoll_ctl` each time.
   */
  pause(): void {
    if (this.#has(CLOSING)) return; // a closing socket reads on to see the FIN
    this.#flags |= PAUSED;
  }

  /** `socket.resume()`; held data is delivered first, asynchronously. */
  resume(): void {
    if (!this.#has(PAUSED) || this.#has(CLOSING)) return;
    this.#flags &= ~PAUSED;
    if (!this.#has(STARTED)) return;
    if (this.#held !== undefined || this.#has(END_HELD)) {
      queueMicrotask(() => this.#flushHeld(false));
    }
    this.#setRawPaused(false);
  }

  /**
   * Writes now what the kernel takes, queues the rest; false at 64 KiB queued.
   * Inside a cork, a chunk of 64 KiB or more is written at once too, after
   * the chunk gathered before it (the order and the system calls are the
   * same as at uncork): held, it would make the call return false and cost a
   * pause, a drain and a resume for bytes the uncork writes whole (a bulk
   * echo spent 13 % more CPU per chunk on that).
   */
  write(chunk: Uint8Array): boolean {
    if (this.#has(CLOSED) || this.#has(FIN_REQUESTED)) return false;
    let queue = this.#queue;
    if ((queue === undefined || queue.isEmpty) && chunk.byteLength > 0) {
      if ((this.#flags & CORKS) === 0 || chunk.byteLength >= WRITE_HIGH_WATER_MARK) {
        const one = this.#one;
        if (one !== undefined) {
          this.#one = undefined;
          const n = this.#raw.write(one);
          if (n < 0) return false; // closed under us; `close` follows
          if (n < one.byteLength) {
            queue ??= this.#queue = new ChunkQueue();
            queue.push(n === 0 ? one : one.subarray(n));
            queue.push(chunk);
            return this.#needDrain(); // at least the chunk's 64 KiB wait
          }
        }
        const n = this.#raw.write(chunk);
        if (n === chunk.byteLength) return true;
        if (n < 0) return false; // closed under us; `close` follows
        queue ??= this.#queue = new ChunkQueue();
        queue.push(n === 0 ? chunk : chunk.subarray(n));
      } else if (this.#one === undefined) {
        // Corked (a read batch): mostly one gathered chunk follows, written by uncork.
        this.#one = chunk;
        return true; // below the high-water mark
      } else {
        queue ??= this.#queue = new ChunkQueue();
        queue.push(this.#one);
        this.#one = undefined;
        queue.push(chunk);
      }
    } else {
      queue ??= this.#queue = new ChunkQueue();
      queue.push(chunk);
    }
    if (queue.byteLength < WRITE_HIGH_WATER_MARK) return true;
    return this.#needDrain();
  }

  /**
   * `write(buf.subarray(0, length))` without the view: with nothing queued or
   * corked before it, written now (even inside a cork, as the order is the
   * same), by offset and length.
   */
  writePrefix(buf: Uint8Array, length: number): boolean {
    if (length === buf.byteLength) return this.write(buf); // the whole buffer: no view either way
    const queue = this.#queue;
    if (
      length === 0 || this.#one !== undefined ||
      (queue !== undefined && !queue.isEmpty) || this.#has(CLOSED) || this.#has(FIN_REQUESTED)
    ) {
      return this.write(buf.subarray(0, length));
    }
    const n = this.#raw.write(buf, 0, length);
    if (n === length) return true;
    if (n < 0) return false; // closed under us; `close` follows
    (this.#queue ??= new ChunkQueue()).push(buf.subarray(n, length));
    return length - n < WRITE_HIGH_WATER_MARK || this.#needDrain();
  }

  /** A `drain` follows once the queue is written (at once, asynchronously, when it is empty). */
  requestDrain(): void {
    if (this.#has(CLOSED)) return;
    this.#flags |= NEED_DRAIN;
    if ((this.#flags & CORKS) === 0 && this.writableLength === 0) {
      queueMicrotask(() => this.#flush());
    }
  }

  /** Above the high-water mark: a `drain` will follow. Returns false. */
  #needDrain(): boolean {
    this.#flags |= NEED_DRAIN;
    return false;
  }

  /** Queues the following writes until `uncork`. */
  cork(): void {
    this.#flags += CORK;
  }

  /** Ends one `cork`; the last one writes what was gathered. */
  uncork(): void {
    const flags = this.#flags;
    if ((flags & CORKS) === 0) return;
    this.#flags = flags - CORK;
    if (((flags - CORK) & CORKS) === 0) this.#flush();
  }

  /** `shutdown()` (FIN) once the queue is written; reading continues. */
  closeWrite(): void {
    if (this.#has(CLOSED) || this.#has(FIN_REQUESTED)) return;
    this.#flags |= FIN_REQUESTED;
    this.#flush();
  }

  /**
   * Graceful close: write the queue, send FIN, discard input until the
   * peer's FIN (at most {@linkcode CLOSE_LINGER_MS}), then release.
   */
  close(): void {
    if (this.#has(CLOSED) || this.#has(CLOSING)) return;
    this.#flags |= CLOSING;
    this.#held = undefined;
    this.#flags &= ~END_HELD;
    this.#flags |= FIN_REQUESTED;
    if (this.#has(WRITE_ENDED)) this.#maybeFinish();
    else this.#flush();
    this.#flags &= ~PAUSED;
    this.#setRawPaused(false);
  }

  /** `terminate()`: drops the queue and sends RST. */
  abort(): void {
    if (this.#has(CLOSED)) return;
    this.#flags |= ABORTED;
    this.#queue = undefined;
    this.#one = undefined;
    this.#raw.terminate();
  }

  /** `socket.setNoDelay()` (Bun turns TCP_NODELAY on by default). */
  setNoDelay(enable: boolean): void {
    if (!this.#has(CLOSED)) this.#raw.setNoDelay(enable);
  }

  /** `socket.setKeepAlive(enable, ms)`; Bun also sets KEEPCNT 10 and KEEPINTVL 1 s. */
  setKeepAlive(enable: boolean, initialDelay?: number): void {
    if (!this.#has(CLOSED)) this.#raw.setKeepAlive(enable, initialDelay ?? 0);
  }

  #setRawPaused(paused: boolean): void {
    if (this.#has(RAW_PAUSED) === paused || this.#has(CLOSED)) return;
    this.#flags = paused ? this.#flags | RAW_PAUSED : this.#flags & ~RAW_PAUSED;
    if (paused) this.#raw.pause();
    else this.#raw.resume();
  }

  #onData(chunk: Uint8Array): void {
    const flags = this.#flags;
    if ((flags & (CLOSING | ABORTED | STARTED | PAUSED)) === STARTED && this.#held === undefined) {
      return this.#deliver(chunk);
    }
    if ((flags & (CLOSING | ABORTED)) !== 0) return;
    (this.#held ??= []).push(chunk);
    this.#setRawPaused(true);
  }

  #deliver(chunk: Uint8Array): void {
    try {
      this.#handlers.data(chunk);
    } catch (error) {
      this.#fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #onEnd(): void {
    this.#flags |= READ_ENDED;
    if (!this.#has(CLOSING) && !this.#has(ABORTED)) {
      if (this.#held !== undefined || !this.#has(STARTED) || this.#has(PAUSED)) {
        this.#flags |= END_HELD;
      } else this.#emitEnd();
    }
    this.#maybeFinish();
  }

  #emitEnd(): void {
    const error = callSafely(() => this.#handlers.end());
    if (error !== undefined) this.#fail(error);
  }

  /** Delivers held chunks (all of them when `force`), then a held `end`. */
  #flushHeld(force: boolean): void {
    const held = this.#held;
    if (held !== undefined) {
      while (
        held.length > 0 && (force || !this.#has(PAUSED)) && !this.#has(CLOSING) &&
        !this.#has(ABORTED)
      ) {
        this.#deliver(held.shift()!);
      }
      if (held.length > 0) return;
      this.#held = undefined;
    }
    if (this.#has(END_HELD) && (force || !this.#has(PAUSED))) {
      this.#flags &= ~END_HELD;
      this.#emitEnd();
    }
  }

  /** Writes queued bytes until the kernel refuses; then drain, FIN. */
  #flush(): void {
    if (this.#has(CLOSED)) return;
    const one = this.#one;
    if (one !== undefined) {
      // Written alone (nothing was queued while it was held).
      this.#one = undefined;
      const n = this.#raw.write(one);
      if (n < 0) return; // closed under us; `close` follows
      if (n < one.byteLength) {
        (this.#queue ??= new ChunkQueue()).push(n === 0 ? one : one.subarray(n));
        return; // Bun calls `drain` when writable again
      }
    }
    const queue = this.#queue;
    if (queue !== undefined) {
      while (!queue.isEmpty) {
        const bytes = queue.peek(MAX_GATHER);
        const n = this.#raw.write(bytes);
        if (n > 0) queue.consume(n);
        if (n < bytes.byteLength) return; // Bun calls `drain` when writable again
      }
      this.#queue = undefined;
    }
    if (this.#has(NEED_DRAIN)) {
      this.#flags &= ~NEED_DRAIN;
      const error = callSafely(() => this.#handlers.drain());
      if (error !== undefined) return this.#fail(error);
      if (this.#queue !== undefined || this.#has(CLOSED)) return;
    }
    if (this.#has(FIN_REQUESTED) && !this.#has(WRITE_ENDED)) {
      this.#flags |= WRITE_ENDED;
      this.#raw.shutdown();
      this.#maybeFinish();
    }
  }

  /** Releases the socket when both directions ended; arms the close linger. */
  #maybeFinish(): void {
    if (this.#has(CLOSED) || !this.#has(WRITE_ENDED)) return;
    if (this.#has(READ_ENDED)) this.#raw.end();
    else if (this.#has(CLOSING) && this.#ending?.linger === undefined) {
      (this.#ending ??= {}).linger = setTimeout(() => this.#raw.end(), CLOSE_LINGER_MS);
    }
  }

  /** Keeps the first error. */
  #setError(error: Error): void {
    (this.#ending ??= {}).error ??= error;
  }

  #fail(error: Error): void {
    if (this.#has(CLOSED)) return;
    this.#setError(error);
    this.#flags |= ABORTED;
    this.#queue = undefined;
    this.#one = undefined;
    this.#raw.end();
  }

  #onClose(error: Error | undefined): void {
    if (this.#has(CLOSED)) return;
    this.#flags |= CLOSED;
    const linger = this.#ending?.linger;
    if (linger !== undefined) clearTimeout(linger);
    if (error !== undefined) this.#setError(toSystemError(error));
    if (
      this.#ending?.error === undefined && !this.#has(READ_ENDED) && this.#has(WRITE_ENDED) &&
      !this.#has(CLOSING) && !this.#has(ABORTED)
    ) {
      // Bun reports the peer's FIN after our shutdown() only as `close`.
      this.#flags |= READ_ENDED;
      this.#flags |= END_HELD;
    }
    this.#queue = undefined;
    this.#one = undefined;
    if (this.#has(STARTED)) this.#finishClose();
  }

  #finishClose(): void {
    if (this.#has(CLOSE_EMITTED)) return;
    if (!this.#has(CLOSING) && !this.#has(ABORTED)) this.#flushHeld(true);
    this.#held = undefined;
    this.#flags &= ~END_HELD;
    this.#flags |= CLOSE_EMITTED;
    const handlers = this.#handlers;
    this.#handlers = NOOP_HANDLERS;
    const error = callSafely(() => handlers.close(this.#ending?.error));
    if (error !== undefined) rethrowLater(error);
  }
}

/**
 * Bun returns a new string per `remoteAddress` read; clients often share an
 * address, so the last one is kept and reused while it matches.
 */
let lastHost = "";
function sharedHost(host: string | undefined): string {
  if (host === undefined) return "";
  if (host === lastHost) return lastHost;
  return lastHost = host;
}

/**
 * The address every socket accepted by a listener on `hostname` has as its
 * own, when that is certain without asking: an IPv4 address written the way
 * Bun writes it, or `::1`; not a wildcard (each connection has its own
 * address then), nor a name.
 */
export function fixedLocalAddr(hostname: string, port: number): NetAddr | undefined {
  const ip = hostname === "::1" ? undefined : parseIp(hostname);
  const fixed = hostname === "::1" ||
    (ip?.length === 4 && ip.join(".") === hostname && hostname !== "0.0.0.0");
  return fixed ? Object.freeze(netAddr(hostname, port)) : undefined;
}

/**
 * The local address of accepted sockets is nearly always the listener's:
 * the last one built is shared while it matches (NetAddr is never mutated).
 */
let lastLocal: NetAddr | undefined;
function localAddr(hostname: string | undefined, port: number | undefined): NetAddr {
  const last = lastLocal;
  if (last !== undefined && last.hostname === (hostname ?? "") && last.port === (port ?? 0)) {
    return last;
  }
  return lastLocal = Object.freeze(netAddr(hostname, port));
}
