/**
 * One WebSocket session on a TCP {@linkcode Connection}: state, sending
 * with fragmentation and backpressure, ping, close, line mode, and the
 * streams face built only when asked (reference: WSServer WSConnection).
 *
 * @module
 */

import type { Connection } from "../net/connection.ts";
import type { NetAddr, TlsInfo } from "../net/types.ts";
import { encodeClosePayload } from "./close_frame.ts";
import type { HttpRequest } from "./handshake.ts";
import { parseHead } from "./_request_head.ts";
import type { MessageCore } from "./message_core.ts";
import type { WsHost } from "./_ws_host.ts";
import type { HandshakeStage } from "./_ws_handshake.ts";
import { sendFragment, sendMessage, sendPart, sendPing } from "./_ws_out.ts";
import { setLineMode, setMaxLineLength } from "./_ws_lines.ts";
import { WsExtras } from "./_ws_extras.ts";
import { BUFFER, STREAM_PAUSED, USER_PAUSED } from "./_ws_state.ts";
import { startClose } from "./_ws_receive.ts";
import * as streams from "./_ws_streams.ts";
import {
  type PingOptions,
  ReadyState,
  type WebSocketCloseInfo,
  type WebSocketCloseOptions,
} from "./ws_connection_types.ts";

export * from "./ws_connection_types.ts";

/** Options of {@linkcode WebSocketConnection.send}. */
export interface SendOptions {
  /**
   * Compress this message when permessage-deflate was negotiated and it is
   * at least the policy's `threshold` bytes; false sends it as it is (for
   * data that is already compressed, or secrets next to attacker-chosen
   * text: BREACH/CRIME).
   * @default {true}
   */
  compress?: boolean;
}

/**
 * A WebSocket connection of a `WebSocketServer`. Events arrive through the
 * server's callbacks, or through {@linkcode messages} / {@linkcode fragments}
 * once taken. Sends never wait: they return false above the high-water mark
 * (await {@linkcode ready}) and throw `ServerError` 135 past `maxWriteBuffer`.
 * Bytes handed to a send must not be modified afterwards.
 *
 * @example Echo with backpressure
 * ```ts ignore
 * import { serveWs } from "@netstreams/netstreams/ws";
 * await serveWs({
 *   port: 0,
 *   onMessage(ws, data, text) {
 *     if (!ws.send(data, text)) ws.pause();
 *   },
 *   onDrain: (ws) => ws.resume(),
 * });
 * ```
 */
export class WebSocketConnection {
  /** Free slot for application state (reference: UserData). */
  data: unknown = undefined;
  /** @internal */ readonly _conn: Connection;
  /** @internal */ readonly _host: WsHost;
  /** @internal */ _state: number = ReadyState.CONNECTING;
  /** @internal bits named in _ws_state.ts (CLOSE_SENT, USER_PAUSED, ...) */ _flags: number;
  /** @internal */ _hs: HandshakeStage | undefined = undefined;
  /** @internal the opening request head */ _head: string | undefined = undefined;
  /** @internal */ _core: MessageCore | undefined = undefined;
  /** @internal buffer of the chunk being decoded, when the socket reuses it */ _lent:
    | ArrayBufferLike
    | undefined = undefined;
  /** @internal rare state, see `_ex` */ _x: WsExtras | undefined = undefined;
  /** @internal ms in the handshake or closing phase */ _age = 0;
  /** @internal */ _rx = 0;
  /** @internal */ _silent = 0;
  /** @internal */ _pingFor = -1;
  /** @internal */ _pingAt = 0;
  /** @internal */ _idle = 0;

  /** @internal Created by the server for each accepted connection. */
  constructor(conn: Connection, host: WsHost) {
    this._conn = conn;
    this._host = host;
    this._flags = host.s.bufferMessage ? BUFFER : 0;
  }

  /** @internal The rare state, created on first use. */
  _ex(): WsExtras {
    return this._x ??= new WsExtras();
  }

