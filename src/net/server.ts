/**
 * The TCP server: listeners, admission (lists, hook, limits, banners), the
 * connection registry, timeouts and shutdown. Connections are driven on the
 * hot path with plain calls; streams are built only when asked for.
 *
 * @module
 */

import { getRuntime, NotSupportedError, runtimeName } from "../runtime/mod.ts";
import type { Listener, NetAddr, RuntimeAdapter, Socket } from "./types.ts";
import { type CloseInfo, Connection, type ConnectionHost, type Timeouts } from "./connection.ts";
import { type Framing, resolveFraming } from "./framing.ts";
import {
  ConnectionError,
  ErrorCode,
  ListenError,
  type ListenFailure,
  ServerError,
} from "./errors.ts";
import { sharedPort } from "./_shared_port.ts";
import { IpFilter } from "./ip_filter.ts";
import {
  checkServerOptions,
  denoNativeGap,
  type ListenAddress,
  resolveEngine,
  type ServerOptions,
} from "./server_options.ts";
import { Sweeper } from "./_sweeper.ts";
import { type ResolvedTls, resolveTls } from "../tls/tls_options.ts";
import type { CertificateStore } from "../tls/certificate_store.ts";
import { tlsStatus, upgradeConnection } from "./_tls_host.ts";

export type { ConnectionRequest, ListenAddress, ServerOptions } from "./server_options.ts";

/** Options of {@linkcode Server.shutdown}. */
export interface ShutdownOptions {
  /** Milliseconds to wait for graceful closes before resetting the rest. @default 5000 */
  timeout?: number;
}

const encoder = new TextEncoder();
const IGNORE = { data() {}, end() {}, drain() {}, close() {} };

/**
 * A TCP server with the reference documents' connection management.
 *
 * @example An echo server on a free port
 * ```ts ignore
 * import { serve } from "./server.ts";
 * await using server = await serve({ port: 0, onData: (conn, bytes) => conn.write(bytes.slice()) });
 * console.log(`listening on ${server.addr.port}`);
 * ```
 */
export class Server implements AsyncDisposable {
  #options: ServerOptions;
  #runtime: RuntimeAdapter | undefined;
  #engine: "native" | "node" | undefined;
  /** Listening on Deno's native sockets, which cannot reset nor set a keep-alive time. */
  #denoNative = false;
  #listeners: Listener[] = [];
  #connections = new Map<string, Connection>();
  #nextId = 1;
  #allow: IpFilter | undefined;
  #block: IpFilter | undefined;
  #framing: Framing;
  #host: ConnectionHost;
  #sweeper: Sweeper;
  #stopping = false;
  #banner: Uint8Array | undefined;
  #tooBusy: Uint8Array | undefined;
  #tls: ResolvedTls | undefined;
  /** The timeouts new connections start with (one object shared by them). */
  #timeouts: Timeouts = { idle: 0, write: 0 };

  /** Creates a server; call {@linkcode Server.listen} to start. Throws on invalid options. */
  constructor(options: ServerOptions = {}) {
    checkServerOptions(options);
    this.#options = { ...options };
    this.#framing = resolveFraming(options);
    this.#sweeper = new Sweeper(this.#connections);
    this.#host = this.#makeHost();
    this.#applyDerived();
    options.signal?.addEventListener("abort", () => void this.shutdown(), { once: true });
  }

  /** The first bound address. Throws when not listening. */
  get addr(): NetAddr {
    const l = this.#listeners[0];
    if (!l) {
      throw new TypeError("Cannot read addr as the server is not listening: call listen() first");
    }
    return l.addr;
  }
  /** Every bound address. */
  get addrs(): NetAddr[] {
    return this.#listeners.map((l) => l.addr);
  }
  /** True while listening (reference: Listening). */
  get listening(): boolean {
    return this.#listeners.length > 0;
  }
  /** Live connections by id (reference: Connections). */
  get connections(): ReadonlyMap<string, Connection> {
    return this.#connections;
  }
  /** The options in force. */
  get options(): Readonly<ServerOptions> {
    return this.#options;
  }
  /**
   * The TLS certificates in use, once listening with `tls`: call
   * `reload()` on it to pick up renewed files without a restart.
   */
  get certificates(): CertificateStore | undefined {
    return this.#tls?.store;
  }
  /**
   * The socket engine of the last `listen()`, undefined before it: what
   * {@linkcode ServerOptions.engine} says, or what was chosen when unset.
   */
  get engine(): "native" | "node" | undefined {
    return this.#engine;
  }
  /** Default framing applied to new connections. */
  get framing(): Readonly<Framing> {
    return this.#framing;
  }

