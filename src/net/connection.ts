/**
 * One accepted connection: framing, pause/resume, writes with a bounded
 * queue, timeouts bookkeeping and the streams face.
 *
 * @module
 */

import type { FramingCore, Segment } from "../codec/types.ts";
import type { NetAddr, Socket, SocketHandlers } from "./types.ts";
import { createCore, type Framing, type FramingOptions, resolveFraming } from "./framing.ts";
import { codeOf, ConnectionError, ErrorCode, ServerError, statusOf } from "./errors.ts";
import { type PushSource, pushReadable } from "./_push_readable.ts";
import { sendFile, type SendFileOptions } from "./_send_file.ts";
import type { StartTlsOptions, TlsInfo } from "./tls_types.ts";
import { TlsError } from "../runtime/errors.ts";
import { HandshakingSocket } from "./_handshaking_socket.ts";

// Bits of #flags.
const STARTED = 1;
const UPGRADING = 2;
const REFRAME = 4;
const USER_PAUSED = 8;
const STREAM_PAUSED = 16;
const CLOSING = 32;
const IS_CLOSED = 64;
const FAILED = 128;
const BATCHING = 256;
const PUSHING = 512;

/** How a connection ended (reference: Disconnected StatusCode / Description). */
export interface CloseInfo {
  /** 0 for a normal close, else the reference number of the system error (10054 reset, 10060 timeout). */
  code: number;
  /** "OK" or a description of the failure. */
  reason: string;
  /** The failure, with its system `code`, when the close was not normal. */
  error?: Error;
}

/** What a connection needs from its server. */
export interface ConnectionHost {
  /** Hot-path data callback, when the application uses events. */
  onData?: (conn: Connection, bytes: Uint8Array, eol: boolean) => void;
  /** The send queue drained (ReadyToSend). */
  onDrain?: (conn: Connection) => void;
  /** Peer sent FIN while `allowHalfOpen` is on. */
  onEnd?: (conn: Connection) => void;
  /** Keep the write side open after the peer's FIN. */
  allowHalfOpen: boolean;
  /** Graceful (true) or abortive (false) `disconnect()`. */
  linger: boolean;
  /** Queue size in bytes above which `write` returns false. */
  writeHighWaterMark: number;
  /** Queue size in bytes above which `write` throws code 135. */
  maxWriteBuffer: number;
  /** Raw-bytes readable high-water mark in bytes. */
  readHighWaterMark: number;
  /** Milliseconds a graceful close may take before the connection is reset. */
  closeTimeout: number;
  /** Opens a file as a byte stream. */
  openFile(path: string): Promise<ReadableStream<Uint8Array>>;
  /** Reports an error thrown by application code (reference: Error event). */
  report(error: Error, conn: Connection): void;
  /** Called once when the connection has closed. */
  closed(conn: Connection, info: CloseInfo): void;
  /** A per-connection timeout changed (the sweeper may need a finer tick). */
  timeoutChanged(ms: number): void;
  /**
   * Runs the server-side TLS handshake over `socket` and judges the client
   * certificate; resolves with the TLS socket (not started). Absent when
   * the server has no TLS.
   */
  startTls?(conn: Connection, socket: Socket, options: StartTlsOptions): Promise<Socket>;
  /** A TLS handshake completed on `conn` (reference: Connected after StartSSL). */
  secured?(conn: Connection): void;
}

/** Options of {@linkcode Connection.startTls}. */
export interface ConnectionStartTlsOptions {
  /**
   * Bytes the application already took from the connection that belong to
   * the TLS stream: on an unframed connection, what followed the STARTTLS
   * command in the same chunk. With framing, the connection keeps such
   * bytes itself and this is not needed.
   */
  initialData?: Uint8Array;
}

type Consumer = "events" | "bytes" | "segments";
type TlsState = "none" | "handshaking" | "secure" | "failed";
type DrainWaiter = { resolve(): void; reject(e: unknown): void };

/** The rarely used part of a connection's state (TLS, streams, closing, waiters, held bytes). */
class Extras {
  tls: TlsInfo | undefined = undefined;
  tlsState: TlsState = "none";
  tlsRest: Uint8Array | undefined = undefined;
  source: PushSource<Uint8Array> | PushSource<Segment> | undefined = undefined;
  writable: WritableStream<Uint8Array> | undefined = undefined;
  drainWaiters: DrainWaiter[] | undefined = undefined;
  closedP: Promise<CloseInfo> | undefined = undefined;
  resolveClosed: ((info: CloseInfo) => void) | undefined = undefined;
  info: CloseInfo | undefined = undefined;
  closeTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  stalledFor = 0;
  flushedAtSweep = 0;
  held: Uint8Array | undefined = undefined;
  closeError: Error | undefined = undefined;
  emitFn: ((bytes: Uint8Array, eol: boolean) => void) | undefined = undefined;
}

