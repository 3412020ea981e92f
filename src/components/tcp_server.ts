/**
 * `TcpServer` (also exported as `IPDaemon`): the reference documents' event
 * model over the streams {@linkcode Server}. A thin layer: every behaviour
 * lives in `src/net/`.
 *
 * @module
 */

import { Server, type ServerOptions } from "../net/server.ts";
import type { Connection } from "../net/connection.ts";
import { codeOf, statusOf } from "../net/errors.ts";
import { applyConfig, readConfig } from "./_tcp_config.ts";
import {
  defaultSslConfig,
  type SslCert,
  type SslSettings,
  type SslStartMode,
  tlsOptionsOf,
} from "./_tls_config.ts";
import { SSLClientAuthenticationEvent, SSLStatusEvent } from "./tls_events.ts";
import {
  ConnectionRequestEvent,
  ConnectionStatusEvent,
  DataInEvent,
  ErrorEvent,
  ReadyToSendEvent,
  type TcpServerEventMap,
} from "./tcp_events.ts";

export * from "./tcp_events.ts";

/**
 * An event-driven TCP server with the IPWorks TCPServer / IPDaemon model.
 *
 * @example A line echo with events
 * ```ts ignore
 * import { TcpServer } from "./tcp_server.ts";
 * const server = new TcpServer({ localPort: 0, defaultSingleLineMode: true });
 * server.on("DataIn", (e) => server.sendLine(e.connectionId, e.text));
 * await server.startListening();
 * console.log(server.localPort);
 * await server.shutdown();
 * ```
 */
export class TcpServer extends EventTarget implements AsyncDisposable {
  /** The streams server underneath; use it for anything the event model lacks. */
  readonly server: Server;
  /** @internal */
  _decoder: TextDecoder = new TextDecoder();
  /** @internal */
  _defaultTimeout = 0;
  /** @internal TLS properties and config settings. */
  _ssl: SslSettings = defaultSslConfig();
  /** @internal KeepAliveTime in milliseconds while KeepAlive is off (0 = the system's). */
  _keepAliveTime = 0;
  /** @internal The IPv4 LocalHost that UseIPv6 1 or 2 replaced, and what replaced it. */
  _ipv4Host: { v4: string | undefined; v6: string } | undefined;

