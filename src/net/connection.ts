/**
 * One accepted connection: framing, pause/resume, writes with a bounded
 * queue, timeouts bookkeeping and the streams face. Boolean state is packed
 * into one number (bits below) and rare state lives in a lazily built
 * {@linkcode Extras}, so an idle connection stays small.
 *
 * @module
 */

import type { FramingCore, Segment } from "../codec/types.ts";
import type { NetAddr, Socket } from "./types.ts";
import { createCore, type Framing, type FramingOptions, resolveFraming } from "./framing.ts";
import { ConnectionError, ErrorCode, ServerError } from "./errors.ts";
import { pushReadable, type PushSource } from "./_push_readable.ts";
import { sendFile, type SendFileOptions } from "./_send_file.ts";
import type { TlsInfo } from "./tls_types.ts";
import { HandshakingSocket } from "./_handshaking_socket.ts";
import type {
  CloseInfo,
  ConnectionHost,
  ConnectionStartTlsOptions,
  Consumer,
} from "./_connection_types.ts";
import { closeInfoOf, Extras } from "./_connection_extras.ts";
import { concat } from "../codec/_carry.ts";
import { put, reuseStage, room, stage, STAGE_MAX, STAGES, writeCopy } from "./_connection_stage.ts";
import { giveBack, type LendingPool } from "../runtime/buffer_pool.ts";
import { tlsAlreadyStarted, tlsNotConfigured, tlsPipelined } from "./_connection_tls.ts";
import { SocketBridge } from "./_connection_bridge.ts";

export type { CloseInfo, ConnectionHost, ConnectionStartTlsOptions } from "./_connection_types.ts";
export { SocketBridge } from "./_connection_bridge.ts";

// Bits of Connection#flags.
/** `_start` ran: the socket delivers events. */
const STARTED = 1;
/** STARTTLS was called from the data callback: #feed hands the rest to TLS. */
const UPGRADING = 2;
/** setFraming asked for a new core while one was pushing. */
const REFRAME = 4;
/** pause() (reference: PauseData). */
const USER_PAUSED = 8;
/** A stream consumer is full, or not there yet. */
const STREAM_PAUSED = 16;
/** close(), abort() or a timeout started closing. */
const CLOSING = 32;
/** The socket has closed. */
const IS_CLOSED = 64;
/** The data callback threw: deliver nothing more. */
const FAILED = 128;
/** Inside a read batch: small writes are gathered. */
const BATCHING = 256;
/** The framing core is pushing (its callbacks run). */
const PUSHING = 512;
/** This batch said "wait" by the server's high-water mark: ask the socket for a drain at its end. */
const WANT_DRAIN = 1024;
/** The last read batch gathered bytes to send: the next one takes a gather buffer at its start. */
const GATHERED = 2048;
/** Read as `bytes` (the readable stream). */
const BYTES_CONSUMER = 4096;
/** Read as `segments`. */
const SEGMENTS_CONSUMER = 8192;
/** Any traffic since the sweeper last looked. */
const TOUCHED = 16384;
/** Either bit: no more sending. */
const ENDING = CLOSING | IS_CLOSED;

const encoder = new TextEncoder();
const CRLF = new Uint8Array([13, 10]);

/**
 * The read buffer whose bytes a connection is delivering now, when its
 * socket reads into it again (`sharedChunks`): another connection given
 * them to write copies them (see `write`).
 */
let delivering: ArrayBufferLike | undefined;
/**
 * The same buffer while the batching connection's socket does not lend it
 * (`lendsReadBuffer`): the batch copies writes of its bytes.
 */
let batchReadBuffer: ArrayBufferLike | undefined;

/** Idle and write timeouts in milliseconds (one object shared by connections with the same). */
export interface Timeouts {
  /** Idle timeout, 0 = none. */
  readonly idle: number;
  /** Write timeout, 0 = none. */
  readonly write: number;
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
  /** Idle and write timeouts (reference: IdleTimeout, Timeout); a new object when one is set. */
  #timeouts: Timeouts;
  /** @internal milliseconds without traffic, kept by the sweeper. */
  _idleFor = 0;

