/**
 * One proxied connection: a WebSocket and its TCP (or TLS) connection to
 * the target, joined with plain calls on the hot path (DESIGN.md "The hot
 * path"). Backpressure holds both ways: a full target queue pauses the
 * WebSocket reader, a full WebSocket queue pauses the target reader.
 *
 * Closing maps as websockify does and a little more: a client close (or
 * drop) flushes and sends FIN to the target; a target FIN closes the
 * WebSocket with 1000 after the data before it; a target that cannot be
 * reached or fails closes it with 1014 (Bad Gateway, IANA registry) and
 * the reason.
 *
 * @module
 */

import type { NetAddr, Socket, SocketHandlers } from "../net/types.ts";
import type { WebSocketCloseInfo, WebSocketConnection } from "../ws/ws_connection.ts";
import { encodeProxyHeader, type ProxyProtocolVersion } from "./proxy_protocol.ts";
import { formatTarget, type ProxyTarget } from "./target.ts";
import { sendBorrowed } from "../ws/_ws_out.ts";
import { giveBack, LARGE_BUFFERS, takeBuffer } from "../runtime/buffer_pool.ts";

/** How a proxied connection ended (reference: Disconnected StatusCode, Description). */
export interface ProxyCloseInfo extends WebSocketCloseInfo {
  /** Who ended it first: the WebSocket client, the target, or the proxy (shutdown, timeout, failure). */
  closedBy: "client" | "target" | "proxy";
  /** Bytes passed from the client to the target. */
  bytesFromClient: number;
  /** Bytes passed from the target to the client. */
  bytesFromTarget: number;
}

/** @internal What a session needs from its proxy. */
export interface SessionHost {
  connect(target: ProxyTarget): Promise<Socket>;
  proxyProtocol: ProxyProtocolVersion | undefined;
  onConnect?: (session: ProxySession) => void;
  onData?: (session: ProxySession, data: Uint8Array, fromClient: boolean) => void;
  onDisconnect?: (session: ProxySession, info: ProxyCloseInfo) => void;
  /** Milliseconds the target gets to take the last bytes after the client left; then it is dropped. */
  closeTimeout: number;
  report(error: unknown, session?: ProxySession): void;
  log(level: 1 | 2 | 3, message: string, session?: ProxySession): void;
  done(session: ProxySession): void;
}

/** Target connection states. */
const Tcp = { None: 0, Connecting: 1, Open: 2, Closed: 3 } as const;

const MAX_REASON = 123;
const encoder = new TextEncoder();

/** A close reason cut to the 123 UTF-8 bytes a close frame allows. */
function fitReason(text: string): string {
  if (encoder.encode(text).length <= MAX_REASON) return text;
  let s = text.slice(0, MAX_REASON);
  while (encoder.encode(s).length > MAX_REASON - 3) s = s.slice(0, -1);
  return `${s}...`;
}

/**
 * A proxied connection: the client's WebSocket and the target connection
 * (reference: WebSocketProxy Connections). Created by the proxy for each
 * accepted WebSocket.
 */