  /** Creates the component; `init` sets properties by their reference names. */
  constructor(init: Partial<TcpServerProperties> = {}) {
    super();
    this.server = new Server(this.#hooks());
    Object.assign(this, init);
  }

  /** Adds a listener by event name (like the reference `on`). Returns this. */
  on<K extends keyof TcpServerEventMap>(
    type: K,
    listener: (e: TcpServerEventMap[K]) => void,
  ): this {
    this.addEventListener(type, listener as EventListener);
    return this;
  }

  // ---- properties ----

  /** Address to listen on (reference: LocalHost). @default "0.0.0.0" */
  get localHost(): string {
    return this.server.listening
      ? this.server.addr.hostname
      : this.server.options.hostname ?? "0.0.0.0";
  }
  set localHost(v: string) {
    this.server.set({ hostname: v });
  }
  /** Port to listen on; 0 = any, then the bound port (reference: LocalPort). @default 0 */
  get localPort(): number {
    return this.server.listening ? this.server.addr.port : this.server.options.port ?? 0;
  }
  set localPort(v: number) {
    this.server.set({ port: v });
  }
  /** True while listening (reference: Listening). */
  get listening(): boolean {
    return this.server.listening;
  }
  /** Live connections by id (reference: Connections). */
  get connections(): ReadonlyMap<string, Connection> {
    return this.server.connections;
  }
  /** Pending-connection queue (reference: ConnectionBacklog). @default 511 */
  get connectionBacklog(): number {
    return this.server.options.backlog ?? 511;
  }
  set connectionBacklog(v: number) {
    this.server.set({ backlog: v });
  }
  /** EOL for new connections; "" = data as it arrives (reference: DefaultEOL). @default "" */
  get defaultEOL(): string {
    return new TextDecoder().decode(this.server.framing.eol);
  }
  set defaultEOL(v: string | Uint8Array) {
    this.server.set({ eol: v });
  }
  /** Idle timeout in seconds for new connections, 0 = none (reference: DefaultIdleTimeout). @default 0 */
  get defaultIdleTimeout(): number {
    return (this.server.options.idleTimeout ?? 0) / 1000;
  }
  set defaultIdleTimeout(seconds: number) {
    this.server.set({ idleTimeout: seconds * 1000 });
  }
  /** Longest line in bytes, >= 256 (reference: DefaultMaxLineLength). @default 2048 */
  get defaultMaxLineLength(): number {
    return this.server.framing.maxLineLength;
  }
  set defaultMaxLineLength(v: number) {
    this.server.set({ maxLineLength: v });
  }
  /** Lines end at CRLF, CR or LF (reference: DefaultSingleLineMode). @default false */
  get defaultSingleLineMode(): boolean {
    return this.server.framing.singleLineMode;
  }
  set defaultSingleLineMode(v: boolean) {
    this.server.set({ singleLineMode: v });
  }
  /** Send timeout in seconds; 0 = sends never wait and fail with 135 when the queue is full (reference: DefaultTimeout). @default 0 */
  get defaultTimeout(): number {
    return this._defaultTimeout;
  }
  set defaultTimeout(seconds: number) {
    this.server.set({ writeTimeout: seconds * 1000 });
    this._defaultTimeout = seconds;
  }
  /**
   * SO_KEEPALIVE on new connections, probing after the config setting
   * KeepAliveTime (reference: KeepAlive). On Deno, with a KeepAliveTime, set
   * it before startListening (the server then accepts through `node:net`,
   * which can set the time); turned on while listening on Deno's native
   * sockets it throws `NotSupportedError`. @default false
   */
  get keepAlive(): boolean {
    return Boolean(this.server.options.keepAlive);
  }
  set keepAlive(v: boolean) {
    const t = this.server.options.keepAlive;
    const ms = typeof t === "number" ? t : this._keepAliveTime;
    this.server.set({ keepAlive: v ? (ms > 0 ? ms : true) : false });
    this._keepAliveTime = ms;
  }
  /**
   * Graceful (true) or resetting (false) Disconnect and Shutdown, for
   * connections accepted afterwards (reference: Linger). On Deno set false
   * before startListening (the server then accepts through `node:net`, which
   * can send RST); set false while listening on Deno's native sockets it
   * throws `NotSupportedError`. @default true
   */
  get linger(): boolean {
    return this.server.options.linger ?? true;
  }
  set linger(v: boolean) {
    this.server.set({ linger: v });
  }

  /** TLS on (reference: SSLEnabled); turning it on selects implicit mode unless explicit was chosen. @default false */
  get sslEnabled(): boolean {
    return this._ssl.startMode !== "none";
  }
  set sslEnabled(v: boolean) {
    if (v !== this.sslEnabled) this._ssl.startMode = v ? "implicit" : "none";
  }
  /** When TLS starts: implicit, explicit (startSSL) or none (reference: SSLStartMode). @default "none" */
  get sslStartMode(): SslStartMode {
    return this._ssl.startMode;
  }
  set sslStartMode(v: SslStartMode) {
    if (v !== "implicit" && v !== "explicit" && v !== "none") {
      throw new TypeError(
        `Cannot set sslStartMode as it must be "implicit", "explicit" or "none": current value is ${
          String(v)
        }`,
      );
    }
    this._ssl.startMode = v;
  }
  /** The server certificate(s): cert/key, pfx/passphrase, hosts by SNI name, or a CertificateStore (reference: SSLCert, IcsHosts). */
  get sslCert(): SslCert | undefined {
    return this._ssl.cert;
  }
  set sslCert(v: SslCert | undefined) {
    this._ssl.cert = v;
  }
  /** Ask clients for a certificate and judge it in SSLClientAuthentication (reference: SSLAuthenticateClients). @default false */
  get sslAuthenticateClients(): boolean {
    return this._ssl.authenticateClients;
  }
  set sslAuthenticateClients(v: boolean) {
    this._ssl.authenticateClients = v;
  }

  // ---- methods ----

  /** Starts listening (reference: StartListening); 104 when already listening. Certificates are checked here. */
  async startListening(): Promise<void> {
    if (!this.server.listening) this.server.set({ tls: tlsOptionsOf(this._ssl) });
    await this.server.listen();
  }
  /**
   * Starts TLS on a plaintext connection, this side acting as the TLS
   * server (reference: StartSSL); Connected fires again when it is done.
   * Call it from DataIn in the same turn as the reply that lets the client
   * go ahead (`void sendLine(id, "220 ..."); await startSSL(id)`): after an
   * await in between, the ClientHello could arrive as plaintext DataIn.
   * Rejects with a `TlsError` when it fails (the connection is closed).
   */
  async startSSL(connectionId: string): Promise<void> {
    await this.server.get(connectionId).startTls();
  }
  /** Stops accepting; connections stay (reference: StopListening). */
  stopListening(): Promise<void> {
    return settle(() => this.server.stopListening());
  }
  /**
   * Stops listening and disconnects every connection as `linger` says:
   * gracefully, resetting stragglers after `timeout` ms, or at once (reference: Shutdown).
   */
  shutdown(timeout = 5000): Promise<void> {
    return this.server.shutdown({ timeout });
  }
  /** Disconnects every client, stops listening and restores default properties (reference: Reset). */
  async reset(): Promise<void> {
    await this.server.shutdown({ timeout: 1000 });
    this.server.set(DEFAULTS);
    this._ssl = defaultSslConfig();
    this._decoder = new TextDecoder();
    this._defaultTimeout = 0;
    this._keepAliveTime = 0;
    this._ipv4Host = undefined;
  }
  /** Sends bytes (reference: Send); with defaultTimeout 0 a full queue throws 135 (would block). */
  async send(connectionId: string, data: Uint8Array): Promise<void> {
    const conn = this.server.get(connectionId);
    if (this._defaultTimeout > 0) return await conn.send(data);
    conn.write(data);
  }
  /** Same as {@linkcode TcpServer.send} (reference: SendBytes). */
  sendBytes(connectionId: string, data: Uint8Array): Promise<void> {
    return this.send(connectionId, data);
  }
  /** Sends text as UTF-8 (reference: SendText). */
  sendText(connectionId: string, text: string): Promise<void> {
    return this.send(connectionId, encoder.encode(text));
  }
  /** Sends text followed by CRLF (reference: SendLine). */
  sendLine(connectionId: string, text: string): Promise<void> {
    return this.send(connectionId, encoder.encode(text + "\r\n"));
  }
  /** Streams a file; {@linkcode TcpServer.interrupt} stops it without disconnecting (reference: SendFile). */
  async sendFile(connectionId: string, fileName: string): Promise<void> {
    const conn = this.server.get(connectionId);
    const ctl = new AbortController();
    this.#files.set(connectionId, ctl);
    try {
      await conn.sendFile(fileName, { signal: ctl.signal });
    } finally {
      if (this.#files.get(connectionId) === ctl) this.#files.delete(connectionId);
    }
  }
  /** Stops a file being sent, keeping the connection (reference: Interrupt). */
  interrupt(connectionId: string): Promise<void> {
    return settle(() => {
      this.server.get(connectionId);
      this.#files.get(connectionId)?.abort(new DOMException("Interrupted", "AbortError"));
    });
  }
  /** Closes one connection, as `linger` said when it was accepted (reference: Disconnect). */
  async disconnect(connectionId: string): Promise<void> {
    await this.server.get(connectionId).disconnect();
  }
  /** Stops DataIn for a connection and stops reading it (reference: PauseData). */
  pauseData(connectionId: string): Promise<void> {
    return settle(() => this.server.get(connectionId).pause());
  }
  /** Resumes DataIn after pauseData (reference: ProcessData). */
  processData(connectionId: string): Promise<void> {
    return settle(() => this.server.get(connectionId).resume());
  }
  /** Sets the record length of a connection, also from inside DataIn (reference: ChangeRecordLength). */
  changeRecordLength(connectionId: string, recordLength: number): Promise<void> {
    return settle(() => void (this.server.get(connectionId).recordLength = recordLength));
  }
  /** `config("Name=Value")` sets, `config("Name")` reads a setting (reference: Config). */
  config(setting: string): Promise<string> {
    return settle(() => {
      const eq = setting.indexOf("=");
      if (eq < 0) return readConfig(this, setting.trim());
      applyConfig(this, setting.slice(0, eq).trim(), setting.slice(eq + 1).trim());
      return "";
    });
  }
  /** Shuts down, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  #files = new Map<string, AbortController>();
  #connected = new WeakSet<Connection>();

  #hooks(): ServerOptions {
    return {
      onConnectionRequest: (r) => {
        const ev = new ConnectionRequestEvent(r.remoteAddr.hostname, r.remoteAddr.port, r.accept);
        this.dispatchEvent(ev);
        return ev.accept;
      },
      onConnection: (conn) => {
        this.#connected.add(conn);
        this.dispatchEvent(new ConnectionStatusEvent("Connected", conn.id, 0, "OK"));
        this.dispatchEvent(new ReadyToSendEvent(conn.id));
      },
      onSecure: (conn) => {
        // After startSSL the reference fires Connected again; implicit TLS fires it once, after the handshake.
        if (this.#connected.has(conn)) {
          this.dispatchEvent(new ConnectionStatusEvent("Connected", conn.id, 0, "OK"));
        }
      },
      onClientCertificate: (conn, request) => {
        const ev = new SSLClientAuthenticationEvent(conn.id, request);
        this.dispatchEvent(ev);
        return ev.accept;
      },
      onTlsStatus: (message, conn) =>
        this.dispatchEvent(new SSLStatusEvent(conn?.id ?? "", message)),
      onData: (conn, bytes, eol) => {
        this.dispatchEvent(new DataInEvent(conn.id, bytes.slice(), eol, this._decoder));
      },
      onDrain: (conn) => this.dispatchEvent(new ReadyToSendEvent(conn.id)),
      onDisconnect: (conn, info) => {
        this.#files.get(conn.id)?.abort();
        this.#files.delete(conn.id);
        if (info.error) this.#error(info.error, conn);
        this.dispatchEvent(
          new ConnectionStatusEvent("Disconnected", conn.id, info.code, info.reason),
        );
      },
      onError: (error, conn) => this.#error(error, conn),
    };
  }

  #error(error: Error, conn?: Connection): void {
    const c = (error as { code?: unknown }).code;
    const code = typeof c === "number" ? c : statusOf(codeOf(error));
    this.dispatchEvent(new ErrorEvent(conn?.id ?? "", code, error));
  }
}

/** The properties settable through the constructor. */
export interface TcpServerProperties {
  /** See {@linkcode TcpServer.localHost}. */
  localHost: string;
  /** See {@linkcode TcpServer.localPort}. */
  localPort: number;
  /** See {@linkcode TcpServer.connectionBacklog}. */
  connectionBacklog: number;
  /** See {@linkcode TcpServer.defaultEOL}. */
  defaultEOL: string | Uint8Array;
  /** See {@linkcode TcpServer.defaultIdleTimeout}. */
  defaultIdleTimeout: number;
  /** See {@linkcode TcpServer.defaultMaxLineLength}. */
  defaultMaxLineLength: number;
  /** See {@linkcode TcpServer.defaultSingleLineMode}. */
  defaultSingleLineMode: boolean;
  /** See {@linkcode TcpServer.defaultTimeout}. */
  defaultTimeout: number;
  /** See {@linkcode TcpServer.keepAlive}. */
  keepAlive: boolean;
  /** See {@linkcode TcpServer.linger}. */
  linger: boolean;
  /** See {@linkcode TcpServer.sslEnabled}. */
  sslEnabled: boolean;
  /** See {@linkcode TcpServer.sslStartMode}. */
  sslStartMode: SslStartMode;
  /** See {@linkcode TcpServer.sslCert}. */
  sslCert: SslCert | undefined;
  /** See {@linkcode TcpServer.sslAuthenticateClients}. */
  sslAuthenticateClients: boolean;
}

const DEFAULTS: Partial<ServerOptions> = {
  hostname: undefined,
  port: 0,
  backlog: undefined,
  eol: "",
  singleLineMode: false,
  maxLineLength: 2048,
  recordLength: 0,
  idleTimeout: 0,
  writeTimeout: 0,
  keepAlive: false,
  linger: true,
  maxConnections: 1000,
  allow: undefined,
  block: undefined,
  noDelay: true,
  ipv6Only: false,
  reusePort: false,
  readHighWaterMark: undefined,
  writeHighWaterMark: undefined,
  tls: undefined,
};

/** The same component under its IPWorks IPDaemon name. */
export const IPDaemon: typeof TcpServer = TcpServer;
/** The same component under its IPWorks IPDaemon name. */
export type IPDaemon = TcpServer;

const encoder = new TextEncoder();

/** Runs `f` now; what it throws becomes a rejection, as with the reference's async methods. */
function settle<T>(f: () => T): Promise<T> {
  try {
    return Promise.resolve(f());
  } catch (error) {
    return Promise.reject(error);
  }
}