/**
 * A live TCP connection of a {@linkcode Server}.
 *
 * @example Echo lines with the streams face
 * ```ts ignore
 * const server = await serve({ port: 0, singleLineMode: true, async onConnection(conn) {
 *   for await (const line of conn.segments) await conn.send(line.bytes);
 * } });
 * ```
 */
export class Connection {
  /** Unique id within the server (reference: ConnectionId). */
  readonly id: string;
  /** Free slot for application state (reference: UserData). */
  data: unknown = undefined;
  /** Bytes received so far. */
  bytesReceived = 0;
  /** Bytes accepted for sending so far. */
  bytesSent = 0;
  /** Idle timeout in milliseconds, 0 = none (reference: IdleTimeout). */
  #idleTimeout: number;
  /** Write (send) timeout in milliseconds, 0 = none (reference: Timeout). */
  #writeTimeout: number;
  /** @internal set on any traffic, cleared by the sweeper. */
  _touched = false;
  /** @internal milliseconds without traffic, kept by the sweeper. */
  _idleFor = 0;

  #socket: Socket;
  /** Boolean state, one bit each (accessors below): an idle connection stays small. */
  #flags = 0;
  readonly #host: ConnectionHost;
  #framing: Framing;
  #core: FramingCore | undefined;
  #consumer: Consumer = "events";
  /** State most connections never use, built on first use (accessors below). */
  #x: Extras | undefined;