  /** Unique id within the server (reference: ConnectionId). */
  get id(): string {
    return this._conn.id;
  }
  /** 0 connecting, 1 open, 2 closing, 3 closed (see {@linkcode ReadyState}). */
  get readyState(): number {
    return this._state;
  }
  /** The client's address (reference: RemoteHost, RemotePort). */
  get remoteAddr(): NetAddr {
    return this._conn.remoteAddr;
  }
  /** The local address (reference: LocalAddress). */
  get localAddr(): NetAddr {
    return this._conn.localAddr;
  }
  /** What TLS negotiated, undefined on plaintext. */
  get tls(): TlsInfo | undefined {
    return this._conn.tls;
  }
  /** The TCP connection underneath (counters, socket options); do not write to it. */
  get connection(): Connection {
    return this._conn;
  }
  /**
   * The opening request (target, headers) once open (reference:
   * RequestURI, RequestHeaders): parsed from the kept head on each access.
   */
  get request(): HttpRequest | undefined {
    return this._head === undefined ? undefined : parseHead(this._head);
  }
  /** The request target, for example `/chat?room=1` ("" before open) (reference: RequestURI). */
  get url(): string {
    const head = this._head;
    if (head === undefined) return "";
    const start = head.indexOf(" ") + 1;
    return head.slice(start, head.indexOf(" ", start));
  }
  /** The subprotocol chosen in the handshake, "" for none. */
  get protocol(): string {
    return this._x?.protocol ?? "";
  }
  /**
   * The extensions agreed in the handshake as sent in
   * `Sec-WebSocket-Extensions`, for example
   * `permessage-deflate; server_max_window_bits=12`; "" for none (as the
   * browser's `WebSocket.extensions`).
   */
  get extensions(): string {
    return this._x?.ext ?? "";
  }
  /** Last measured round trip of a ping in milliseconds, undefined before one. */
  get rtt(): number | undefined {
    return this._x?.rtt;
  }
  set rtt(ms: number | undefined) {
    this._ex().rtt = ms;
  }
  /** Bytes that can still be queued before sends return false (reference: ReadyToSend). */
  get desiredSize(): number {
    return this._conn.desiredSize - (this._x?.held?.bytes ?? 0);
  }
  /** Bytes queued and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this._conn.writableLength + (this._x?.held?.bytes ?? 0);
  }
  /** Resolves when {@linkcode desiredSize} is positive; rejects when the connection closes first. */
  get ready(): Promise<void> {
    return this._conn.ready;
  }
  /** Resolves once closed, with how (never rejects). */
  get closed(): Promise<WebSocketCloseInfo> {
    const x = this._ex();
    if (this._state === ReadyState.CLOSED) return Promise.resolve(x.info!);
    return x.closedP ??= new Promise((r) => (x.resolveClosed = r));
  }

  /**
   * Deliver messages whole (true) or in parts (false) (reference:
   * BufferMessage). Can change until the first frame arrives, so set it in
   * `onOpen`.
   */
  get bufferMessage(): boolean {
    return (this._flags & BUFFER) !== 0;
  }
  set bufferMessage(on: boolean) {
    if (this._core !== undefined && Boolean(on) !== this.bufferMessage) {
      throw new TypeError(
        `Cannot change bufferMessage of WebSocket ${this.id} after data arrived: set it in onOpen`,
      );
    }
    this._flags = on ? this._flags | BUFFER : this._flags & ~BUFFER;
  }

  /**
   * Line mode: incoming data is cut into lines delivered to `onLine`
   * (reference: LineMode / ChangeLineMode). Turning it off delivers a
   * pending partial line with `eol` false.
   */
  get lineMode(): boolean {
    return this._x?.lines !== undefined;
  }
  set lineMode(on: boolean) {
    setLineMode(this, on);
  }
  /** Longest line in line mode in bytes, >= 256 (reference: MaxLineLength). */
  get maxLineLength(): number {
    return this._x?.maxLine ?? this._host.s.maxLineLength;
  }
  set maxLineLength(n: number) {
    setMaxLineLength(this, n);
  }

  // ---- sending ----

  /**
   * Sends a message: a string as text, bytes as binary unless `text` is
   * true (then they must be valid UTF-8). Returns false when the queue is
   * above the high-water mark. Throws `ConnectionError` EPIPE when not open.
   * With permessage-deflate it is compressed at once (synchronously) when at
   * least the policy's `threshold` bytes, unless `options.compress` is false.
   */
  send(
    data: string | Uint8Array,
    text: boolean = typeof data === "string",
    options?: SendOptions,
  ): boolean {
    return sendMessage(this, data, text, options?.compress !== false);
  }
  /** Sends a text message (reference: SendText); bytes must be valid UTF-8. */
  sendText(text: string | Uint8Array, options?: SendOptions): boolean {
    return this.send(text, true, options);
  }
  /** Sends a binary message (reference: SendBytes). */
  sendBinary(data: Uint8Array, options?: SendOptions): boolean {
    return this.send(data, false, options);
  }
  /**
   * Sends one piece of a message (reference: MessageLength): the first
   * piece sets the type, `last` ends the message. Other sends wait until
   * it ends. Throws `TypeError` while a stream or file owns the message.
   * With permessage-deflate the message is compressed piece by piece when
   * its first piece has at least the policy's `threshold` bytes, unless
   * `options.compress` is false (given with the first piece).
   */
  sendFragment(
    data: string | Uint8Array,
    last: boolean,
    text: boolean = typeof data === "string",
    options?: SendOptions,
  ): boolean {
    return sendFragment(this, data, last, text, options?.compress !== false);
  }

