/**
 * `WsProxy`: the reference WebSocketProxy's event model over the library's
 * {@linkcode WebSocketProxy}. A thin layer: routing, the data path and
 * closes live in `src/proxy/`. (The reference name `WebSocketProxy` is the
 * library class's, so the component is `WsProxy`, as `WsServer` is to
 * `WebSocketServer`.)
 *
 * @module
 */

import { WebSocketProxy } from "../proxy/web_socket_proxy.ts";
import type { ProxySession } from "../proxy/proxy_session.ts";
import type { SslCert } from "./_tls_config.ts";
import { defaultSslConfig, tlsOptionsOf } from "./_tls_config.ts";
import { applyWsConfig, readWsConfig, type WsConfigTarget } from "./_ws_config.ts";
import { ConnectionRequestEvent, ConnectionStatusEvent, ErrorEvent } from "./tcp_events.ts";
import { applyOpenRequestEvent, attempt, errorCode, openRequestEvent } from "./_ws_glue.ts";
import { WsLogEvent, type WsLogLevel } from "./ws_events.ts";
import {
  WsProxyDataInEvent,
  type WsProxyEventMap,
  WsProxyOpenRequestEvent,
} from "./ws_proxy_events.ts";

export * from "./ws_proxy_events.ts";

/** The properties settable through the constructor. */
export interface WsProxyProperties {
  /** See {@linkcode WsProxy.localHost}. */
  localHost: string;
  /** See {@linkcode WsProxy.localPort}. */
  localPort: number;
  /** See {@linkcode WsProxy.defaultForwardHost}. */
  defaultForwardHost: string;
  /** See {@linkcode WsProxy.defaultForwardPort}. */
  defaultForwardPort: number;
  /** See {@linkcode WsProxy.connectionBacklog}. */
  connectionBacklog: number;
  /** See {@linkcode WsProxy.useSSL}. */
  useSSL: boolean;
  /** See {@linkcode WsProxy.sslCert}. */
  sslCert: SslCert | undefined;
}

/** Settings of the WSServer that do not apply to a proxy (its data is streamed, not framed). */
const NOT_FOR_PROXY = new Set(["buffermessage", "messagelength", "maxlinelength"]);

/**
 * An event-driven WebSocket-to-TCP proxy with the reference WebSocketProxy
 * model: DefaultForwardHost/Port, a WebSocketOpenRequest event whose
 * ForwardHost/ForwardPort/StatusCode decide each connection, Connected,
 * DataIn (both directions), Disconnected with the close code, Error, Log.
 *
 * @example A proxy to a VNC server that sends one user elsewhere
 * ```ts ignore
 * import { WsProxy } from "@netstreams/netstreams/components";
 * const proxy = new WsProxy({ localPort: 6080, defaultForwardHost: "127.0.0.1", defaultForwardPort: 5900 });
 * proxy.on("WebSocketOpenRequest", (e) => {
 *   if (e.requestURI === "/admin") e.forwardPort = 5901;
 * });
 * proxy.on("Disconnected", (e) => console.log(e.connectionId, e.statusCode, e.description));
 * await proxy.startListening();
 * ```
 */
export class WsProxy extends EventTarget implements AsyncDisposable {
  /** The library proxy underneath; use it for anything the event model lacks. */
  readonly proxy: WebSocketProxy;
  readonly #cfg: WsConfigTarget;
  #forwardHost = "";
  #forwardPort = 0;
  #dataListeners = 0;

