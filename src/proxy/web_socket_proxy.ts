/**
 * The WebSocket-to-TCP proxy (reference: WebSocketProxy; the role of
 * websockify): a {@linkcode WebSocketServer} whose every WebSocket is
 * joined to a TCP (or TLS) connection to a target. Admission, TLS towards
 * clients, heartbeat, idle timeout and limits are the WebSocket server's
 * (one implementation); this file adds routing and the sessions.
 *
 * @module
 */

import type { NetAddr, RuntimeAdapter, Socket } from "../net/types.ts";
import { getRuntime } from "../runtime/mod.ts";
import { connectTls } from "../runtime/tls_connect.ts";
import type { WebSocketOpenRequest } from "../ws/open_request.ts";
import {
  WebSocketServer,
  type WebSocketServerOptions,
  type WebSocketShutdownOptions,
} from "../ws/ws_server.ts";
import type { WebSocketConnection } from "../ws/ws_connection.ts";
import { PROXY_KEYS, type ProxyRoute, type WebSocketProxyOptions } from "./proxy_options.ts";
import { ProxySession, type SessionHost } from "./proxy_session.ts";
import {
  formatTarget,
  parseTarget,
  type ProxyTarget,
  TargetAllowlist,
  type TargetTlsOptions,
} from "./target.ts";

/**
 * A WebSocket-to-TCP proxy: each client's WebSocket is joined to its own
 * TCP connection to a target; binary and text messages go to the target
 * as bytes, the target's bytes come back as binary messages. The
 * `binary` subprotocol (noVNC, websockify clients) is accepted when
 * offered; `base64` is not (websockify dropped it in 0.9.0).
 *
 * @example A proxy in front of a VNC server
 * ```ts ignore
 * import { serveProxy } from "@netstreams/netstreams/proxy";
 * await using proxy = await serveProxy({ port: 6080, target: "127.0.0.1:5900" });
 * console.log(`ws://127.0.0.1:${proxy.addr.port}/`);
 * ```
 *
 * @example Targets from a token, limited by an allowlist
 * ```ts ignore
 * import { serveProxy } from "@netstreams/netstreams/proxy";
 * const hosts: Record<string, string> = { vm1: "10.0.0.11:5900", vm2: "10.0.0.12:5900" };
 * await serveProxy({
 *   port: 6080,
 *   resolveTarget: (req) => hosts[new URLSearchParams(req.query).get("token") ?? ""],
 *   allowTargets: "10.0.0.0/24:5900",
 *   idleTimeout: 15 * 60_000,
 * });
 * ```
 */
export class WebSocketProxy implements AsyncDisposable {
  /** The WebSocket server underneath (admission, TLS, settings). */
  readonly server: WebSocketServer;
  readonly #sessions = new Map<string, ProxySession>();
  readonly #options: WebSocketProxyOptions;
  readonly #host: SessionHost;
  #target: ProxyTarget | undefined;
  #allow: TargetAllowlist | undefined;
  #connectTimeout: number;
  #runtime: RuntimeAdapter | undefined;