  /** @internal Writes a piece of the open outgoing message owned by `owner`. */
  _part(
    owner: object,
    data: string | Uint8Array,
    last: boolean,
    text: boolean,
    compress = true,
  ): boolean {
    return sendPart(this, owner, data, last, text, compress);
  }

  /**
   * Sends a ping and resolves with the round-trip time in milliseconds when
   * its pong arrives (reference: Ping). Without a payload a unique 4-byte
   * one is used. Rejects with `ETIMEDOUT` after `timeout`, with EPIPE when
   * the connection closes first.
   */
  ping(payload?: Uint8Array | string, options: PingOptions = {}): Promise<number> {
    return sendPing(this, payload, options.timeout ?? 30_000);
  }

  /**
   * Starts the closing handshake with `code` and `reason` (reference:
   * Disconnect, DisconnectStatusCode/Description, WaitForCloseResponse);
   * resolves once closed. Throws `RangeError` for a code that may not be
   * sent or a reason over 123 UTF-8 bytes. Closing a connecting socket
   * just drops it.
   */
  close(
    code = 1000,
    reason = "",
    options: WebSocketCloseOptions = {},
  ): Promise<WebSocketCloseInfo> {
    const state = this._state;
    if (state === ReadyState.CONNECTING) void this._conn.close();
    else if (state === ReadyState.OPEN) {
      const payload = encodeClosePayload(code, reason);
      startClose(this, payload, code, reason, options.wait ?? this._host.s.waitForCloseResponse);
    }
    return this.closed;
  }
  /** Drops the connection without a closing handshake (1006). */
  abort(reason?: Error): Promise<WebSocketCloseInfo> {
    void this._conn.abort(reason);
    return this.closed;
  }

  /** Stops reading (after the messages of the chunk being processed) (reference: AcceptData false). */
  pause(): void {
    this._flags |= USER_PAUSED;
    this._conn.pause();
  }
  /** Resumes reading after {@linkcode pause}. */
  resume(): void {
    this._flags &= ~USER_PAUSED;
    if ((this._flags & STREAM_PAUSED) === 0) this._conn.resume();
  }

  // ---- streams face, built on first use ----

  /** Incoming whole messages, text as strings and binary as bytes; taking it stops `onMessage` for this socket. */
  get messages(): ReadableStream<string | Uint8Array> {
    return streams.messages(this);
  }
  /** Incoming message parts as they arrive (`bufferMessage` false), or whole messages with `eom`. */
  get fragments(): ReadableStream<streams.WebSocketFragment> {
    return streams.fragments(this);
  }
  /** Outgoing messages, one per chunk (strings as text); closing it closes the WebSocket with 1000. */
  get writable(): WritableStream<string | Uint8Array> {
    const x = this._ex();
    return x.writable ??= streams.writable(this);
  }
  /**
   * A writable for ONE message sent in pieces, each piece a frame; closing
   * it ends the message. Other sends wait until then.
   */
  openMessage(options: streams.OpenMessageOptions = {}): WritableStream<string | Uint8Array> {
    return streams.openMessage(this, options);
  }
  /**
   * Sends a file as one message (binary unless `text`), honouring
   * backpressure; aborting `signal` ends the message early and keeps the
   * connection (reference: SendFile, Interrupt). Resolves with the bytes sent.
   */
  sendFile(path: string, options: streams.WsSendFileOptions = {}): Promise<number> {
    return streams.sendFile(this, path, options);
  }

  // ---- internals ----

  /** @internal The send queue drained. */
  _drain(): void {
    if (this._state !== ReadyState.OPEN) return;
    try {
      this._host.onDrain?.(this);
    } catch (error) {
      this._host.report(error, this);
    }
  }
}

export type { OpenMessageOptions, WebSocketFragment, WsSendFileOptions } from "./_ws_streams.ts";