  /** Creates the component; `init` sets properties by their reference names. */
  constructor(init: Partial<WsProxyProperties> = {}) {
    super();
    this.proxy = new WebSocketProxy({
      onConnectionRequest: (r) => {
        const ev = new ConnectionRequestEvent(r.remoteAddr.hostname, r.remoteAddr.port, r.accept);
        this.dispatchEvent(ev);
        return ev.accept;
      },
      onOpenRequest: (req, route) => {
        const ev = new WsProxyOpenRequestEvent(openRequestEvent(req), route.hostname, route.port);
        this.#log(2, ev.requestHeaders, req.connectionId, "Verbose");
        this.dispatchEvent(ev);
        applyOpenRequestEvent(ev, req);
        route.hostname = ev.forwardHost;
        route.port = ev.forwardPort;
      },
      onConnect: (s) => this.dispatchEvent(new ConnectionStatusEvent("Connected", s.id, 0, "OK")),
      onDisconnect: (s, info) => {
        const description = info.reason || (info.error?.message ?? "");
        this.dispatchEvent(new ConnectionStatusEvent("Disconnected", s.id, info.code, description));
      },
      onError: (error, s) => {
        this.#log(1, error.message, s?.id, "Error");
        this.dispatchEvent(new ErrorEvent(s?.id ?? "", errorCode(error), error));
      },
      onLog: (level, message, s) => this.#log(level, message, s?.id),
    });
    this.#cfg = {
      server: this.proxy.server,
      tcp: {
        server: this.proxy.server.server,
        _decoder: new TextDecoder(),
        _ssl: defaultSslConfig(),
      },
      disconnectCode: 1000,
      disconnectDescription: "",
      logLevel: 1,
      messageLength: new Map(),
    };
    Object.assign(this, init);
  }

  /** Adds a listener by event name. Returns this. */
  on<K extends keyof WsProxyEventMap>(type: K, listener: (e: WsProxyEventMap[K]) => void): this {
    this.addEventListener(type, listener as EventListener);
    return this;
  }

  /** DataIn costs a copy per chunk only while someone listens to it. */
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener, options);
    if (type === "DataIn" && listener !== null && ++this.#dataListeners === 1) {
      this.proxy.onData = (s: ProxySession, data: Uint8Array, fromClient: boolean) =>
        this.dispatchEvent(
          new WsProxyDataInEvent(s.id, fromClient, data.slice(), this.#cfg.tcp._decoder),
        );
    }
  }

  /** Removes a listener; the last DataIn listener gone turns the copies off. */
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener, options);
    if (
      type === "DataIn" && listener !== null && this.#dataListeners > 0 &&
      --this.#dataListeners === 0
    ) {
      this.proxy.onData = undefined;
    }
  }

  // ---- properties ----

  /** Address to listen on (reference: LocalHost). @default "0.0.0.0" */
  get localHost(): string {
    const s = this.proxy.server.server;
    return s.listening ? s.addr.hostname : s.options.hostname ?? "0.0.0.0";
  }
  set localHost(v: string) {
    this.proxy.server.server.set({ hostname: v });
  }
  /** Port to listen on; 0 = any, then the bound port (reference: LocalPort). @default 0 */
  get localPort(): number {
    const s = this.proxy.server.server;
    return s.listening ? s.addr.port : s.options.port ?? 0;
  }
  set localPort(v: number) {
    this.proxy.server.server.set({ port: v });
  }
  /** Default target host for new connections (reference: DefaultForwardHost). @default "" */
  get defaultForwardHost(): string {
    return this.#forwardHost;
  }
  set defaultForwardHost(v: string) {
    this.#forwardHost = String(v);
    this.#retarget();
  }
  /** Default target port for new connections (reference: DefaultForwardPort). @default 0 */
  get defaultForwardPort(): number {
    return this.#forwardPort;
  }
  set defaultForwardPort(v: number) {
    if (!Number.isInteger(v) || v < 0 || v > 65535) {
      throw new RangeError(
        `Cannot set defaultForwardPort as it must be 0-65535: current value is ${v}`,
      );
    }
    this.#forwardPort = v;
    this.#retarget();
  }
  /** True while listening (reference: Listening). */
  get listening(): boolean {
    return this.proxy.listening;
  }
  /** Proxied connections by id, a snapshot (reference: Connections). */
  get connections(): ReadonlyMap<string, ProxySession> {
    return this.proxy.sessions;
  }
  /** Pending-connection queue (reference: ConnectionBacklog). @default 511 */
  get connectionBacklog(): number {
    return this.proxy.server.server.options.backlog ?? 511;
  }
  set connectionBacklog(v: number) {
    this.proxy.server.server.set({ backlog: v });
  }
  /** Serve wss:// (reference: UseSSL); needs {@linkcode sslCert}. @default false */
  get useSSL(): boolean {
    return this.#cfg.tcp._ssl.startMode !== "none";
  }
  set useSSL(v: boolean) {
    this.#cfg.tcp._ssl.startMode = v ? "implicit" : "none";
  }
  /** The server certificate(s) for wss:// (reference: SSLCert). */
  get sslCert(): SslCert | undefined {
    return this.#cfg.tcp._ssl.cert;
  }
  set sslCert(v: SslCert | undefined) {
    this.#cfg.tcp._ssl.cert = v;
  }

  // ---- methods ----

  /** Starts listening (reference: Listening = true). */
  async startListening(): Promise<void> {
    if (!this.proxy.listening) this.proxy.server.set({ tls: tlsOptionsOf(this.#cfg.tcp._ssl) });
    await this.proxy.listen();
  }
  /** Stops accepting; connections stay (reference: Listening = false). */
  stopListening(): Promise<void> {
    this.proxy.stopListening();
    return Promise.resolve();
  }
  /** Closes every WebSocket with 1001 and its target, dropping stragglers after `timeout` ms (reference: Shutdown). */
  shutdown(timeout = 5000): Promise<void> {
    return this.proxy.shutdown({ timeout });
  }
  /** Closes a connection with DisconnectStatusCode/Description, then its target (reference: Disconnect). */
  async disconnect(connectionId: string): Promise<void> {
    const session = this.proxy.get(connectionId);
    if (session === undefined) {
      await attempt(() => this.proxy.server.get(connectionId)); // throws 126 for an unknown id
      return;
    }
    await session.close(this.#cfg.disconnectCode, this.#cfg.disconnectDescription);
  }
  /**
   * `config("Name=Value")` sets, `config("Name")` reads a setting
   * (reference: Config): DefaultForwardHost, DefaultForwardPort,
   * AllowedTargets (`host:port` patterns), the WSServer settings that apply
   * to a proxy (DisconnectStatusCode, MaxFrameSize, WaitForCloseResponse,
   * LogLevel) and the TCP ones (MaxConnections, AllowedClients, ...).
   */
  config(setting: string): Promise<string> {
    return attempt(() => {
      const eq = setting.indexOf("=");
      const name = (eq < 0 ? setting : setting.slice(0, eq)).trim();
      const key = name.toLowerCase();
      if (NOT_FOR_PROXY.has(key.replace(/\[.*$/, ""))) {
        throw new TypeError(
          `Config setting ${name} does not apply to a proxy: data is streamed through unframed`,
        );
      }
      if (eq < 0) {
        if (key === "defaultforwardhost") return this.#forwardHost;
        if (key === "defaultforwardport") return String(this.#forwardPort);
        if (key === "allowedtargets") return this.proxy.allowTargets ?? "";
        return readWsConfig(this.#cfg, setting);
      }
      const value = setting.slice(eq + 1).trim();
      if (key === "defaultforwardhost") this.defaultForwardHost = value;
      else if (key === "defaultforwardport") this.defaultForwardPort = Number(value);
      else if (key === "allowedtargets") this.proxy.allowTargets = value === "" ? undefined : value;
      else applyWsConfig(this.#cfg, name, value);
      return "";
    });
  }
  /** Shuts down, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  #retarget(): void {
    this.proxy.target = this.#forwardHost !== "" && this.#forwardPort > 0
      ? { hostname: this.#forwardHost, port: this.#forwardPort }
      : undefined;
  }

  #log(level: WsLogLevel, message: string, id = "", type: WsLogEvent["logType"] = "Info"): void {
    if (level <= this.#cfg.logLevel) this.dispatchEvent(new WsLogEvent(id, level, message, type));
  }
}
