/**
 * The contract between runtime adapters (`src/runtime/`) and everything above
 * them. Adapters turn a runtime's sockets into {@linkcode Socket}s; the server
 * drives them with plain calls on the hot path and builds web streams on top
 * only for code that asks for them (see DESIGN.md "The hot path").
 *
 * @module
 */

import type {
  CertificateSummary,
  StartTlsOptions,
  TlsIdentity,
  TlsInfo,
  TlsServerConfig,
} from "./tls_types.ts";

export type {
  CertificateSummary,
  PeerCertificate,
  StartTlsOptions,
  TlsIdentity,
  TlsInfo,
  TlsServerConfig,
  TlsVersion,
} from "./tls_types.ts";

/** An address and port as seen by the operating system. */
export interface NetAddr {
  /** IP address (IPv6 without brackets, IPv4-mapped kept as `::ffff:a.b.c.d`). */
  hostname: string;
  /** TCP port. */
  port: number;
}

/** Callbacks a {@linkcode Socket} calls; set once with `Socket.start`. */
export interface SocketHandlers {
  /**
   * Bytes arrived. When {@linkcode Socket.sharedChunks} is true the chunk is
   * only valid until this call returns (the adapter reuses its read buffer).
   */
  data(chunk: Uint8Array): void;
  /** The peer sent FIN (half close); writing is still possible. */
  end(): void;
  /** The write queue fell to zero after having been above the high-water mark. */
  drain(): void;
  /** The socket is fully closed. `error` is set when it closed because of a failure. */
  close(error?: Error): void;
}

/**
 * One TCP (or TLS) connection, as an adapter hands it over. All methods are
 * synchronous and never throw for a closed socket (they become no-ops).
 */
export interface Socket {
  /** The peer's address. */
  readonly remoteAddr: NetAddr;
  /** Our side's address. */
  readonly localAddr: NetAddr;
  /** True when `data` chunks are borrowed views of a reused buffer. */
  readonly sharedChunks: boolean;
  /** True when {@linkcode Socket.abort} sends a real RST on this runtime. */
  readonly canReset: boolean;
  /**
   * True when `write` may be given views of the chunk being delivered to
   * `data` although {@linkcode Socket.sharedChunks} is true: the socket then
   * reads into another buffer until those bytes are written. It may change
   * from one chunk to the next (Node: only while the socket reads into a
   * buffer of its own), so read it inside `data`.
   */
  readonly lendsReadBuffer?: boolean;
  /**
   * For a consumer that keeps a chunk of the current `data` call after the
   * call (a stream's queue), on a socket whose chunks are borrowed
   * ({@linkcode Socket.sharedChunks}): returns the chunk itself when the
   * socket can give the buffer it read into away (it reads into another
   * one from then on), else a copy. A chunk that fills less than half of
   * its buffer is copied, so a kept chunk never holds more than twice its
   * bytes. Call it only inside `data`.
   */
  keepChunk?(chunk: Uint8Array): Uint8Array;
  /**
   * True when writes gathered by {@linkcode Socket.cork} leave in one
   * vectored write (writev) without being copied together: corking then
   * costs nothing, even for large chunks.
   */
  readonly gathersWrites?: boolean;
  /**
   * Lets reads grow past 64 KiB (to 128 KiB on Deno), for a stream whose
   * units are a little over a power of two (WebSocket frames). Only sockets
   * with a reused read buffer have it.
   */
  setLargeReads?(): void;
  /** Bytes accepted by `write` and not yet handed to the kernel. */
  readonly writableLength: number;
  /** Starts delivering events. Reading starts unpaused. */
  start(handlers: SocketHandlers): void;
  /** Stops reading the socket (TCP flow control then reaches the peer). */
  pause(): void;
  /** Resumes reading after {@linkcode Socket.pause}. */
  resume(): void;
  /**
   * Queues bytes. Returns false when the queue is above the high-water mark:
   * the caller should wait for `drain` before writing more. The chunk must not
   * be modified by the caller afterwards.
   */
  write(chunk: Uint8Array): boolean;
  /**
   * Optional: `write(buf.subarray(0, length))` without making that view,
   * for a socket whose runtime takes an offset and a length (Bun: a view
   * costs ~75 ns, once per read for a gathered reply).
   */
  writePrefix?(buf: Uint8Array, length: number): boolean;
  /**
   * A `drain` follows once every byte queued so far is handed to the
   * kernel, even if no `write` returned false (a caller whose own
   * high-water mark is below the socket's waits for it).
   */
  requestDrain?(): void;
  /** Gathers the following writes until {@linkcode Socket.uncork} (one syscall per batch). */
  cork(): void;
  /** Flushes writes gathered since {@linkcode Socket.cork}. */
  uncork(): void;
  /** Sends FIN after the queued bytes (half close); reading continues. */
  closeWrite(): void;
  /** Graceful close: flush queued bytes, send FIN, then release the socket. */
  close(): void;
  /** Abortive close: drop queued bytes and send RST where {@linkcode Socket.canReset}. */
  abort(): void;
  /** Sets TCP_NODELAY. */
  setNoDelay(enable: boolean): void;
  /** Enables or disables TCP keep-alive; `initialDelay` in milliseconds where supported. */
  setKeepAlive(enable: boolean, initialDelay?: number): void;
  /**
   * What the TLS handshake negotiated; present only on sockets made by
   * {@linkcode RuntimeAdapter.startTls} (plaintext sockets lack it).
   */
  tls?(): TlsInfo | undefined;
}