  #socket: Socket;
  /** Boolean state, one bit each (constants above). */
  #flags = 0;
  readonly #host: ConnectionHost;
  #framing: Framing;
  #core: FramingCore | undefined;
  /** State most connections never use: read with `#x?.`, written through `#ex()`. */
  #x: Extras | undefined;

  /** @internal Created by the server. */
  constructor(
    id: string,
    socket: Socket,
    host: ConnectionHost,
    framing: Framing,
    timeouts: Timeouts,
  ) {
    this.id = id;
    this.#socket = socket;
    this.#host = host;
    this.#framing = framing;
    this.#core = createCore(framing);
    this.#timeouts = timeouts;
  }

  /** How the connection is read: events, or one of the stream faces (bits of #flags). */
  get #consumer(): Consumer {
    const flags = this.#flags;
    if ((flags & BYTES_CONSUMER) !== 0) return "bytes";
    return (flags & SEGMENTS_CONSUMER) !== 0 ? "segments" : "events";
  }

  /** @internal set on any traffic, cleared by the sweeper. */
  get _touched(): boolean {
    return (this.#flags & TOUCHED) !== 0;
  }
  set _touched(touched: boolean) {
    if (touched) this.#flags |= TOUCHED;
    else this.#flags &= ~TOUCHED;
  }

  /** The rare state, built on first write. */
  #ex(): Extras {
    return this.#x ??= new Extras();
  }
  #has(bits: number): boolean {
    return (this.#flags & bits) !== 0;
  }

  /** @internal milliseconds with a stalled send queue, kept by the sweeper. */
  get _stalledFor(): number {
    return this.#x?.stalledFor ?? 0;
  }
  set _stalledFor(ms: number) {
    if (ms !== 0 || this.#x !== undefined) this.#ex().stalledFor = ms;
  }
  /** @internal bytes flushed at the last sweep. */
  get _flushedAtSweep(): number {
    return this.#x?.flushedAtSweep ?? 0;
  }
  set _flushedAtSweep(n: number) {
    if (n !== 0 || this.#x !== undefined) this.#ex().flushedAtSweep = n;
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
    return this.#ex().closedPromise();
  }
  /** True until the connection is closing or closed (sending is possible). */
  get connected(): boolean {
    return (this.#flags & ENDING) === 0;
  }
  /**
   * What the TLS handshake negotiated (reference: SSLNegotiatedVersion,
   * SSLNegotiatedCipher, client certificate); undefined on a plaintext
   * connection and during the handshake.
   */
  get tls(): TlsInfo | undefined {
    return this.#x?.tls;
  }
  /** True while reading is paused by {@linkcode Connection.pause} (reference: AcceptData false). */
  get paused(): boolean {
    return this.#has(USER_PAUSED);
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
    this.#flags |= REFRAME;
    core?.halt();
    if (!this.#has(PUSHING)) this.#applyReframe();
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
    return this.#timeouts.idle;
  }
  set idleTimeout(ms: number) {
    this.#timeouts = { idle: checkMs("idleTimeout", ms), write: this.#timeouts.write };
    this.#host.timeoutChanged(ms);
  }
  /** Send timeout in milliseconds: the connection fails when its queue makes no progress that long. 0 = none. */
  get writeTimeout(): number {
    return this.#timeouts.write;
  }
  set writeTimeout(ms: number) {
    this.#timeouts = { idle: this.#timeouts.idle, write: checkMs("writeTimeout", ms) };
    this.#host.timeoutChanged(ms);
  }

  // ---- reading ----

  /** Stops delivering data and stops reading the socket (reference: PauseData). */
  pause(): void {
    if (this.#has(USER_PAUSED)) return;
    this.#flags |= USER_PAUSED;
    this.#core?.halt();
    this.#socket.pause();
  }
  /** Resumes after {@linkcode Connection.pause} (reference: ProcessData). */
  resume(): void {
    if (!this.#has(USER_PAUSED)) return;
    this.#flags &= ~USER_PAUSED;
    const held = this.#x?.takeHeld();
    if (held && held.length > 0) this.#feed(held);
    if (!this.#has(USER_PAUSED | STREAM_PAUSED | IS_CLOSED)) this.#socket.resume();
  }

  /**
   * Incoming bytes as they arrive, with no framing. Using it switches the
   * connection from events to this stream; it can be taken once.
   */
  get readable(): ReadableStream<Uint8Array> {
    if (this.#consumer === "bytes") return (this.#x!.source as PushSource<Uint8Array>).stream;
    this.#take("bytes");
    const src = pushReadable<Uint8Array>(this.#streamHooks(), {
      highWaterMark: this.#host.readHighWaterMark,
      size: (c: Uint8Array) => c.byteLength,
    });
    return this.#setSource(src).stream;
  }

  /**
   * Incoming units cut by the connection's framing ({@linkcode Segment}s).
   * Using it switches the connection from events to this stream; once only.
   */
  get segments(): ReadableStream<Segment> {
    if (this.#consumer === "segments") return (this.#x!.source as PushSource<Segment>).stream;
    this.#take("segments");
    return this.#setSource(pushReadable<Segment>(this.#streamHooks(), { highWaterMark: 64 }))
      .stream;
  }

  // ---- writing ----

  /** Bytes that can still be queued before `write` returns false (reference: ReadyToSend). */
  get desiredSize(): number {
    return this.#host.writeHighWaterMark - this.#socket.writableLength - this.#stageLength;
  }
  /** @internal Lets the socket's reads grow past 64 KiB (it carries WebSocket frames). */
  _largeReads(): void {
    this.#socket.setLargeReads?.();
  }
  /**
   * @internal True when the chunks this connection reads are views of a
   * buffer the socket reuses (see `Socket.sharedChunks`): a consumer that
   * keeps their bytes past the read must copy them.
   */
  get _sharedChunks(): boolean {
    return this.#socket.sharedChunks;
  }
  /** Bytes queued and not yet handed to the kernel. */
  get writableLength(): number {
    return this.#socket.writableLength + this.#stageLength;
  }
  /** Resolves when {@linkcode Connection.desiredSize} is positive; rejects when the connection closes first. */
  get ready(): Promise<void> {
    if (this.#has(ENDING)) return Promise.reject(this.#closedError());
    if (this.desiredSize > 0) return Promise.resolve();
    this.#wantDrain();
    return this.#ex().addWaiter();
  }

  /**
   * Queues bytes without waiting. Returns false when the queue is above the
   * high-water mark. Throws {@linkcode ServerError} 135 (would block) when the
   * queue would exceed `maxWriteBuffer`, and {@linkcode ConnectionError}
   * `EPIPE` when the connection is closed.
   */
  write(chunk: Uint8Array): boolean {
    const flags = this.#flags;
    if ((flags & ENDING) !== 0) throw this.#closedError();
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
    this.#flags |= TOUCHED;
    this.bytesSent += n;
    if ((flags & BATCHING) !== 0) {
      // Inside a read batch: small writes are gathered into one buffer (one
      // copy, one system call per read); bytes of the read buffer are copied.
      if (n <= STAGE_MAX) {
        if (staged === 0 && this.#stageBuf === undefined) this.#stageBuf = reuseStage();
        this.#stageBuf = stage(this.#stageBuf, staged, chunk, n);
        this.#stageLength = staged + n;
        return host.writeHighWaterMark - queued - n > 0 || this.#wantDrain();
      }
      this.#flushStage();
      if (batchReadBuffer !== undefined && chunk.buffer === batchReadBuffer) {
        return this.#belowMark(writeCopy(this.#socket, chunk));
      }
    } else if (delivering !== undefined && chunk.buffer === delivering) {
      // Bytes another connection is delivering from a read buffer its socket
      // reads into again (a relay, a broadcast): this queue may keep them.
      const socket = this.#socket;
      return this.#belowMark(
        n > STAGE_MAX ? writeCopy(socket, chunk) : socket.write(chunk.slice()),
      );
    }
    return this.#belowMark(this.#socket.write(chunk));
  }

  /**
   * The result of a write the socket took (`ok`: below its own mark): false
   * also when the queue reached the server's `writeHighWaterMark`, which may
   * be below the socket's; a `drain` is then asked for.
   */
  #belowMark(ok: boolean): boolean {
    if (!ok) return false;
    return this.#host.writeHighWaterMark - this.#socket.writableLength - this.#stageLength > 0 ||
      this.#wantDrain();
  }

  /**
   * @internal Inside a read batch: makes room for `n` bytes at the end of
   * the gather buffer and returns where they start in `_stageBuffer`; the
   * caller fills them before anything else is written (a WebSocket frame is
   * built in place, not built and then copied). -1 outside a batch, above
   * {@linkcode STAGE_MAX}, or when `write` would throw: then use `write`.
   */
  _reserve(n: number): number {
    const flags = this.#flags;
    if ((flags & (BATCHING | ENDING)) !== BATCHING || n > STAGE_MAX) return -1;
    const staged = this.#stageLength;
    const queued = this.#socket.writableLength + staged;
    if (queued > 0 && queued + n > this.#host.maxWriteBuffer) return -1;
    this.#flags |= TOUCHED;
    this.bytesSent += n;
    let buf = this.#stageBuf;
    if (buf === undefined && staged === 0) buf = reuseStage();
    this.#stageBuf = room(buf, staged, n);
    this.#stageLength = staged + n;
    return staged;
  }
  /**
   * @internal Writes `buf[0, len)`, a buffer of `pool`, and lends it to the
   * socket: the pool reuses it once the socket has written it.
   */
  _writeLent(pool: LendingPool, buf: Uint8Array, len: number): boolean {
    const socket = this.#socket;
    const ok = this.write(buf.subarray(0, len));
    this.#lend(pool, buf, socket);
    return ok;
  }
  /**
   * @internal After filling reserved bytes: whether more may be written
   * now; when not, a `drain` is asked for (as `write` does).
   */
  _reservedOk(): boolean {
    return this.desiredSize > 0 || this.#wantDrain();
  }
  /** @internal Gives back the last `n` bytes reserved (not used after all). */
  _unreserve(n: number): void {
    this.#stageLength -= n;
    this.bytesSent -= n;
  }
  /** @internal The gather buffer `_reserve` made room in. */
  get _stageBuffer(): Uint8Array {
    return this.#stageBuf!;
  }

  /**
   * Queues `line` followed by CRLF without waiting: the line form of
   * {@linkcode Connection.write}, with the same result and errors. Inside a
   * data callback the line and its end are gathered with one call.
   */
  writeLine(line: Uint8Array | string): boolean {
    if (typeof line === "string") return this.write(encoder.encode(line + "\r\n"));
    const n = line.byteLength;
    const staged = this.#stageLength;
    const end = staged + n + 2;
    if (end <= this.#stageEnd && (this.#flags & ENDING) === 0) {
      // Inside a read batch with room in the gather buffer and under both
      // marks (the common case of an echo); `_data` marked the connection touched.
      const buf = this.#stageBuf!;
      this.bytesSent += n + 2;
      this.#stageLength = end;
      // put() inlined: its set() call is not specialised to this site (Bun, in-process:
      // 117-122 ns per echoed line inlined, 126-138 through put).
      if (n > 16) buf.set(line, staged);
      else for (let i = 0; i < n; i++) buf[staged + i] = line[i]!;
      buf[end - 2] = 13;
      buf[end - 1] = 10;
      return true;
    }
    return this.#writeLineSlow(line, n);
  }

  #writeLineSlow(line: Uint8Array, n: number): boolean {
    const at = this._reserve(n + 2);
    if (at < 0) {
      this.write(line);
      return this.write(CRLF);
    }
    const buf = this.#stageBuf!;
    put(buf, at, line, n);
    buf[at + n] = 13;
    buf[at + n + 1] = 10;
    this.#stageEnd = this.#stageBound();
    return this._reservedOk();
  }

  /**
   * How far the gather buffer may fill by `writeLine`'s fast path: within
   * the buffer, below `writeHighWaterMark` (so the answer is true) and within
   * `maxWriteBuffer`; 0 outside a read batch.
   */
  #stageBound(): number {
    const buf = this.#stageBuf;
    if ((this.#flags & (BATCHING | ENDING)) !== BATCHING || buf === undefined) return 0;
    const queued = this.#socket.writableLength;
    const host = this.#host;
    const byMarks = Math.min(host.writeHighWaterMark - 1, host.maxWriteBuffer) - queued;
    return byMarks < buf.byteLength ? byMarks : buf.byteLength;
  }

  #stageBuf: Uint8Array | undefined;
  #stageLength = 0;
  /** See #stageBound: kept while the buffer and the socket's queue stay as they were. */
  #stageEnd = 0;

  /**
   * Said "wait" by the server's `writeHighWaterMark`, which may be below the
   * socket's own: the socket is asked for a `drain` (at the end of a read
   * batch, once the gathered bytes are handed over). Returns false.
   */
  #wantDrain(): false {
    if ((this.#flags & BATCHING) !== 0) this.#flags |= WANT_DRAIN;
    else this.#socket.requestDrain?.();
    return false;
  }

  #flushStage(): void {
    const len = this.#stageLength;
    if (len === 0) {
      const unused = this.#stageBuf;
      if ((this.#flags & GATHERED) !== 0 && unused !== undefined) {
        // Taken at the batch start for writes that did not come: back to the pool.
        this.#stageBuf = undefined;
        this.#stageEnd = 0;
        giveBack(STAGES, unused);
      }
      this.#flags &= ~GATHERED;
      return;
    }
    this.#flags |= GATHERED;
    const buf = this.#stageBuf!;
    // The socket keeps a reference to what it is given: start a new buffer next time.
    this.#stageBuf = undefined;
    this.#stageEnd = 0;
    this.#stageLength = 0;
    const socket = this.#socket;
    if (socket.writePrefix !== undefined) socket.writePrefix(buf, len);
    else socket.write(buf.subarray(0, len));
    this.#lend(STAGES, buf, socket);
  }

  /** `buf`, given to `socket`, is reusable once that socket has written it; a handshaking socket passes it on instead. */
  #lend(pool: LendingPool, buf: Uint8Array, socket: Socket): void {
    if (!(socket instanceof HandshakingSocket)) pool.lend(buf, socket);
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
    return this.#ex().writable ??= new WritableStream<Uint8Array>({
      write: (chunk) => this.send(chunk),
      close: () => this.closeWrite(),
      abort: () => void this.abort(),
    });
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
    if (!this.#has(ENDING)) this.#closeGracefully();
    return this.closed;
  }
  #closeGracefully(error?: Error): void {
    this.#flushStage();
    if (error) this.#ex().closeError ??= error;
    this.#flags |= CLOSING;
    this.#rejectWaiters();
    const ms = this.#host.closeTimeout;
    const x = ms > 0 ? this.#ex() : undefined;
    if (x !== undefined && x.closeTimer === undefined) {
      x.closeTimer = setTimeout(() => {
        x.closeTimer = undefined;
        this.abort(
          new ConnectionError(
            "ETIMEDOUT",
            `Connection ${this.id} did not close gracefully within ${ms} ms`,
          ),
        );
      }, ms);
    }
    this.#socket.close();
  }
  /** Abortive close: drop the queue and reset (RST where the runtime can). */
  abort(reason?: Error): Promise<CloseInfo> {
    if (!this.#has(IS_CLOSED)) {
      if (reason) this.#ex().closeError ??= reason;
      this.#flags |= CLOSING;
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
    const state = this.#x?.tlsState ?? "none";
    if (state !== "none") return Promise.reject(tlsAlreadyStarted(this.id, state === "secure"));
    if (this.#has(ENDING)) return Promise.reject(this.#closedError());
    const start = this.#host.startTls;
    if (start === undefined) return Promise.reject(tlsNotConfigured(this.id));
    const x = this.#ex();
    if (((x.source as { queued?: number } | undefined)?.queued ?? 0) > 0) {
      const error = tlsPipelined(this.id, this.#consumer);
      x.tlsState = "failed";
      void this.abort(error);
      return Promise.reject(error);
    }
    // Bytes written before the command's answer go out in plaintext first.
    this.#flushStage();
    x.tlsState = "handshaking";
    this.#socket.pause();
    if (this.#has(PUSHING)) {
      // Called from the data callback: the core stops after this unit and
      // #feed hands over what it did not cut.
      this.#flags |= UPGRADING;
      this.#core?.halt();
    } else this.#stashRest();
    return this.#upgrade(start, options.initialData);
  }

  /** @internal Starts event delivery (the server calls it once the connection is open). */
  _start(): void {
    if (this.#has(STARTED)) return;
    this.#flags |= STARTED;
    if (this.#x?.tlsState !== "handshaking") this.#socket.start(new SocketBridge(this));
  }

  /** Keeps the bytes the core had not cut when STARTTLS was asked: they belong to the TLS stream. */
  #stashRest(): void {
    this.#flags &= ~UPGRADING;
    const rest = this.#core?.takeRest();
    if (rest !== undefined && rest.length > 0) {
      const x = this.#ex();
      x.tlsRest = x.tlsRest ? concat(x.tlsRest, rest) : rest;
    }
  }

  async #upgrade(
    start: NonNullable<ConnectionHost["startTls"]>,
    extra: Uint8Array | undefined,
  ): Promise<TlsInfo> {
    const plain = this.#socket;
    const cancel = new AbortController();
    const pending = new HandshakingSocket(
      plain,
      this.#host.writeHighWaterMark,
      () => cancel.abort(),
    );
    this.#socket = pending;
    await undefined; // a running #feed hands over the bytes it did not cut
    if (this.#has(UPGRADING)) this.#stashRest();
    const x = this.#ex();
    const initial = x.takeTlsInitial(extra);
    this.#core = createCore(this.#framing);
    this.#flags &= ~REFRAME; // the new core already has the framing asked for
    let socket: Socket;
    try {
      socket = await start(this, plain, { initialData: initial, signal: cancel.signal });
    } catch (error) {
      x.tlsState = "failed";
      const err = error instanceof Error ? error : new Error(String(error));
      this._onClose(this.#has(CLOSING) && !x.closeError ? undefined : err);
      throw x.closeError ?? err;
    }
    this.#socket = socket;
    const tls = x.tls = socket.tls?.();
    x.tlsState = "secure";
    const drain = pending.writableLength >= this.#host.writeHighWaterMark;
    pending.replay(socket);
    if (this.#has(STARTED)) socket.start(new SocketBridge(this));
    if (this.#has(USER_PAUSED | STREAM_PAUSED)) socket.pause();
    this.#host.secured?.(this);
    if (drain || x.drainWaiters !== undefined) this._drain();
    return tls!;
  }

  /** @internal No data callback: read nothing until a stream consumer appears. */
  _awaitConsumer(): void {
    this.#flags |= STREAM_PAUSED;
    this.#socket.pause();
  }

  /** @internal Fails the connection with a timeout (used by the sweeper). */
  _timeout(what: "idle" | "write"): void {
    const msg = what === "idle"
      ? `Connection ${this.id} idle for ${this.#timeouts.idle} ms`
      : `Connection ${this.id} could not send for ${this.#timeouts.write} ms`;
    const err = new ConnectionError("ETIMEDOUT", msg);
    if (what === "idle") this.#closeGracefully(err);
    else this.abort(err);
  }
  /** @internal Bytes the kernel has taken so far. */
  get _flushed(): number {
    return this.bytesSent - this.#socket.writableLength;
  }

  // ---- called by the adapter, through SocketBridge ----

  /** @internal */
  _data(chunk: Uint8Array): void {
    this.#flags |= TOUCHED;
    this.bytesReceived += chunk.byteLength;
    if ((this.#flags & BYTES_CONSUMER) !== 0) {
      const src = this.#x!.source as PushSource<Uint8Array>;
      const sock = this.#socket;
      const kept = sock.sharedChunks ? sock.keepChunk?.(chunk) ?? chunk.slice() : chunk;
      if (!src.push(kept)) this.#pauseForStream();
      return;
    }
    if (this.#has(USER_PAUSED)) {
      // Data that raced a pause: keep it, it is delivered on resume.
      this.#ex().hold(chunk);
      return;
    }
    const sock = this.#socket;
    sock.cork();
    this.#flags |= BATCHING;
    const shared = sock.sharedChunks;
    const outer = delivering;
    const outerBatch = batchReadBuffer;
    if (shared) delivering = chunk.buffer;
    batchReadBuffer = shared && !sock.lendsReadBuffer ? chunk.buffer : undefined;
    if ((this.#flags & GATHERED) !== 0) {
      // An echo-like connection: its writes get writeLine's fast path from the first.
      this.#stageBuf ??= reuseStage() ?? room(undefined, 0, 0);
      this.#stageEnd = this.#stageBound();
    }
    try {
      this.#feed(chunk);
    } finally {
      delivering = outer;
      batchReadBuffer = outerBatch;
      this.#flags &= ~BATCHING;
      this.#stageEnd = 0;
      if (!this.#has(IS_CLOSED)) this.#flushStage();
      else this.#stageLength = 0;
      if (this.#has(WANT_DRAIN)) {
        this.#flags &= ~WANT_DRAIN;
        if (!this.#has(IS_CLOSED)) sock.requestDrain?.();
      }
      sock.uncork();
    }
  }
  /** @internal */
  _end(): void {
    this.#flushCore();
    const source = this.#x?.source;
    if (source) {
      source.close();
      return;
    }
    if (this.#host.allowHalfOpen) this.#host.onEnd?.(this);
    else if (!this.#has(CLOSING)) this.close();
  }
  /** @internal */
  _drain(): void {
    this.#x?.releaseWaiters();
    this.#host.onDrain?.(this);
  }

  // ---- internals ----

  #take(kind: Consumer): void {
    if (this.#consumer !== "events") {
      throw new TypeError(
        `Cannot read connection ${this.id} as ${kind}: it is already read as ${this.#consumer}`,
      );
    }
    this.#flags |= kind === "bytes" ? BYTES_CONSUMER : SEGMENTS_CONSUMER;
    const held = this.#x?.takeHeld();
    if (held && kind === "bytes") queueMicrotask(() => this._data(held));
    else if (held) queueMicrotask(() => this.#feed(held));
  }

  #setSource<T extends PushSource<Uint8Array> | PushSource<Segment>>(src: T): T {
    this.#ex().source = src;
    if (this.#has(ENDING)) src.close();
    return src;
  }

  #streamHooks(): { pull(): void; cancel(): void } {
    return {
      pull: () => {
        if (this.#has(STREAM_PAUSED)) {
          this.#flags &= ~STREAM_PAUSED;
          if (!this.#has(USER_PAUSED | IS_CLOSED)) this.#socket.resume();
        }
      },
      cancel: () => {
        this.#socket.pause();
        this.#flags |= STREAM_PAUSED;
      },
    };
  }

  #pauseForStream(): void {
    if (this.#has(STREAM_PAUSED)) return;
    this.#flags |= STREAM_PAUSED;
    this.#socket.pause();
  }

  /** The framing core's callback, bound once. */
  get #emit(): (bytes: Uint8Array, eol: boolean) => void {
    return this.#ex().emitFn ??= (bytes, eol) => this.#deliver(bytes, eol);
  }

  /** Feeds bytes through the core; stops at a pause or a framing change and keeps the rest. */
  #feed(chunk: Uint8Array): void {
    let input: Uint8Array | undefined = chunk;
    while (input && input.length > 0 && !this.#has(FAILED)) {
      const core = this.#core;
      if (!core) {
        try {
          this.#deliver(input, true);
        } catch (error) {
          this.#handlerFailed(error);
        }
        input = undefined;
        break;
      }
      this.#flags |= PUSHING;
      try {
        core.push(input, this.#emit);
      } catch (error) {
        this.#flags &= ~PUSHING;
        return this.#handlerFailed(error);
      }
      this.#flags &= ~PUSHING;
      input = undefined;
      if (this.#has(UPGRADING)) return this.#stashRest(); // the rest belongs to the TLS stream
      if (this.#has(REFRAME)) input = this.#applyReframe();
      if (this.#has(USER_PAUSED)) {
        const rest = this.#core?.takeRest();
        const pending = input && rest ? concat(rest, input) : input ?? rest;
        if (pending && pending.length > 0) this.#ex().hold(pending);
        return;
      }
    }
  }

  /** Switches to the new framing; returns bytes the old core had not cut yet. */
  #applyReframe(): Uint8Array | undefined {
    this.#flags &= ~REFRAME;
    const rest = this.#core?.takeRest();
    this.#core = createCore(this.#framing);
    return rest && rest.length > 0 ? rest.slice() : undefined;
  }

  /**
   * Hands one unit to the consumer. No try/catch here: JavaScriptCore does
   * not inline a function that has one, and this runs per line, so a
   * throwing `onData` is caught by the callers (per read) and passed to
   * {@linkcode Connection.#handlerFailed}.
   */
  #deliver(bytes: Uint8Array, eol: boolean): void {
    const flags = this.#flags;
    if ((flags & (BYTES_CONSUMER | SEGMENTS_CONSUMER)) === 0) {
      if ((flags & FAILED) !== 0) return;
      this.#host.onData?.(this, bytes, eol);
    } else if ((flags & SEGMENTS_CONSUMER) !== 0) {
      const src = this.#x!.source as PushSource<Segment>;
      if (!src.push({ bytes: bytes.slice(), eol })) this.#pauseForStream();
    } else {
      (this.#x!.source as PushSource<Uint8Array>).push(bytes.slice());
    }
  }

  #flushCore(): void {
    if (this.#has(USER_PAUSED) && this.#x?.held) return;
    try {
      this.#core?.flush(this.#emit);
    } catch (error) {
      this.#handlerFailed(error);
    }
  }

  /**
   * `onData` threw (the cutting loop it was called from is left where it
   * was): a throwing handler fails its connection, never the server. Errors
   * of the stream consumers are not the user's: thrown on.
   */
  #handlerFailed(error: unknown): void {
    if (this.#consumer !== "events") throw error;
    this.#flags |= FAILED;
    const err = error instanceof Error ? error : new Error(String(error));
    this.#host.report(err, this);
    this.#core?.halt();
    void this.abort(err);
  }

  #closedError(): Error {
    return this.#x?.closeError ?? new ConnectionError("EPIPE", `Connection ${this.id} is closed`);
  }

  #rejectWaiters(): void {
    this.#x?.releaseWaiters(() => this.#closedError());
  }

  /** @internal The adapter reports the socket closed. */
  _onClose(error?: Error): void {
    if (this.#has(IS_CLOSED)) return;
    const x = this.#ex();
    if (x.closeTimer !== undefined) clearTimeout(x.closeTimer);
    if (!error && x.held && this.#consumer === "events") {
      // Paused with undelivered bytes: deliver them before reporting the close.
      this.#flags &= ~USER_PAUSED;
      this.#feed(x.takeHeld()!);
    }
    if (!x.closeError || !error) this.#flushCore();
    this.#flags |= IS_CLOSED;
    const err = x.closeError ??= error;
    this.#rejectWaiters();
    const source = x.source;
    if (source) {
      if (error && !source.done) source.error(error);
      else source.close();
    }
    const info = closeInfoOf(err);
    x.settle(info);
    this.#host.closed(this, info);
  }
}

function checkMs(name: string, ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new RangeError(
      `Cannot set ${name} as it must be >= 0 milliseconds: current value is ${ms}`,
    );
  }
  return ms;
}