export class ProxySession {
  /** Free slot for application state (reference: UserData). */
  data: unknown = undefined;
  /** The client's WebSocket. Do not send on it: the target owns the outgoing data. */
  readonly ws: WebSocketConnection;
  /** Where this connection goes. */
  readonly target: ProxyTarget;
  /** Bytes passed from the client to the target. */
  bytesFromClient = 0;
  /** Bytes passed from the target to the client. */
  bytesFromTarget = 0;
  readonly #host: SessionHost;
  #tcp: Socket | undefined = undefined;
  #tcpState: number = Tcp.None;
  #pending: Uint8Array[] = [];
  #wsClosed: WebSocketCloseInfo | undefined = undefined;
  #closedBy: ProxyCloseInfo["closedBy"] | undefined = undefined;
  #error: Error | undefined = undefined;
  #finished = false;
  #closeTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  #resolveDone: (() => void) | undefined = undefined;
  #doneP: Promise<void> | undefined = undefined;
  #handlers: SocketHandlers;
  /** The target socket is corked until the end of this turn (one send for a read's pieces). */
  #corked = false;
  readonly #uncork = (): void => {
    this.#corked = false;
    this.#tcp?.uncork();
  };
  /** Copies of this turn's client pieces (borrowed bytes), written to the target as one chunk. */
  #stage: Uint8Array | undefined = undefined;
  #staged = 0;
  readonly #flushStage = (): void => {
    const stage = this.#stage;
    if (stage === undefined) return; // flushed already (before a FIN)
    const n = this.#staged;
    this.#stage = undefined; // the socket keeps what it is given
    this.#staged = 0;
    if (this.#tcpState !== Tcp.Open) return giveBack(LARGE_BUFFERS, stage);
    const tcp = this.#tcp!;
    const ok = tcp.write(stage.subarray(0, n));
    LARGE_BUFFERS.lend(stage, tcp); // reused once the target socket has written it
    if (!ok) this.ws.pause();
  };

  /** @internal Created by the proxy in the open-request step. */
  constructor(ws: WebSocketConnection, target: ProxyTarget, host: SessionHost) {
    this.ws = ws;
    this.target = target;
    this.#host = host;
    this.#handlers = {
      data: (chunk) => this.#fromTarget(chunk),
      end: () => this.#targetEnded(),
      drain: () => {
        if (this.ws.readyState === 1) this.ws.resume();
      },
      close: (error) => this.#targetClosed(error),
    };
  }

  /** The connection id (reference: ConnectionId). */
  get id(): string {
    return this.ws.id;
  }
  /** The client's address. */
  get remoteAddr(): NetAddr {
    return this.ws.remoteAddr;
  }
  /** The target connection's local address, once connected. */
  get targetLocalAddr(): NetAddr | undefined {
    return this.#tcp?.localAddr;
  }
  /** True while the target connection is open. */
  get connected(): boolean {
    return this.#tcpState === Tcp.Open;
  }
  /** Bytes queued towards the target and not yet taken by the kernel. */
  get targetBufferedAmount(): number {
    return (this.#tcp?.writableLength ?? 0) + this.#pending.reduce((n, c) => n + c.length, 0);
  }
  /** Bytes queued towards the client and not yet taken by the kernel. */
  get clientBufferedAmount(): number {
    return this.ws.bufferedAmount;
  }
  /** Resolves when both sides are closed. */
  get done(): Promise<void> {
    if (this.#finished) return Promise.resolve();
    return this.#doneP ??= new Promise((r) => (this.#resolveDone = r));
  }

  /**
   * Closes the WebSocket with `code` and `reason` (reference: Disconnect)
   * and then the target connection; resolves when both are closed.
   */
  close(code = 1000, reason = ""): Promise<void> {
    this.#closedBy ??= "proxy";
    if (this.ws.readyState <= 1) void this.ws.close(code, fitReason(reason));
    return this.done;
  }

  /** Drops both connections at once. */
  abort(): Promise<void> {
    this.#closedBy ??= "proxy";
    this.#tcp?.abort();
    void this.ws.abort();
    return this.done;
  }

  // ---- driven by the proxy (WebSocket side) ----

  /** @internal The WebSocket opened: connect to the target, holding client data until then. */
  _open(): void {
    this.#tcpState = Tcp.Connecting;
    this.ws.pause();
    const t = this.target;
    this.#host.log(2, `connecting to ${formatTarget(t)}${t.tls ? " (TLS)" : ""}`, this);
    this.#host.connect(t).then(
      (socket) => this.#connected(socket),
      (error) => this.#connectFailed(error),
    );
  }

  /** @internal A message (or part) from the client. */
  _fromClient(data: Uint8Array): void {
    this.bytesFromClient += data.length;
    this.#host.onData?.(this, data, true);
    if (data.length === 0) return;
    // Payloads are views of the chunk read from the client (unmasked in place). Where the
    // adapter reuses its read buffer (Deno) the target needs a copy; a view of a fresh
    // chunk (Bun, Node) may be kept as it is: nothing writes into it again.
    const ws = this.ws;
    const borrowed = ws._lent !== undefined && data.buffer === ws._lent; // set for a reused buffer only
    const tcp = this.#tcp;
    if (tcp === undefined || this.#tcpState !== Tcp.Open) {
      if (this.#tcpState === Tcp.Connecting) this.#pending.push(borrowed ? data.slice() : data);
      return;
    }
    // Without writev (Deno, Bun) the pieces of one client read are copied into one
    // pooled buffer and written together: a copy costs less than a system call per frame.
    if (borrowed || tcp.gathersWrites !== true) return this.#stagePiece(data);
    // With writev (Node) they go uncopied, in one write at the end of the turn.
    if (!this.#corked) {
      this.#corked = true;
      tcp.cork();
      queueMicrotask(this.#uncork);
    }
    if (!tcp.write(data)) ws.pause();
  }

  /**
   * Copies a piece behind the others of this turn: the pieces of one read
   * (several frames, or a frame cut by reads) cost one copy and one write
   * together, in a pooled buffer that is reused once the target socket has
   * written it. The buffer is sized by the read buffer the pieces come from.
   */
  #stagePiece(data: Uint8Array): void {
    const n = data.length;
    const used = this.#staged;
    let stage = this.#stage;
    if (stage === undefined) {
      // Sized by the read buffer the pieces come from (64 or 128 KiB on Deno): pooled.
      stage = this.#stage = takeBuffer(
        LARGE_BUFFERS,
        Math.max(n, Math.min(data.buffer.byteLength, 1 << 20)),
      );
      queueMicrotask(this.#flushStage);
    } else if (used + n > stage.length) {
      const grown = new Uint8Array(Math.max(used + n, stage.length * 2));
      grown.set(stage.subarray(0, used));
      stage = this.#stage = grown;
    }
    stage.set(data, used);
    this.#staged = used + n;
  }

  /** @internal The client's queue drained. */
  _clientDrain(): void {
    if (this.#tcpState === Tcp.Open) this.#tcp!.resume();
  }

  /** @internal The WebSocket closed: flush and FIN the target, then finish. */
  _clientClosed(info: WebSocketCloseInfo): void {
    this.#wsClosed = info;
    this.#closedBy ??= "client";
    this.#pending = [];
    if (this.#tcpState === Tcp.Open) {
      const tcp = this.#tcp!;
      if (this.#stage !== undefined) this.#flushStage(); // this turn's data before the FIN
      tcp.close();
      // A target that never reads would keep the flush (and the session) forever.
      const ms = this.#host.closeTimeout;
      if (ms > 0) this.#closeTimer = setTimeout(() => tcp.abort(), ms);
    } else if (this.#tcpState === Tcp.None) this.#tcpState = Tcp.Closed;
    this.#maybeFinish();
  }

  // ---- target side ----

  #connected(socket: Socket): void {
    if (this.#wsClosed !== undefined || this.ws.readyState !== 1) {
      this.#tcpState = Tcp.Closed;
      socket.abort();
      this.#maybeFinish();
      return;
    }
    this.#tcp = socket;
    this.#tcpState = Tcp.Open;
    socket.setNoDelay(true);
    socket.setLargeReads?.(); // up to 128 KiB a read: a frame each (pooled buffers)
    let ok = true;
    const version = this.#host.proxyProtocol;
    if (version !== undefined) {
      ok = socket.write(encodeProxyHeader(version, this.ws.remoteAddr, this.ws.localAddr));
    }
    for (const chunk of this.#pending) ok = socket.write(chunk);
    this.#pending = [];
    socket.start(this.#handlers);
    this.#host.log(1, `connected to ${formatTarget(this.target)}`, this);
    try {
      this.#host.onConnect?.(this);
    } catch (error) {
      this.#host.report(error, this);
    }
    if (ok && this.ws.readyState === 1) this.ws.resume();
  }

  #connectFailed(error: unknown): void {
    this.#tcpState = Tcp.Closed;
    const err = error instanceof Error ? error : new Error(String(error));
    this.#error = err;
    this.#host.report(err, this);
    if (this.ws.readyState === 1) {
      this.#closedBy ??= "proxy";
      const code = (err as { code?: unknown }).code;
      const what = code === "ECONNREFUSED"
        ? "refused the connection"
        : `failed: ${String(code ?? err.message)}`;
      void this.ws.close(1014, fitReason(`target ${formatTarget(this.target)} ${what}`));
    }
    this.#maybeFinish();
  }

  #fromTarget(chunk: Uint8Array): void {
    this.bytesFromTarget += chunk.length;
    this.#host.onData?.(this, chunk, false);
    const ws = this.ws;
    if (ws.readyState !== 1) return; // closing: the client will not read more
    const tcp = this.#tcp!;
    if (tcp.gathersWrites === true && !tcp.sharedChunks) {
      // A fresh chunk on a runtime with writev (Node): header and payload leave together,
      // uncopied. Paused before the uncork: the write may drain (and resume the target) in it.
      const conn = ws._conn;
      conn.cork();
      try {
        if (!ws.send(chunk, false)) tcp.pause();
      } finally {
        conn.uncork();
      }
      return;
    }
    // Elsewhere (no writev) the frame is built around one copy of the payload, in a pooled
    // buffer: header and payload in one chunk, one write. On Deno the chunk is a view of the
    // target's read buffer, which its next read overwrites; on Bun a fresh chunk then costs
    // one copy instead of a separate system call (and packet) for the frame header.
    if (!sendBorrowed(ws, chunk, false)) tcp.pause();
  }

  #targetEnded(): void {
    this.#closedBy ??= "target";
    if (this.ws.readyState === 1) void this.ws.close(1000, "target closed the connection");
  }

  #targetClosed(error: Error | undefined): void {
    this.#tcpState = Tcp.Closed;
    clearTimeout(this.#closeTimer);
    if (error !== undefined && this.#wsClosed === undefined) {
      this.#error = error;
      this.#closedBy ??= "target";
      this.#host.report(error, this);
    }
    if (this.ws.readyState === 1) {
      this.#closedBy ??= "target";
      if (error === undefined) void this.ws.close(1000, "target closed the connection");
      else {
        const code = (error as { code?: unknown }).code;
        void this.ws.close(
          1014,
          fitReason(`target connection failed: ${String(code ?? error.message)}`),
        );
      }
    }
    this.#maybeFinish();
  }

  #maybeFinish(): void {
    if (this.#finished || this.#wsClosed === undefined) return;
    if (this.#tcpState !== Tcp.Closed && this.#tcpState !== Tcp.None) return;
    this.#finished = true;
    const w = this.#wsClosed;
    const info: ProxyCloseInfo = {
      code: w.code,
      reason: w.reason,
      wasClean: w.wasClean,
      closedBy: this.#closedBy ?? "client",
      bytesFromClient: this.bytesFromClient,
      bytesFromTarget: this.bytesFromTarget,
    };
    const error = this.#error ?? w.error;
    if (error !== undefined) info.error = error;
    this.#host.log(
      1,
      `closed (${info.code}${info.reason ? ` ${info.reason}` : ""}), by the ${info.closedBy}`,
      this,
    );
    this.#host.done(this);
    try {
      this.#host.onDisconnect?.(this, info);
    } catch (err) {
      this.#host.report(err, this);
    }
    this.#resolveDone?.();
  }
}