  /** Creates a proxy; call {@linkcode listen}. Throws `TypeError`/`RangeError` for invalid options. */
  constructor(options: WebSocketProxyOptions = {}) {
    this.#options = options;
    this.#target = options.target === undefined ? undefined : parseTarget(options.target);
    this.#allow = options.allowTargets === undefined
      ? undefined
      : new TargetAllowlist(options.allowTargets);
    const timeout = options.connectTimeout ?? 10_000;
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > 2 ** 31 - 1) {
      throw new RangeError(
        `Cannot create the proxy as connectTimeout must be 1-2147483647 milliseconds: current value is ${timeout}`,
      );
    }
    this.#connectTimeout = timeout;
    const pp = options.proxyProtocol;
    if (pp !== undefined && pp !== 1 && pp !== 2) {
      throw new RangeError(
        `Cannot create the proxy as proxyProtocol must be 1 or 2: current value is ${String(pp)}`,
      );
    }
    this.#host = {
      connect: (target) => this.#connect(target),
      proxyProtocol: pp,
      closeTimeout: options.closeTimeout ?? 10_000,
      onConnect: options.onConnect,
      onData: options.onData,
      onDisconnect: options.onDisconnect,
      report: (error, session) => this.#report(error, session),
      log: (level, message, session) => options.onLog?.(level, message, session),
      done: (session) => this.#sessions.delete(session.id),
    };
    this.server = new WebSocketServer(this.#serverOptions(options));
  }

  /** The first bound address; throws when not listening. */
  get addr(): NetAddr {
    return this.server.addr;
  }
  /** Every bound address. */
  get addrs(): NetAddr[] {
    return this.server.addrs;
  }
  /** True while listening. */
  get listening(): boolean {
    return this.server.listening;
  }
  /** Proxied connections by id (open, or closing with one side left): a snapshot. */
  get sessions(): ReadonlyMap<string, ProxySession> {
    return new Map(this.#sessions);
  }
  /**
   * The default target (reference: DefaultForwardHost, DefaultForwardPort);
   * changing it affects new connections. Undefined: none.
   */
  get target(): ProxyTarget | undefined {
    return this.#target === undefined ? undefined : { ...this.#target };
  }
  set target(target: string | ProxyTarget | undefined) {
    this.#target = target === undefined ? undefined : parseTarget(target);
  }
  /** The target allowlist as given, or undefined for none. */
  get allowTargets(): string | undefined {
    return this.#allow?.toString();
  }
  set allowTargets(list: string | string[] | undefined) {
    this.#allow = list === undefined ? undefined : new TargetAllowlist(list);
  }

  /**
   * The DataIn callback (see `WebSocketProxyOptions.onData`); settable so
   * that it costs nothing while nobody listens.
   */
  get onData(): WebSocketProxyOptions["onData"] {
    return this.#host.onData;
  }
  set onData(fn: WebSocketProxyOptions["onData"]) {
    this.#host.onData = fn;
  }

  /** The session with this id, or undefined. */
  get(id: string): ProxySession | undefined {
    return this.#sessions.get(id);
  }

  /** Binds every configured address and loads the runtime's sockets. */
  async listen(): Promise<this> {
    this.#runtime = await getRuntime();
    await this.server.listen();
    return this;
  }

  /** Stops accepting; proxied connections stay. */
  stopListening(): void {
    this.server.stopListening();
  }

  /**
   * Stops listening, closes every WebSocket with 1001 (then its target
   * connection) and waits up to `timeout` ms; whatever is left is dropped.
   */
  async shutdown(options: WebSocketShutdownOptions = {}): Promise<void> {
    const timeout = options.timeout ?? 5000;
    const started = Date.now();
    await this.server.shutdown(options);
    const left = [...this.#sessions.values()];
    if (left.length === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((
      r,
    ) => (timer = setTimeout(r, Math.max(0, timeout - (Date.now() - started)))));
    await Promise.race([Promise.all(left.map((s) => s.done)), late]);
    clearTimeout(timer);
    await Promise.all([...this.#sessions.values()].map((s) => s.abort()));
  }

  /** Same as {@linkcode shutdown} with its defaults, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  #serverOptions(options: WebSocketProxyOptions): WebSocketServerOptions {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(options)) {
      if (!PROXY_KEYS.includes(key)) out[key] = value;
    }
    const server = out as WebSocketServerOptions;
    server.protocols = options.protocols ?? ["binary"];
    server.bufferMessage = false; // bytes stream through: no message is gathered
    // Proxied bytes are often compressed already (VNC, TLS, SSH): deflate only when asked.
    server.perMessageDeflate = options.perMessageDeflate ?? false;
    server.onOpenRequest = (req) => this.#openRequest(req);
    server.onOpen = (ws) => {
      const session = ws.data as ProxySession;
      this.#sessions.set(ws.id, session);
      session._open();
    };
    server.onMessage = (ws, data) => (ws.data as ProxySession)._fromClient(data);
    server.onDrain = (ws) => (ws.data as ProxySession)._clientDrain();
    server.onClose = (ws, info) => (ws.data as ProxySession)._clientClosed(info);
    server.onError = (error, ws) => this.#report(error, this.#sessionOf(ws));
    server.onLog = (level, message, ws) => options.onLog?.(level, message, this.#sessionOf(ws));
    return server;
  }

  #sessionOf(ws: WebSocketConnection | undefined): ProxySession | undefined {
    const s = ws?.data;
    return s instanceof ProxySession ? s : undefined;
  }

  /** Routing: default target, resolver, hook, allowlist; refusals answer 404 or 403. */
  async #openRequest(req: WebSocketOpenRequest): Promise<void> {
    let target = this.#target;
    const resolve = this.#options.resolveTarget;
    if (resolve !== undefined) {
      const resolved = await resolve(req);
      if (req.status !== 101) return;
      if (resolved !== undefined && resolved !== null) target = parseTarget(resolved);
    }
    const route: ProxyRoute = target === undefined
      ? { hostname: "", port: 0 }
      : { hostname: target.hostname, port: target.port };
    if (target?.tls !== undefined) route.tls = target.tls;
    const hook = this.#options.onOpenRequest;
    if (hook !== undefined) await hook(req, route);
    if (req.status !== 101) return;
    const log = this.#options.onLog;
    if (route.hostname === "" || route.port === 0) {
      log?.(1, `refused ${req.url}: no target for this request`);
      req.reject(404, { body: "No target for this request\n" });
      return;
    }
    const chosen = parseTarget(route);
    if (this.#allow !== undefined && !this.#allow.allows(chosen)) {
      log?.(1, `refused ${req.url}: target ${formatTarget(chosen)} is not in the allowlist`);
      req.reject(403, { body: "Target not allowed\n" });
      return;
    }
    req.connection.data = new ProxySession(req.connection, chosen, this.#host);
  }

  #connect(target: ProxyTarget): Promise<Socket> {
    const tls: boolean | TargetTlsOptions | undefined = target.tls ?? this.#options.targetTls;
    const base = { hostname: target.hostname, port: target.port, timeout: this.#connectTimeout };
    if (tls === undefined || tls === false) return this.#runtime!.connect(base);
    return connectTls(tls === true ? base : { ...tls, ...base });
  }

  #report(error: unknown, session?: ProxySession): void {
    const err = error instanceof Error ? error : new Error(String(error));
    const onError = this.#options.onError;
    if (onError !== undefined) {
      try {
        onError(err, session);
        return;
      } catch {
        // fall through: an error handler must not kill the proxy
      }
    }
    console.error(`netstreams proxy: ${session ? `${session.id}: ` : ""}${err.message}`);
  }
}

/**
 * Creates a {@linkcode WebSocketProxy} and starts listening.
 *
 * @example A proxy on port 6080 to a local service
 * ```ts ignore
 * import { serveProxy } from "@netstreams/netstreams/proxy";
 * const proxy = await serveProxy({ hostname: "127.0.0.1", port: 6080, target: "127.0.0.1:5900" });
 * // later
 * await proxy.shutdown();
 * ```
 */
export function serveProxy(options: WebSocketProxyOptions = {}): Promise<WebSocketProxy> {
  return new WebSocketProxy(options).listen();
}