  get #started(): boolean {
    return (this.#flags & STARTED) !== 0;
  }
  set #started(on: boolean) {
    this.#flags = on ? this.#flags | STARTED : this.#flags & ~STARTED;
  }
  get #upgrading(): boolean {
    return (this.#flags & UPGRADING) !== 0;
  }
  set #upgrading(on: boolean) {
    this.#flags = on ? this.#flags | UPGRADING : this.#flags & ~UPGRADING;
  }
  get #reframe(): boolean {
    return (this.#flags & REFRAME) !== 0;
  }
  set #reframe(on: boolean) {
    this.#flags = on ? this.#flags | REFRAME : this.#flags & ~REFRAME;
  }
  get #userPaused(): boolean {
    return (this.#flags & USER_PAUSED) !== 0;
  }
  set #userPaused(on: boolean) {
    this.#flags = on ? this.#flags | USER_PAUSED : this.#flags & ~USER_PAUSED;
  }
  get #streamPaused(): boolean {
    return (this.#flags & STREAM_PAUSED) !== 0;
  }
  set #streamPaused(on: boolean) {
    this.#flags = on ? this.#flags | STREAM_PAUSED : this.#flags & ~STREAM_PAUSED;
  }
  get #closing(): boolean {
    return (this.#flags & CLOSING) !== 0;
  }
  set #closing(on: boolean) {
    this.#flags = on ? this.#flags | CLOSING : this.#flags & ~CLOSING;
  }
  get #isClosed(): boolean {
    return (this.#flags & IS_CLOSED) !== 0;
  }
  set #isClosed(on: boolean) {
    this.#flags = on ? this.#flags | IS_CLOSED : this.#flags & ~IS_CLOSED;
  }
  get #failed(): boolean {
    return (this.#flags & FAILED) !== 0;
  }
  set #failed(on: boolean) {
    this.#flags = on ? this.#flags | FAILED : this.#flags & ~FAILED;
  }
  get #batching(): boolean {
    return (this.#flags & BATCHING) !== 0;
  }
  set #batching(on: boolean) {
    this.#flags = on ? this.#flags | BATCHING : this.#flags & ~BATCHING;
  }
  get #pushing(): boolean {
    return (this.#flags & PUSHING) !== 0;
  }
  set #pushing(on: boolean) {
    this.#flags = on ? this.#flags | PUSHING : this.#flags & ~PUSHING;
  }

  get #tls(): TlsInfo | undefined {
    const x = this.#x;
    return x === undefined ? undefined : x.tls;
  }
  set #tls(v: TlsInfo | undefined) {
    if (v !== undefined || this.#x !== undefined) (this.#x ??= new Extras()).tls = v;
  }
  get #tlsState(): TlsState {
    const x = this.#x;
    return x === undefined ? "none" : x.tlsState;
  }
  set #tlsState(v: TlsState) {
    if (v !== "none" || this.#x !== undefined) (this.#x ??= new Extras()).tlsState = v;
  }
  get #tlsRest(): Uint8Array | undefined {
    const x = this.#x;
    return x === undefined ? undefined : x.tlsRest;
  }
  set #tlsRest(v: Uint8Array | undefined) {
    if (v !== undefined || this.#x !== undefined) (this.#x ??= new Extras()).tlsRest = v;
  }
  get #source(): PushSource<Uint8Array> | PushSource<Segment> | undefined {
    const x = this.#x;
    return x === undefined ? undefined : x.source;
  }
  set #source(v: PushSource<Uint8Array> | PushSource<Segment> | undefined) {
    if (v !== undefined || this.#x !== undefined) (this.#x ??= new Extras()).source = v;
  }
  get #writable(): WritableStream<Uint8Array> | undefined {
    const x = this.#x;
    return x === undefined ? undefined : x.writable;
  }
  set #writable(v: WritableStream<Uint8Array> | undefined) {
    if (v !== undefined || this.#x !== undefined) (this.#x ??= new Extras()).writable = v;
  }
  get #drainWaiters(): DrainWaiter[] | undefined {
    const x = this.#x;
    return x === undefined ? undefined : x.drainWaiters;
  }
  set #drainWaiters(v: DrainWaiter[] | undefined) {
    if (v !== undefined || this.#x !== undefined) (this.#x ??= new Extras()).drainWaiters = v;
  }
  get #closedP(): Promise<CloseInfo> | undefined {
    const x = this.#x;
    return x === undefined ? undefined : x.closedP;
  }
  set #closedP(v: Promise<CloseInfo> | undefined) {
    if (v !== undefined || this.#x !== undefined) (this.#x ??= new Extras()).closedP = v;
  }
  get #resolveClosed(): ((info: CloseInfo) => void) | undefined {
    const x = this.#x;
    return x === undefined ? undefined : x.resolveClosed;
  }
  set #resolveClosed(v: ((info: CloseInfo) => void) | undefined) {
    if (v !== undefined || this.#x !== undefined) (this.#x ??= new Extras()).resolveClosed = v;
  }
  get #info(): CloseInfo | undefined {
    const x = this.#x;
    return x === undefined ? undefined : x.info;
  }
  set #info(v: CloseInfo | undefined) {
    if (v !== undefined || this.#x !== undefined) (this.#x ??= new Extras()).info = v;
  }
  get #closeTimer(): ReturnType<typeof setTimeout> | undefined {
    const x = this.#x;
    return x === undefined ? undefined : x.closeTimer;
  }
  set #closeTimer(v: ReturnType<typeof setTimeout> | undefined) {
    if (v !== undefined || this.#x !== undefined) (this.#x ??= new Extras()).closeTimer = v;
  }
  get #held(): Uint8Array | undefined {
    return this.#x?.held;
  }
  set #held(v: Uint8Array | undefined) {
    if (v !== undefined || this.#x !== undefined) (this.#x ??= new Extras()).held = v;
  }
  get #closeError(): Error | undefined {
    return this.#x?.closeError;
  }
  set #closeError(v: Error | undefined) {
    if (v !== undefined || this.#x !== undefined) (this.#x ??= new Extras()).closeError = v;
  }
  get #emitFn(): ((bytes: Uint8Array, eol: boolean) => void) | undefined {
    return this.#x?.emitFn;
  }
  set #emitFn(v: ((bytes: Uint8Array, eol: boolean) => void) | undefined) {
    if (v !== undefined || this.#x !== undefined) (this.#x ??= new Extras()).emitFn = v;
  }
  /** @internal milliseconds with a stalled send queue, kept by the sweeper. */
  get _stalledFor(): number {
    return this.#x?.stalledFor ?? 0;
  }
  set _stalledFor(ms: number) {
    if (ms !== 0 || this.#x !== undefined) (this.#x ??= new Extras()).stalledFor = ms;
  }
  /** @internal bytes flushed at the last sweep. */
  get _flushedAtSweep(): number {
    return this.#x?.flushedAtSweep ?? 0;
  }
  set _flushedAtSweep(n: number) {
    if (n !== 0 || this.#x !== undefined) (this.#x ??= new Extras()).flushedAtSweep = n;
  }

  /** @internal Created by the server. */
  constructor(
    id: string,
    socket: Socket,
    host: ConnectionHost,
    framing: Framing,
    timeouts: { idle: number; write: number },
  ) {
    this.id = id;
    this.#socket = socket;
    this.#host = host;
    this.#framing = framing;
    this.#core = createCore(framing);
    this.#idleTimeout = timeouts.idle;
    this.#writeTimeout = timeouts.write;
  }

  get #emit(): (bytes: Uint8Array, eol: boolean) => void {
    return this.#emitFn ??= (bytes, eol) => this.#deliver(bytes, eol);
  }

  /** The peer's address and port (reference: RemoteHost, RemotePort). */
  get remoteAddr(): NetAddr {
    return this.#socket.remoteAddr;
  }
  /** Our address and port (reference: LocalAddress). */
  get localAddr(): NetAddr {
    return this.#socket.localAddr;
  }
  /** Resolves when the connection has closed, with how it closed. Never rejects. */
  get closed(): Promise<CloseInfo> {
    const info = this.#info;
    return this.#closedP ??= info !== undefined
      ? Promise.resolve(info)
      : new Promise((resolve) => (this.#resolveClosed = resolve));
  }
  /** True until the connection is closing or closed (sending is possible). */
  get connected(): boolean {
    return !this.#isClosed && !this.#closing;
  }
  /**
   * What the TLS handshake negotiated (reference: SSLNegotiatedVersion,
   * SSLNegotiatedCipher, client certificate); undefined on a plaintext
   * connection and during the handshake.
   */
  get tls(): TlsInfo | undefined {
    return this.#tls;
  }
  /** True while reading is paused by {@linkcode Connection.pause} (reference: AcceptData false). */
  get paused(): boolean {
    return this.#userPaused;
  }

  // ---- framing (reference: EOL, SingleLineMode, MaxLineLength, RecordLength) ----

  /** Current framing settings. */
  get framing(): Readonly<Framing> {
    return this.#framing;
  }
  /**
   * Changes framing; allowed at any time, including inside the data callback,
   * where it applies to the very next byte (reference: ChangeRecordLength in DataIn).
   */
  setFraming(options: FramingOptions): void {
    const next = resolveFraming(options, this.#framing);
    const prev = this.#framing;
    this.#framing = next;
    const core = this.#core;
    const onlyRecordLength = prev.recordLength > 0 && next.recordLength > 0;
    if (onlyRecordLength && core && "setRecordLength" in core) {
      (core as unknown as { setRecordLength(n: number): void }).setRecordLength(next.recordLength);
      return;
    }
    this.#reframe = true;
    core?.halt();
    if (!this.#pushing) this.#applyReframe();
  }
  /** Record length in bytes, 0 = off (reference: RecordLength / ChangeRecordLength). */
  get recordLength(): number {
    return this.#framing.recordLength;
  }
  set recordLength(n: number) {
    this.setFraming({ recordLength: n });
  }

  // ---- timeouts ----

  /** Idle timeout in milliseconds (no data either way), 0 = none. */
  get idleTimeout(): number {
    return this.#idleTimeout;
  }
  set idleTimeout(ms: number) {
    this.#idleTimeout = checkMs("idleTimeout", ms);
    this.#host.timeoutChanged(ms);
  }
  /** Send timeout in milliseconds: the connection fails when its queue makes no progress that long. 0 = none. */
  get writeTimeout(): number {
    return this.#writeTimeout;
  }
  set writeTimeout(ms: number) {
    this.#writeTimeout = checkMs("writeTimeout", ms);
    this.#host.timeoutChanged(ms);
  }

  // ---- reading ----

  /** Stops delivering data and stops reading the socket (reference: PauseData). */
  pause(): void {
    if (this.#userPaused) return;
    this.#userPaused = true;
    this.#core?.halt();
    this.#socket.pause();
  }
  /** Resumes after {@linkcode Connection.pause} (reference: ProcessData). */
  resume(): void {
    if (!this.#userPaused) return;
    this.#userPaused = false;
    const held = this.#held;
    this.#held = undefined;
    if (held && held.length > 0) this.#feed(held);
    if (!this.#userPaused && !this.#streamPaused && !this.#isClosed) this.#socket.resume();
  }

  /**
   * Incoming bytes as they arrive, with no framing. Using it switches the
   * connection from events to this stream; it can be taken once.
   */
  get readable(): ReadableStream<Uint8Array> {
    if (this.#consumer === "bytes") return (this.#source as PushSource<Uint8Array>).stream;
    this.#take("bytes");
    const hwm = this.#host.readHighWaterMark;
    const src = pushReadable<Uint8Array>(this.#streamHooks(), {
      highWaterMark: hwm,
      size: (c: Uint8Array) => c.byteLength,
    });
    this.#source = src;
    if (this.#isClosed || this.#closing) src.close();
    return src.stream;
  }

  /**
   * Incoming units cut by the connection's framing ({@linkcode Segment}s).
   * Using it switches the connection from events to this stream; once only.
   */
  get segments(): ReadableStream<Segment> {
    if (this.#consumer === "segments") return (this.#source as PushSource<Segment>).stream;
    this.#take("segments");
    const src = pushReadable<Segment>(this.#streamHooks(), { highWaterMark: 64 });
    this.#source = src;
    if (this.#isClosed || this.#closing) src.close();
    return src.stream;
  }

  // ---- writing ----

  /** Bytes that can still be queued before `write` returns false (reference: ReadyToSend). */
  get desiredSize(): number {
    return this.#host.writeHighWaterMark - this.#socket.writableLength - this.#stageLength;
  }
  /** Bytes queued and not yet handed to the kernel. */
  get writableLength(): number {
    return this.#socket.writableLength + this.#stageLength;
  }
  /** Resolves when {@linkcode Connection.desiredSize} is positive; rejects when the connection closes first. */
  get ready(): Promise<void> {
    if (this.#isClosed || this.#closing) return Promise.reject(this.#closedError());
    if (this.desiredSize > 0) return Promise.resolve();
    return new Promise((resolve, reject) => (this.#drainWaiters ??= []).push({ resolve, reject }));
  }

  /**
   * Queues bytes without waiting. Returns false when the queue is above the
   * high-water mark. Throws {@linkcode ServerError} 135 (would block) when the
   * queue would exceed `maxWriteBuffer`, and {@linkcode ConnectionError}
   * `EPIPE` when the connection is closed.
   */
  write(chunk: Uint8Array): boolean {
    const flags = this.#flags;
    if ((flags & (IS_CLOSED | CLOSING)) !== 0) throw this.#closedError();
    const n = chunk.byteLength;
    const staged = this.#stageLength;
    const queued = this.#socket.writableLength + staged;
    const host = this.#host;
    if (queued > 0 && queued + n > host.maxWriteBuffer) {
      throw new ServerError(
        ErrorCode.WouldBlock,
        `Cannot queue ${n} bytes on connection ${this.id}: ${queued} bytes are waiting; await conn.ready first`,
      );
    }
    this._touched = true;
    this.bytesSent += n;
    if ((flags & BATCHING) !== 0) {
      // Inside a read batch: small writes are gathered into one buffer (one
      // copy, one system call per read); bytes of the read buffer are copied.
      if (n <= STAGE_MAX) {
        this.#stage(chunk, n, staged);
        return host.writeHighWaterMark - queued - n > 0;
      }
      this.#flushStage();
      if (this.#readBuffer !== undefined && chunk.buffer === this.#readBuffer) chunk = chunk.slice();
    }
    return this.#socket.write(chunk);
  }

  #readBuffer: ArrayBufferLike | undefined;
  #stageBuf: Uint8Array | undefined;
  #stageLength = 0;

  /** Appends `n` bytes of `chunk` to the `len` bytes gathered so far. */
  #stage(chunk: Uint8Array, n: number, len: number): void {
    let buf = this.#stageBuf;
    if (buf === undefined || len + n > buf.byteLength) {
      const grown = new Uint8Array(Math.max(STAGE_MIN, (len + n) * 2));
      if (buf !== undefined) grown.set(buf.subarray(0, len));
      buf = this.#stageBuf = grown;
    }
    if (n <= 16) {
      // A line end or a short reply: a loop beats set() at this size.
      for (let i = 0; i < n; i++) buf[len + i] = chunk[i];
    } else buf.set(chunk, len);
    this.#stageLength = len + n;
  }

  #flushStage(): void {
    const len = this.#stageLength;
    if (len === 0) return;
    const buf = this.#stageBuf!;
    // The socket keeps a reference to what it is given: start a new buffer next time.
    this.#stageBuf = undefined;
    this.#stageLength = 0;
    this.#socket.write(buf.subarray(0, len));
  }
  /** Waits for room, then queues the bytes (reference: Send / SendBytes). */
  async send(data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    if (this.desiredSize <= 0) await this.ready;
    this.write(bytes);
  }
  /** Sends text as UTF-8 (reference: SendText). */
  sendText(text: string): Promise<void> {
    return this.send(encoder.encode(text));
  }
  /** Sends text followed by CRLF (reference: SendLine). */
  sendLine(text: string): Promise<void> {
    return this.send(encoder.encode(text + "\r\n"));
  }
  /**
   * Streams a file to the peer, honouring backpressure. Aborting `signal`
   * stops the file (reference: Interrupt) without closing the connection; the
   * promise then rejects with the signal's reason. Resolves with the bytes sent.
   */
  sendFile(path: string, options: SendFileOptions = {}): Promise<number> {
    return sendFile(this, this.#host.openFile, path, options);
  }

  /** Outgoing bytes as a WritableStream; closing it sends FIN (half close). */
  get writable(): WritableStream<Uint8Array> {
    this.#writable ??= new WritableStream<Uint8Array>({
      write: (chunk) => this.send(chunk),
      close: () => this.closeWrite(),
      abort: () => void this.abort(),
    });
    return this.#writable;
  }

  /** Cork: gather writes until {@linkcode Connection.uncork}. */
  cork(): void {
    this.#socket.cork();
  }
  /** Flush writes gathered since {@linkcode Connection.cork}. */
  uncork(): void {
    this.#socket.uncork();
  }

  // ---- closing ----

  /** Sends FIN after the queued bytes; reading goes on (half close). */
  closeWrite(): void {
    this.#flushStage();
    this.#socket.closeWrite();
  }
  /**
   * Graceful close: flush the queue, FIN, release. A peer that does not take
   * the queued bytes within the server's `closeTimeout` gets a reset instead.
   * Resolves when closed.
   */
  close(): Promise<CloseInfo> {
    if (!this.#isClosed && !this.#closing) {
      this.#flushStage();
      this.#closing = true;
      this.#rejectWaiters();
      this.#armCloseTimer();
      this.#socket.close();
    }
    return this.closed;
  }

  #armCloseTimer(): void {
    const ms = this.#host.closeTimeout;
    if (ms <= 0 || this.#closeTimer !== undefined) return;
    this.#closeTimer = setTimeout(() => {
      this.#closeTimer = undefined;
      this.abort(new ConnectionError("ETIMEDOUT", `Connection ${this.id} did not close gracefully within ${ms} ms`));
    }, ms);
  }
  /** Abortive close: drop the queue and reset (RST where the runtime can). */
  abort(reason?: Error): Promise<CloseInfo> {
    if (!this.#isClosed) {
      if (reason) this.#closeError ??= reason;
      this.#closing = true;
      this.#rejectWaiters();
      this.#socket.abort();
    }
    return this.closed;
  }
  /** Closes as the server's `linger` setting says: graceful when true, abortive when false. */
  disconnect(): Promise<CloseInfo> {
    return this.#host.linger ? this.close() : this.abort();
  }
  /** Sets TCP_NODELAY. */
  setNoDelay(enable = true): void {
    this.#socket.setNoDelay(enable);
  }
  /** Sets TCP keep-alive with an initial delay in milliseconds where the runtime supports it. */
  setKeepAlive(enable = true, initialDelay?: number): void {
    this.#socket.setKeepAlive(enable, initialDelay);
  }

  // ---- TLS (reference: StartSSL, SSLStartMode explicit) ----

  /**
   * Upgrades this plaintext connection to TLS, the server acting as TLS
   * server (STARTTLS). Call it when the protocol says so, from the data
   * callback, in the same turn as the reply that lets the client go ahead
   * (an await in between lets the ClientHello arrive as plaintext data):
   * the bytes that followed the command are fed to the TLS layer, not to
   * the application.
   * Writes made before the handshake ends are sent over TLS. The connection
   * keeps its id; the server's `onSecure` hook runs once the handshake is
   * done. Resolves with what was negotiated; on failure the connection is
   * closed and the promise rejects with a `TlsError` (code
   * `ERR_TLS_ALREADY_STARTED` when asked twice, `ERR_TLS_NOT_CONFIGURED`
   * without the server's `tls` option, `ERR_TLS_PIPELINED` when a stream
   * consumer already holds bytes that followed the command).
   */
  startTls(options: ConnectionStartTlsOptions = {}): Promise<TlsInfo> {
    if (this.#tlsState !== "none") {
      return Promise.reject(
        new TlsError(
          "ERR_TLS_ALREADY_STARTED",
          `Cannot start TLS on connection ${this.id}: ${
            this.#tlsState === "secure" ? "it already uses TLS" : "TLS was already started"
          } (STARTTLS requested twice)`,
        ),
      );
    }
    if (this.#isClosed || this.#closing) return Promise.reject(this.#closedError());
    const start = this.#host.startTls;
    if (start === undefined) {
      return Promise.reject(
        new TlsError("ERR_TLS_NOT_CONFIGURED", `Cannot start TLS on connection ${this.id}: the server has no tls option`),
      );
    }
    const queued = (this.#source as { queued?: number } | undefined)?.queued ?? 0;
    if (queued > 0) {
      const error = new TlsError(
        "ERR_TLS_PIPELINED",
        `Cannot start TLS on connection ${this.id}: ${this.#consumer} read past the STARTTLS command are still queued in plaintext`,
      );
      this.#tlsState = "failed";
      void this.abort(error);
      return Promise.reject(error);
    }
    // Bytes written before the command's answer go out in plaintext first.
    this.#flushStage();
    this.#tlsState = "handshaking";
    this.#socket.pause();
    if (this.#pushing) {
      // Called from the data callback: the core stops after this unit and
      // #feed hands over what it did not cut.
      this.#upgrading = true;
      this.#core?.halt();
    } else this.#stashRest();
    return this.#upgrade(start, options.initialData);
  }

  /** @internal Starts event delivery (the server calls it once the connection is open). */
  _start(): void {
    if (this.#started) return;
    this.#started = true;
    if (this.#tlsState !== "handshaking") this.#socket.start(new SocketBridge(this));
  }

  #stashRest(): void {
    this.#upgrading = false;
    const rest = this.#core?.takeRest();
    if (rest !== undefined && rest.length > 0) {
      this.#tlsRest = this.#tlsRest ? concat(this.#tlsRest, rest) : rest;
    }
  }

  async #upgrade(
    start: NonNullable<ConnectionHost["startTls"]>,
    extra: Uint8Array | undefined,
  ): Promise<TlsInfo> {
    const plain = this.#socket;
    const cancel = new AbortController();
    const pending = new HandshakingSocket(plain, this.#host.writeHighWaterMark, () => cancel.abort());
    this.#socket = pending;
    await undefined; // a running #feed hands over the bytes it did not cut
    if (this.#upgrading) this.#stashRest();
    let initial: Uint8Array | undefined = extra !== undefined && extra.length > 0 ? extra.slice() : undefined;
    for (const part of [this.#tlsRest, this.#held]) {
      if (part !== undefined && part.length > 0) initial = initial ? concat(initial, part) : part;
    }
    this.#tlsRest = undefined;
    this.#held = undefined;
    this.#core = createCore(this.#framing);
    this.#reframe = false; // the new core already has the framing asked for
    let socket: Socket;
    try {
      socket = await start(this, plain, { initialData: initial, signal: cancel.signal });
    } catch (error) {
      this.#tlsState = "failed";
      const err = error instanceof Error ? error : new Error(String(error));
      this._onClose(this.#closing && !this.#closeError ? undefined : err);
      throw this.#closeError ?? err;
    }
    this.#socket = socket;
    this.#tls = socket.tls?.();
    this.#tlsState = "secure";
    const drain = pending.writableLength >= this.#host.writeHighWaterMark;
    pending.replay(socket);
    if (this.#started) socket.start(new SocketBridge(this));
    if (this.#userPaused || this.#streamPaused) socket.pause();
    this.#host.secured?.(this);
    if (drain || this.#drainWaiters !== undefined) this._drain();
    return this.#tls!;
  }

  /** @internal No data callback: read nothing until a stream consumer appears. */
  _awaitConsumer(): void {
    this.#streamPaused = true;
    this.#socket.pause();
  }

  /** @internal Fails the connection with a timeout (used by the sweeper). */
  _timeout(what: "idle" | "write"): void {
    const msg = what === "idle"
      ? `Connection ${this.id} idle for ${this.#idleTimeout} ms`
      : `Connection ${this.id} could not send for ${this.#writeTimeout} ms`;
    const err = new ConnectionError("ETIMEDOUT", msg);
    if (what === "idle") {
      this.#flushStage();
      this.#closeError ??= err;
      this.#closing = true;
      this.#rejectWaiters();
      this.#armCloseTimer();
      this.#socket.close();
    } else this.abort(err);
  }
  /** @internal Bytes the kernel has taken so far. */
  get _flushed(): number {
    return this.bytesSent - this.#socket.writableLength;
  }

  // ---- called by the adapter, through SocketBridge ----


  /** @internal */
  _data(chunk: Uint8Array): void {
    this._touched = true;
    this.bytesReceived += chunk.byteLength;
    if (this.#consumer === "bytes") {
      const src = this.#source as PushSource<Uint8Array>;
      const copy = this.#socket.sharedChunks ? chunk.slice() : chunk;
      if (!src.push(copy)) this.#pauseForStream();
      return;
    }
    if (this.#userPaused) {
      // Data that raced a pause: keep it, it is delivered on resume.
      this.#held = this.#held ? concat(this.#held, chunk) : chunk.slice();
      return;
    }
    const sock = this.#socket;
    sock.cork();
    this.#batching = true;
    this.#readBuffer = sock.sharedChunks && !sock.lendsReadBuffer ? chunk.buffer : undefined;
    try {
      this.#feed(chunk);
    } finally {
      this.#batching = false;
      this.#readBuffer = undefined;
      if (!this.#isClosed) this.#flushStage();
      else this.#stageLength = 0;
      sock.uncork();
    }
  }
  /** @internal */
  _end(): void {
    this.#flushCore();
    if (this.#source) {
      this.#source.close();
      return;
    }
    if (this.#host.allowHalfOpen) this.#host.onEnd?.(this);
    else if (!this.#closing) this.close();
  }
  /** @internal */
  _drain(): void {
    const waiters = this.#drainWaiters;
    if (waiters !== undefined) {
      this.#drainWaiters = undefined;
      for (const w of waiters) w.resolve();
    }
    this.#host.onDrain?.(this);
  }
  // ---- internals ----

  #take(kind: Consumer): void {
    if (this.#consumer !== "events") {
      throw new TypeError(
        `Cannot read connection ${this.id} as ${kind}: it is already read as ${this.#consumer}`,
      );
    }
    this.#consumer = kind;
    const held = this.#held;
    this.#held = undefined;
    if (held && kind === "bytes") queueMicrotask(() => this._data(held));
    else if (held) queueMicrotask(() => this.#feed(held));
  }

  #streamHooks() {
    return {
      pull: () => {
        if (this.#streamPaused) {
          this.#streamPaused = false;
          if (!this.#userPaused && !this.#isClosed) this.#socket.resume();
        }
      },
      cancel: () => {
        this.#socket.pause();
        this.#streamPaused = true;
      },
    };
  }

  #pauseForStream(): void {
    if (this.#streamPaused) return;
    this.#streamPaused = true;
    this.#socket.pause();
  }

  /** Feeds bytes through the core; stops at a pause or a framing change and keeps the rest. */
  #feed(chunk: Uint8Array): void {
    let input: Uint8Array | undefined = chunk;
    while (input && input.length > 0 && !this.#failed) {
      const core = this.#core;
      if (!core) {
        this.#deliver(input, true);
        input = undefined;
        break;
      }
      this.#pushing = true;
      try {
        core.push(input, this.#emit);
      } finally {
        this.#pushing = false;
      }
      input = undefined;
      if (this.#upgrading) return this.#stashRest(); // the rest belongs to the TLS stream
      if (this.#reframe) input = this.#applyReframe();
      if (this.#userPaused) {
        const rest = this.#core?.takeRest();
        const pending = input && rest ? concat(rest, input) : input ?? rest;
        if (pending && pending.length > 0) {
          this.#held = this.#held ? concat(this.#held, pending) : pending.slice();
        }
        return;
      }
    }
  }

  /** Switches to the new framing; returns bytes the old core had not cut yet. */
  #applyReframe(): Uint8Array | undefined {
    this.#reframe = false;
    const rest = this.#core?.takeRest();
    this.#core = createCore(this.#framing);
    return rest && rest.length > 0 ? rest.slice() : undefined;
  }

  #deliver(bytes: Uint8Array, eol: boolean): void {
    const consumer = this.#consumer;
    if (consumer === "events") {
      if (this.#failed) return;
      try {
        this.#host.onData?.(this, bytes, eol);
      } catch (error) {
        // A throwing handler fails its connection, never the server.
        this.#failed = true;
        const err = error instanceof Error ? error : new Error(String(error));
        this.#host.report(err, this);
        this.#core?.halt();
        void this.abort(err);
      }
    } else if (consumer === "segments") {
      const src = this.#source as PushSource<Segment>;
      if (!src.push({ bytes: bytes.slice(), eol })) this.#pauseForStream();
    } else {
      (this.#source as PushSource<Uint8Array>).push(bytes.slice());
    }
  }

  #flushCore(): void {
    if (this.#userPaused && this.#held) return;
    this.#core?.flush(this.#emit);
  }

  #closedError(): Error {
    return this.#closeError ?? new ConnectionError("EPIPE", `Connection ${this.id} is closed`);
  }

  #rejectWaiters(): void {
    const waiters = this.#drainWaiters;
    if (waiters === undefined) return;
    this.#drainWaiters = undefined;
    for (const w of waiters) w.reject(this.#closedError());
  }

  /** @internal The adapter reports the socket closed. */
  _onClose(error?: Error): void {
    if (this.#isClosed) return;
    if (this.#closeTimer !== undefined) clearTimeout(this.#closeTimer);
    if (!error && this.#held && this.#consumer === "events") {
      // Paused with undelivered bytes: deliver them before reporting the close.
      this.#userPaused = false;
      const held = this.#held;
      this.#held = undefined;
      this.#feed(held);
    }
    if (!this.#closeError || !error) this.#flushCore();
    this.#isClosed = true;
    const err = this.#closeError ?? error;
    if (err) this.#closeError = err;
    this.#rejectWaiters();
    if (this.#source) {
      if (error && !this.#source.done) this.#source.error(error);
      else this.#source.close();
    }
    const code = codeOf(err);
    const info: CloseInfo = err
      ? { code: statusOf(code ?? "ECONNABORTED"), reason: err.message, error: err }
      : { code: 0, reason: "OK" };
    this.#info = info;
    this.#resolveClosed?.(info);
    this.#resolveClosed = undefined;
    this.#host.closed(this, info);
  }
}

function checkMs(name: string, ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`Cannot set ${name} as it must be >= 0 milliseconds: current value is ${ms}`);
  }
  return ms;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

const encoder = new TextEncoder();
/** Writes up to this size inside a read batch are gathered into one buffer. */
const STAGE_MAX = 4096;
/** First size of a gather buffer. */
const STAGE_MIN = 2048;

/** @internal Forwards a socket's callbacks to its connection. */
export class SocketBridge implements SocketHandlers {
  readonly #conn: Connection;
  /** Wraps a connection. */
  constructor(conn: Connection) {
    this.#conn = conn;
  }
  /** @internal */
  data(chunk: Uint8Array): void {
    this.#conn._data(chunk);
  }
  /** @internal */
  end(): void {
    this.#conn._end();
  }
  /** @internal */
  drain(): void {
    this.#conn._drain();
  }
  /** @internal */
  close(error?: Error): void {
    this.#conn._onClose(error);
  }
}