  /** The connection with this id; throws {@linkcode ServerError} 126 when there is none. */
  get(id: string): Connection {
    const c = this.#connections.get(id);
    if (!c) throw new ServerError(ErrorCode.InvalidConnectionId, `No connection has id "${id}"`);
    return c;
  }

  /**
   * Changes options. Listening addresses and `maxConnections` cannot change
   * while listening (codes 106, 107, 108), nor can `tls` and `engine`
   * (TypeError); other settings apply to new connections. On Deno, while
   * listening on the native engine, a numeric `keepAlive` or `linger: false`
   * throws `NotSupportedError` (native sockets cannot do them): set them
   * before `listen()`, or `stopListening()` and `listen()` again.
   */
  set(options: Partial<ServerOptions>): void {
    if (this.listening) {
      if ("port" in options && options.port !== this.#options.port) {
        throw new ServerError(
          ErrorCode.PortWhileListening,
          "Cannot change port while listening: call stopListening() first",
        );
      }
      if (
        ("hostname" in options && options.hostname !== this.#options.hostname) ||
        "listen" in options
      ) {
        throw new ServerError(
          ErrorCode.HostWhileListening,
          "Cannot change hostname while listening: call stopListening() first",
        );
      }
      if ("tls" in options && options.tls !== this.#options.tls) {
        throw new TypeError(
          "Cannot change tls while listening: call stopListening() first (renewed certificates load with server.certificates.reload())",
        );
      }
      if ("engine" in options && options.engine !== this.#options.engine) {
        throw new TypeError("Cannot change engine while listening: call stopListening() first");
      }
      if ("maxConnections" in options && options.maxConnections !== this.#options.maxConnections) {
        throw new ServerError(
          ErrorCode.MaxConnectionsWhileListening,
          "Cannot change maxConnections while listening: call stopListening() first",
        );
      }
    }
    const next = { ...this.#options, ...options };
    checkServerOptions(next);
    if (this.listening && this.#denoNative) {
      const gap = denoNativeGap({ ...next, reusePort: false });
      if (gap !== undefined) {
        throw new NotSupportedError(
          "deno",
          gap.option,
          `Cannot set ${gap.option} while listening on Deno's native engine as ${gap.message}: ` +
            `call stopListening() and listen() again (engine "node" is then chosen), or listen with engine "node"`,
        );
      }
    }
    this.#framing = resolveFraming(options, this.#framing);
    this.#options = next;
    this.#applyDerived();
    this.#host = this.#makeHost();
  }

  /** Binds every configured address; on any failure none stays bound and a {@linkcode ListenError} lists them all. */
  async listen(): Promise<this> {
    if (this.listening) {
      throw new ServerError(ErrorCode.AlreadyListening, "The server is already listening");
    }
    this.#stopping = false;
    const o = this.#options;
    const runtime = runtimeName();
    const engine = resolveEngine(o, runtime);
    this.#runtime = await getRuntime({ engine });
    this.#engine = engine;
    // reusePort listeners are served by Deno's node:net (src/runtime/deno.ts).
    this.#denoNative = engine === "native" && runtime === "deno" && !o.reusePort;
    const rt = this.#runtime;
    this.#tls = o.tls ? await resolveTls(o.tls, rt) : undefined;
    this.#host = this.#makeHost(); // startTls exists only with TLS
    for (const h of this.#tls?.store.hosts() ?? []) {
      const c = h.certificate;
      if (c && h.expired) {
        tlsStatus(o, `certificate ${c.subject} expired on ${c.validTo.toISOString()}`);
      }
    }
    const addresses = o.listen ?? [{ hostname: o.hostname, port: o.port }];
    const onSocket = (s: Socket) => this.#accept(s);
    const bind = (a: ListenAddress, port: number) =>
      rt.listen({
        hostname: a.hostname ?? "0.0.0.0",
        port,
        backlog: o.backlog,
        reusePort: o.reusePort,
        ipv6Only: o.ipv6Only,
      }, onSocket);
    const results = await sharedPort(addresses, bind) ??
      await Promise.allSettled(addresses.map((a) => bind(a, a.port ?? 0)));
    const failures: ListenFailure[] = [];
    const bound: Listener[] = [];
    results.forEach((r, i) => {
      if (r.status === "fulfilled") bound.push(r.value);
      else {
        const a = addresses[i]!;
        const err = r.reason instanceof Error ? r.reason : new Error(String(r.reason));
        failures.push({ address: `${a.hostname ?? "0.0.0.0"}:${a.port ?? 0}`, error: err });
      }
    });
    if (failures.length > 0) {
      for (const l of bound) l.close();
      throw new ListenError(failures);
    }
    this.#listeners = bound;
    return this;
  }

  /** Stops accepting; live connections stay (reference: StopListening). */
  stopListening(): void {
    const ls = this.#listeners;
    this.#listeners = [];
    for (const l of ls) l.close();
  }

  /**
   * Stops listening and disconnects every connection as its `linger` says
   * (reference: Shutdown = StopListening, then Disconnect each): gracefully,
   * resetting those still open after `timeout` milliseconds (their close is
   * reported with an `ETIMEDOUT` error, status 10060), or at once with RST
   * when `linger` is false.
   */
  async shutdown(options: ShutdownOptions = {}): Promise<void> {
    const timeout = options.timeout ?? 5000;
    this.#stopping = true;
    this.stopListening();
    const conns = [...this.#connections.values()];
    if (conns.length === 0) return;
    const all = Promise.all(conns.map((c) => c.disconnect()));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), timeout)));
    const result = await Promise.race([all, late]);
    clearTimeout(timer);
    if (result === "late") {
      await Promise.all(
        [...this.#connections.values()].map((c) =>
          c.abort(
            new ConnectionError(
              "ETIMEDOUT",
              `Connection ${c.id} did not close within ${timeout} ms of shutdown`,
            ),
          )
        ),
      );
    }
  }

  /** Same as {@linkcode Server.shutdown} with its defaults, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  #applyDerived(): void {
    const o = this.#options;
    this.#allow = o.allow === undefined ? undefined : new IpFilter(o.allow);
    if (this.#allow?.empty) this.#allow = undefined;
    this.#block = o.block === undefined ? undefined : new IpFilter(o.block);
    this.#banner = bannerBytes(o.banner);
    this.#tooBusy = bannerBytes(o.tooBusyBanner);
    this.#sweeper.want(o.idleTimeout ?? 0);
    this.#sweeper.want(o.writeTimeout ?? 0);
    this.#timeouts = { idle: o.idleTimeout ?? 0, write: o.writeTimeout ?? 0 };
  }

  #makeHost(): ConnectionHost {
    const o = this.#options;
    return {
      onData: o.onData,
      onDrain: o.onDrain,
      onEnd: o.onEnd,
      allowHalfOpen: o.allowHalfOpen ?? false,
      linger: o.linger ?? true,
      writeHighWaterMark: o.writeHighWaterMark ?? 65536,
      maxWriteBuffer: o.maxWriteBuffer ?? 8 * 1024 * 1024,
      readHighWaterMark: o.readHighWaterMark ?? 65536,
      closeTimeout: o.closeTimeout ?? 10_000,
      openFile: (path) => this.#runtime!.openFile(path),
      closed: (conn, info) => this.#closed(conn, info),
      report: (error, conn) => this.#report(error, conn),
      timeoutChanged: (ms) => this.#sweeper.want(ms),
      startTls: this.#tls === undefined ? undefined : (conn, socket, so) =>
        upgradeConnection(
          {
            runtime: this.#runtime,
            tls: this.#tls,
            options: this.#options,
            report: (e, c) => this.#report(e, c),
          },
          conn,
          socket,
          so,
        ),
      secured: (conn) => {
        try {
          this.#options.onSecure?.(conn);
        } catch (error) {
          this.#report(error, conn);
        }
      },
    };
  }

  #accept(socket: Socket): void {
    if (this.#stopping) {
      socket.start(IGNORE);
      socket.abort();
      return;
    }
    let accept = true;
    if (this.#allow !== undefined || this.#block !== undefined) {
      const remote = socket.remoteAddr.hostname;
      if (this.#allow && !this.#allow.matches(remote)) accept = false;
      if (this.#block?.matches(remote)) accept = false;
    }
    const hook = this.#options.onConnectionRequest;
    if (!hook) return this.#admit(socket, accept);
    let verdict: boolean | void | Promise<boolean | void>;
    try {
      verdict = hook({ remoteAddr: socket.remoteAddr, localAddr: socket.localAddr, accept });
    } catch (error) {
      this.#report(error);
      return this.#admit(socket, false);
    }
    if (verdict instanceof Promise) {
      // The socket is not started yet: nothing is read until the hook decides.
      verdict.then(
        (v) => this.#admit(socket, v === undefined ? accept : v === true),
        (error) => {
          this.#report(error);
          this.#admit(socket, false);
        },
      );
    } else this.#admit(socket, verdict === undefined ? accept : verdict === true);
  }

  #admit(socket: Socket, accept: boolean): void {
    if (!accept || this.#stopping) {
      socket.start(IGNORE);
      socket.close();
      return;
    }
    const o = this.#options;
    if (this.#connections.size >= (o.maxConnections ?? 1000)) {
      socket.start(IGNORE);
      if (this.#tooBusy) socket.write(this.#tooBusy);
      socket.close();
      return;
    }
    const id = String(this.#nextId++);
    const conn = new Connection(id, socket, this.#host, this.#framing, this.#timeouts);
    this.#connections.set(id, conn);
    this.#sweeper.start();
    socket.setNoDelay(o.noDelay ?? true);
    if (o.keepAlive) {
      socket.setKeepAlive(true, typeof o.keepAlive === "number" ? o.keepAlive : undefined);
    }
    if (this.#tls?.mode === "implicit") {
      // The handshake comes first; the banner and onConnection follow it.
      conn.startTls().then(() => this.#open(conn), () => {});
      return;
    }
    this.#open(conn, socket);
  }

  #open(conn: Connection, plain?: Socket): void {
    const o = this.#options;
    if (this.#banner) (plain ?? conn).write(this.#banner);
    conn._start();
    if (!o.onData) conn._awaitConsumer();
    const onConnection = o.onConnection;
    if (!onConnection) return;
    try {
      const r = onConnection(conn);
      if (r instanceof Promise) {
        r.catch((error) => {
          this.#report(error, conn);
          conn.close();
        });
      }
    } catch (error) {
      this.#report(error, conn);
      conn.close();
    }
  }

  #closed(conn: Connection, info: CloseInfo): void {
    this.#connections.delete(conn.id);
    if (this.#connections.size === 0) this.#sweeper.stop();
    try {
      this.#options.onDisconnect?.(conn, info);
    } catch (error) {
      this.#report(error, conn);
    }
  }

  #report(error: unknown, conn?: Connection): void {
    const err = error instanceof Error ? error : new Error(String(error));
    const onError = this.#options.onError;
    if (onError) {
      try {
        onError(err, conn);
        return;
      } catch {
        // fall through to the console: an error handler must not kill the server
      }
    }
    console.error(
      `netstreams: ${conn ? `connection ${conn.id}: ` : ""}${err.stack ?? err.message}`,
    );
  }
}

/**
 * Creates a {@linkcode Server} and starts listening.
 *
 * @example Line echo
 * ```ts ignore
 * import { serve } from "./server.ts";
 * const server = await serve({
 *   port: 0,
 *   singleLineMode: true,
 *   onData(conn, line) { conn.write(line.slice()); conn.write(new TextEncoder().encode("\r\n")); },
 * });
 * await server.shutdown();
 * ```
 */
export function serve(options: ServerOptions = {}): Promise<Server> {
  return new Server(options).listen();
}

function bannerBytes(b: string | Uint8Array | undefined): Uint8Array | undefined {
  if (b === undefined || b === "") return undefined;
  return typeof b === "string" ? encoder.encode(b + "\r\n") : b;
}
