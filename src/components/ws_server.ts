/**
 * `WsServer`: the reference WSServer's event model over the library's
 * {@linkcode WebSocketServer}. A thin layer: every behaviour lives in
 * `src/ws/` and `src/net/`.
 *
 * @module
 */

import { WebSocketServer, type WebSocketServerOptions } from "../ws/ws_server.ts";
import type { WebSocketConnection } from "../ws/ws_connection.ts";
import type { WebSocketOpenRequest } from "../ws/open_request.ts";
import { defaultSslConfig, tlsOptionsOf } from "./_tls_config.ts";
import { applyWsConfig, readWsConfig, type WsConfigTarget } from "./_ws_config.ts";
import { ConnectionRequestEvent, ConnectionStatusEvent, ErrorEvent, ReadyToSendEvent } from "./tcp_events.ts";
import { applyOpenRequestEvent, attempt, errorCode, openRequestEvent } from "./_ws_glue.ts";
import {
  WsDataInEvent,
  type WsLogLevel,
  WsLogEvent,
  WsPingEvent,
  type WsServerEventMap,
} from "./ws_events.ts";

export * from "./ws_events.ts";

const encoder = new TextEncoder();

/** The properties settable through the constructor. */
export interface WsServerProperties {
  /** See {@linkcode WsServer.localHost}. */
  localHost: string;
  /** See {@linkcode WsServer.localPort}. */
  localPort: number;
  /** See {@linkcode WsServer.connectionBacklog}. */
  connectionBacklog: number;
  /** See {@linkcode WsServer.defaultTimeout}. */
  defaultTimeout: number;
}

/**
 * An event-driven WebSocket server with the reference WSServer model:
 * connections by id, DataIn per message (or part, or line), Ping events,
 * WebSocketOpenRequest to accept or refuse, Config settings by name.
 *
 * @example An echo with events
 * ```ts ignore
 * import { WsServer } from "@netstreams/netstreams/components";
 * const server = new WsServer({ localPort: 0 });
 * server.on("DataIn", (e) => {
 *   if (e.dataFormat === 1) void server.sendText(e.connectionId, e.text);
 *   else void server.sendBytes(e.connectionId, e.textB);
 * });
 * await server.startListening();
 * ```
 */
export class WsServer extends EventTarget implements AsyncDisposable {
  /** The library server underneath; use it for anything the event model lacks. */
  readonly server: WebSocketServer;
  readonly #cfg: WsConfigTarget;
  #defaultTimeout = 0;
  /** Messages being received in parts (for DataFormat 0 on continuations). */
  #continuing = new Set<string>();
  #files = new Map<string, AbortController>();

  /** Creates the component; `init` sets properties by their reference names. */
  constructor(init: Partial<WsServerProperties> = {}) {
    super();
    this.server = new WebSocketServer(this.#hooks());
    this.#cfg = {
      server: this.server,
      tcp: { server: this.server.server, _decoder: new TextDecoder(), _ssl: defaultSslConfig() },
      disconnectCode: 1000,
      disconnectDescription: "",
      logLevel: 1,
      messageLength: new Map(),
    };
    Object.assign(this, init);
  }

  /** Adds a listener by event name. Returns this. */
  on<K extends keyof WsServerEventMap>(type: K, listener: (e: WsServerEventMap[K]) => void): this {
    this.addEventListener(type, listener as EventListener);
    return this;
  }

  // ---- properties ----