/** Options for listening on one address. */
export interface ListenOptions {
  /** Address to bind. `"::"` binds IPv6 and, unless `ipv6Only`, IPv4 too. @default "0.0.0.0" */
  hostname?: string;
  /** Port; 0 asks the system for a free one. @default 0 */
  port?: number;
  /** Pending-connection queue length where the runtime allows it (Bun: fixed at 512). @default 511 */
  backlog?: number;
  /** Lets several processes bind the same port (SO_REUSEPORT). @default false */
  reusePort?: boolean;
  /** With an IPv6 hostname, refuse IPv4 clients. @default false */
  ipv6Only?: boolean;
}

/** A bound listening socket. */
export interface Listener {
  /** The bound address (the real port when 0 was asked). */
  readonly addr: NetAddr;
  /** Stops accepting; connections already accepted are not touched. */
  close(): void;
}

/** Options for an outbound connection. */
export interface ConnectOptions {
  /** Host name or address. @default "127.0.0.1" */
  hostname?: string;
  /** Port. */
  port: number;
  /** Gives up after this many milliseconds. @default 10000 */
  timeout?: number;
}

/** What every runtime adapter provides. */
export interface RuntimeAdapter {
  /** Runtime name for messages: "deno", "bun" or "node". */
  readonly name: "deno" | "bun" | "node";
  /** Binds and listens; `onSocket` is called once per accepted connection. */
  listen(options: ListenOptions, onSocket: (socket: Socket) => void): Promise<Listener>;
  /** Opens an outbound TCP connection. */
  connect(options: ConnectOptions): Promise<Socket>;
  /** Opens a file for reading as a byte stream (`sendFile`). */
  openFile(path: string): Promise<ReadableStream<Uint8Array>>;
  /**
   * Runs a server-side TLS handshake over a plaintext socket (started or
   * not) and resolves with a new {@linkcode Socket}, not yet started, that
   * reads and writes cleartext through TLS. The plaintext socket belongs to
   * the TLS socket from the call on. Rejects (and destroys both) when the
   * handshake fails or takes longer than `config.handshakeTimeout`.
   */
  startTls?(socket: Socket, config: TlsServerConfig, options?: StartTlsOptions): Promise<Socket>;
  /**
   * Builds what the TLS library needs from each identity (and the CA list)
   * now, so bad material fails (with a `TlsError`) before listening; resolves
   * with the leaf certificates' facts in the same order (undefined for PFX).
   */
  prepareTls?(
    config: TlsServerConfig,
    identities: readonly TlsIdentity[],
  ): Promise<(CertificateSummary | undefined)[]>;
}