  /** Address to listen on (reference: LocalHost). @default "0.0.0.0" */
  get localHost(): string {
    const s = this.server.server;
    return s.listening ? s.addr.hostname : s.options.hostname ?? "0.0.0.0";
  }
  set localHost(v: string) {
    this.server.server.set({ hostname: v });
  }
  /** Port to listen on; 0 = any, then the bound port (reference: LocalPort). @default 0 */
  get localPort(): number {
    const s = this.server.server;
    return s.listening ? s.addr.port : s.options.port ?? 0;
  }
  set localPort(v: number) {
    this.server.server.set({ port: v });
  }
  /** True while listening (reference: Listening). */
  get listening(): boolean {
    return this.server.listening;
  }
  /** Live connections by id, a snapshot (reference: WSConnection properties). */
  get connections(): ReadonlyMap<string, WebSocketConnection> {
    return this.server.connections;
  }
  /** Pending-connection queue (reference: ConnectionBacklog). @default 511 */
  get connectionBacklog(): number {
    return this.server.server.options.backlog ?? 511;
  }
  set connectionBacklog(v: number) {
    this.server.server.set({ backlog: v });
  }
  /**
   * Seconds a send may wait for room (reference: DefaultTimeout); 0 = sends
   * never wait and fail with 135 when the queue is full. Also how long
   * `ping` waits for its pong (30 s when 0).
   * @default 0
   */
  get defaultTimeout(): number {
    return this.#defaultTimeout;
  }
  set defaultTimeout(seconds: number) {
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new RangeError(`Cannot set defaultTimeout as it must be >= 0 seconds: current value is ${seconds}`);
    }
    this.server.set({ writeTimeout: seconds * 1000 });
    this.#defaultTimeout = seconds;
  }

  // ---- methods ----

  /** Starts listening (reference: StartListening). */
  async startListening(): Promise<void> {
    if (!this.server.listening) this.server.set({ tls: tlsOptionsOf(this.#cfg.tcp._ssl) });
    await this.server.listen();
  }
  /** Stops accepting; connections stay (reference: StopListening). */
  stopListening(): Promise<void> {
    this.server.stopListening();
    return Promise.resolve();
  }
  /** Stops listening and closes every WebSocket with 1001, resetting stragglers after `timeout` ms (reference: Shutdown). */
  shutdown(timeout = 5000): Promise<void> {
    return this.server.shutdown({ timeout });
  }
  /** Closes with DisconnectStatusCode/Description, waiting for the answer as WaitForCloseResponse says (reference: Disconnect). */
  async disconnect(connectionId: string): Promise<void> {
    await this.server.get(connectionId).close(this.#cfg.disconnectCode, this.#cfg.disconnectDescription);
  }
  /** Line mode on or off for a connection (reference: ChangeLineMode). */
  changeLineMode(connectionId: string, lineMode: boolean): Promise<void> {
    return attempt(() => void (this.server.get(connectionId).lineMode = lineMode));
  }
  /** Sends a ping and resolves with the round-trip time in ms when the pong comes (reference: Ping). */
  ping(connectionId: string): Promise<number> {
    const timeout = this.#defaultTimeout > 0 ? this.#defaultTimeout * 1000 : 30_000;
    return this.server.get(connectionId).ping(undefined, { timeout });
  }
  /** Sends a string as text, bytes as binary (reference: Send), honouring MessageLength. */
  async send(connectionId: string, data: Uint8Array | string): Promise<void> {
    const text = typeof data === "string";
    await this.#send(connectionId, text ? encoder.encode(data) : data, text);
  }
  /** Sends binary data (reference: SendBytes). */
  sendBytes(connectionId: string, data: Uint8Array): Promise<void> {
    return this.#send(connectionId, data, false);
  }
  /** Sends text as UTF-8 (reference: SendText). */
  sendText(connectionId: string, text: string): Promise<void> {
    return this.#send(connectionId, encoder.encode(text), true);
  }
  /** Sends a file as one binary message; {@linkcode interrupt} ends it early (reference: SendFile). */
  async sendFile(connectionId: string, fileName: string): Promise<void> {
    const ws = this.server.get(connectionId);
    const ctl = new AbortController();
    this.#files.set(connectionId, ctl);
    try {
      await ws.sendFile(fileName, { signal: ctl.signal });
    } finally {
      if (this.#files.get(connectionId) === ctl) this.#files.delete(connectionId);
    }
  }
  /** Stops a file being sent, keeping the connection (reference: Interrupt). */
  interrupt(connectionId: string): Promise<void> {
    return attempt(() => {
      this.server.get(connectionId);
      this.#files.get(connectionId)?.abort(new DOMException("Interrupted", "AbortError"));
    });
  }
  /**
   * `config("Name=Value")` sets, `config("Name")` reads a setting (reference:
   * Config). permessage-deflate: `EnablePermessageDeflate` (default true:
   * browsers' offers are accepted), `PermessageDeflateThreshold` (bytes,
   * default "auto": 128 with context takeover, 1024 without) and `PermessageDeflateWindowBits` (9-15 for both
   * directions, default 12); they apply to connections opened afterwards.
   */
  config(setting: string): Promise<string> {
    return attempt(() => {
      const eq = setting.indexOf("=");
      if (eq < 0) return readWsConfig(this.#cfg, setting);
      applyWsConfig(this.#cfg, setting.slice(0, eq), setting.slice(eq + 1).trim());
      return "";
    });
  }
  /** Shuts down, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  async #send(id: string, bytes: Uint8Array, text: boolean): Promise<void> {
    const ws = this.server.get(id);
    if (this.#defaultTimeout > 0) while (ws.desiredSize <= 0) await ws.ready;
    const left = this.#cfg.messageLength.get(id) ?? 0;
    if (left === 0) {
      ws.send(bytes, text);
      return;
    }
    // MessageLength: the next `left` bytes form one message, sent in pieces.
    const piece = bytes.length <= left ? bytes : bytes.subarray(0, left);
    const rest = left - piece.length;
    if (rest === 0) this.#cfg.messageLength.delete(id);
    else this.#cfg.messageLength.set(id, rest);
    ws.sendFragment(piece, rest === 0, text);
    if (piece.length < bytes.length) ws.send(bytes.subarray(piece.length), text);
  }

  #log(level: WsLogLevel, message: string, id = "", type: WsLogEvent["logType"] = "Info"): void {
    if (level <= this.#cfg.logLevel) this.dispatchEvent(new WsLogEvent(id, level, message, type));
  }

  #openRequest(req: WebSocketOpenRequest): void {
    const ev = openRequestEvent(req);
    this.#log(2, ev.requestHeaders, req.connectionId, "Verbose");
    this.dispatchEvent(ev);
    applyOpenRequestEvent(ev, req);
    if (ev.enablePermessageDeflate === false) req.perMessageDeflate = false;
  }

  #hooks(): WebSocketServerOptions {
    return {
      onConnectionRequest: (r) => {
        const ev = new ConnectionRequestEvent(r.remoteAddr.hostname, r.remoteAddr.port, r.accept);
        this.dispatchEvent(ev);
        return ev.accept;
      },
      onOpenRequest: (req) => this.#openRequest(req),
      onOpen: (ws) => {
        this.dispatchEvent(new ConnectionStatusEvent("Connected", ws.id, 0, "OK"));
        this.dispatchEvent(new ReadyToSendEvent(ws.id));
      },
      onMessage: (ws, data, text, eom) => {
        const id = ws.id;
        const continuation = this.#continuing.has(id);
        if (eom) this.#continuing.delete(id);
        else this.#continuing.add(id);
        const format = continuation ? 0 : text ? 1 : 2;
        this.dispatchEvent(new WsDataInEvent(id, format, data.slice(), eom, false, this.#cfg.tcp._decoder));
      },
      onLine: (ws, line, eol) => {
        this.dispatchEvent(new WsDataInEvent(ws.id, 0, line.slice(), false, eol, this.#cfg.tcp._decoder));
      },
      onPing: (ws, payload) => this.dispatchEvent(new WsPingEvent(ws.id, payload.slice(), false)),
      onPong: (ws, payload) => this.dispatchEvent(new WsPingEvent(ws.id, payload.slice(), true)),
      onDrain: (ws) => this.dispatchEvent(new ReadyToSendEvent(ws.id)),
      onClose: (ws, info) => {
        const id = ws.id;
        this.#files.get(id)?.abort();
        this.#files.delete(id);
        this.#continuing.delete(id);
        this.#cfg.messageLength.delete(id);
        const description = info.reason || (info.error?.message ?? "");
        this.dispatchEvent(new ConnectionStatusEvent("Disconnected", id, info.code, description));
      },
      onError: (error, ws) => {
        this.#log(1, error.message, ws?.id, "Error");
        this.dispatchEvent(new ErrorEvent(ws?.id ?? "", errorCode(error), error));
      },
      onLog: (level, message, ws) => this.#log(level, message, ws?.id),
    };
  }
}
