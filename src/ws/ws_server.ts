/**
 * The WebSocket server: a TCP {@linkcode Server} whose connections each
 * carry a {@linkcode WebSocketConnection}. Ids, limits, allow/block lists,
 * TLS and shutdown come from the TCP server (one implementation); this
 * file adds the handshake, the sessions and the 1001 shutdown.
 *
 * @module
 */

import { Server } from "../net/server.ts";
import type { ServerOptions } from "../net/server_options.ts";
import type { Connection } from "../net/connection.ts";
import { ErrorCode, ServerError } from "../net/errors.ts";
import type { NetAddr } from "../net/types.ts";
import { getRuntime } from "../runtime/mod.ts";
import { buildErrorResponse } from "./handshake_response.ts";
import {
  type ResolvedWsSettings,
  resolveWsSettings,
  type WebSocketServerOptions,
  type WebSocketSettings,
  WS_SETTING_KEYS,
} from "./ws_server_options.ts";
import type { WebSocketHandlers, WsHost } from "./_ws_host.ts";
import { HandshakeStage } from "./_ws_handshake.ts";
import { feedFrames, tcpClosed } from "./_ws_receive.ts";
import { WsSweeper } from "./_ws_sweeper.ts";
import { CLOSED, CONNECTING, OPEN } from "./_ws_state.ts";
import { WebSocketConnection } from "./ws_connection.ts";

export type {
  NotForWebSocket,
  ResolvedWsSettings,
  WebSocketServerOptions,
  WebSocketSettings,
} from "./ws_server_options.ts";
export type { HttpRequestInfo, WebSocketHandlers, WebSocketLogLevel } from "./_ws_host.ts";

/** Options of {@linkcode WebSocketServer.shutdown}. */
export interface WebSocketShutdownOptions {
  /** Milliseconds to wait for closing handshakes before resetting the rest. @default {5000} */
  timeout?: number;
  /** Close code sent to every open WebSocket. @default {1001} */
  code?: number;
  /** Close reason sent with it. @default {"server shutdown"} */
  reason?: string;
}

const HANDLER_KEYS: readonly (keyof WebSocketHandlers)[] = [
  "onOpenRequest",
  "onRequest",
  "onOpen",
  "onMessage",
  "onLine",
  "onPing",
  "onPong",
  "onDrain",
  "onClose",
  "onError",
  "onLog",
];
/** The TCP send queue is not limited underneath: sessions check `maxWriteBuffer` per message. */
const UNLIMITED = 2 ** 31;
const TOO_BUSY = buildErrorResponse(503, { headers: { "Retry-After": "5" }, body: "Too many connections" });

/**
 * A WebSocket server (RFC 6455) with the reference WSServer's connection
 * management. Callbacks run synchronously on the read path, with no promise
 * per message; streams are built per connection only when asked for.
 * Plain HTTP requests go to `onRequest` (else 426).
 *
 * @example An echo server
 * ```ts ignore
 * import { serveWs } from "@netstreams/netstreams/ws";
 * await using server = await serveWs({
 *   port: 0,
 *   onMessage: (ws, data, text) => ws.send(data, text),
 * });
 * console.log(`ws://127.0.0.1:${server.addr.port}/`);
 * ```
 */
export class WebSocketServer implements AsyncDisposable {
  /** The TCP server underneath (admission, ids, TLS, socket options). */
  readonly server: Server;
  readonly #host: WsHost;
  readonly #sweeper: WsSweeper;

  /** Creates a server; call {@linkcode listen}. Throws `TypeError`/`RangeError` for invalid options. */
  constructor(options: WebSocketServerOptions = {}) {
    const host: WsHost = {
      s: resolveWsSettings(options),
      tls: options.tls !== undefined,
      closeTimeout: options.closeTimeout ?? 10_000,
      report: (error, ws) => this.#report(error, ws),
      openFile: async (path) => (await getRuntime()).openFile(path),
    };
    for (const key of HANDLER_KEYS) {
      if (options[key] !== undefined) (host as unknown as Record<string, unknown>)[key] = options[key];
    }
    this.#host = host;
    this.server = new Server(this.#tcpOptions(options));
    this.#sweeper = new WsSweeper(this.server.connections, host);
    this.#sweeper.retune();
    options.signal?.addEventListener("abort", () => void this.shutdown(), { once: true });
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
  /** The WebSocket settings in force, with defaults applied. */
  get settings(): Readonly<ResolvedWsSettings> {
    return this.#host.s;
  }
  /** Live connections (connecting, open and closing) by id: a snapshot. */
  get connections(): ReadonlyMap<string, WebSocketConnection> {
    const out = new Map<string, WebSocketConnection>();
    for (const [id, conn] of this.server.connections) out.set(id, conn.data as WebSocketConnection);
    return out;
  }
  /** Number of live connections. */
  get size(): number {
    return this.server.connections.size;
  }

  /** The connection with this id; throws `ServerError` 126 when there is none. */
  get(id: string): WebSocketConnection {
    const ws = this.server.get(id).data;
    if (!(ws instanceof WebSocketConnection)) {
      throw new ServerError(ErrorCode.InvalidConnectionId, `No WebSocket has id "${id}"`);
    }
    return ws;
  }

  /** Binds every configured address (see `Server.listen`). */
  async listen(): Promise<this> {
    await this.server.listen();
    this.#host.tls = this.server.options.tls !== undefined;
    return this;
  }

  /** Stops accepting; live connections stay (reference: StopListening). */
  stopListening(): void {
    this.server.stopListening();
  }

  /**
   * Changes options: WebSocket settings and callbacks apply at once (limits
   * to new connections), TCP options as `Server.set` allows.
   */
  set(options: Partial<WebSocketServerOptions>): void {
    const ws: WebSocketSettings = {};
    const tcp: Partial<ServerOptions> = {};
    for (const [key, value] of Object.entries(options)) {
      if ((WS_SETTING_KEYS as string[]).includes(key)) (ws as Record<string, unknown>)[key] = value;
      else if ((HANDLER_KEYS as string[]).includes(key)) (this.#host as unknown as Record<string, unknown>)[key] = value;
      else (tcp as Record<string, unknown>)[key] = value;
    }
    const s = resolveWsSettings(ws, this.#host.s);
    if (Object.keys(tcp).length > 0) this.server.set(tcp);
    this.#host.s = s;
    this.#host.closeTimeout = this.server.options.closeTimeout ?? 10_000;
    this.#sweeper.retune();
  }

  /**
   * Stops listening, closes every open WebSocket with 1001 (reference:
   * Shutdown) and waits for the closing handshakes, then resets whatever is
   * still open after `timeout` milliseconds.
   */
  async shutdown(options: WebSocketShutdownOptions = {}): Promise<void> {
    const timeout = options.timeout ?? 5000;
    const code = options.code ?? 1001;
    const reason = options.reason ?? "server shutdown";
    this.server.stopListening();
    const waits: Promise<unknown>[] = [];
    for (const conn of this.server.connections.values()) {
      const ws = conn.data;
      if (!(ws instanceof WebSocketConnection) || ws._state === CONNECTING) waits.push(conn.close());
      else if (ws._state === OPEN) waits.push(ws.close(code, reason, { wait: true }));
      else waits.push(ws.closed);
    }
    if (waits.length > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<void>((r) => (timer = setTimeout(r, timeout)));
      await Promise.race([Promise.all(waits), late]);
      clearTimeout(timer);
    }
    await this.server.shutdown({ timeout: 0 });
  }

  /** Same as {@linkcode shutdown} with its defaults, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  #tcpOptions(options: WebSocketServerOptions): ServerOptions {
    const tcp: ServerOptions = {};
    for (const [key, value] of Object.entries(options)) {
      const k = key as keyof WebSocketServerOptions;
      if ((WS_SETTING_KEYS as string[]).includes(k) || (HANDLER_KEYS as string[]).includes(k)) continue;
      if (k === "signal") continue; // handled here, to close with 1001
      (tcp as Record<string, unknown>)[k] = value;
    }
    tcp.maxWriteBuffer = UNLIMITED;
    tcp.tooBusyBanner = TOO_BUSY;
    tcp.onConnection = (conn) => {
      conn.data = new WebSocketConnection(conn, this.#host);
      this.#sweeper.start();
    };
    tcp.onData = (conn, bytes) => this.#data(conn, bytes);
    tcp.onDrain = (conn) => (conn.data as WebSocketConnection | undefined)?._drain();
    tcp.onDisconnect = (conn, info) => {
      const ws = conn.data;
      if (ws instanceof WebSocketConnection) tcpClosed(ws, info);
      if (this.server.connections.size === 0) this.#sweeper.stop();
    };
    tcp.onError = (error, conn) => {
      const ws = conn?.data;
      this.#report(error, ws instanceof WebSocketConnection ? ws : undefined);
    };
    return tcp;
  }

  #data(conn: Connection, bytes: Uint8Array): void {
    let ws = conn.data as WebSocketConnection | undefined;
    if (ws === undefined) conn.data = ws = new WebSocketConnection(conn, this.#host);
    const state = ws._state;
    if (state === CONNECTING) (ws._hs ??= new HandshakeStage(ws)).push(bytes);
    else if (state !== CLOSED) feedFrames(ws, bytes);
  }

  #report(error: unknown, ws?: WebSocketConnection): void {
    const err = error instanceof Error ? error : new Error(String(error));
    const onError = this.#host.onError;
    if (onError !== undefined) {
      try {
        onError(err, ws);
        return;
      } catch {
        // fall through: an error handler must not kill the server
      }
    }
    console.error(`netstreams: ${ws ? `WebSocket ${ws.id}: ` : ""}${err.stack ?? err.message}`);
  }
}

/**
 * Creates a {@linkcode WebSocketServer} and starts listening.
 *
 * @example Messages as a stream, with a subprotocol
 * ```ts ignore
 * import { serveWs } from "@netstreams/netstreams/ws";
 * const server = await serveWs({
 *   port: 8080,
 *   protocols: ["chat"],
 *   async onOpen(ws) {
 *     for await (const message of ws.messages) ws.send(message);
 *   },
 * });
 * ```
 */
export function serveWs(options: WebSocketServerOptions = {}): Promise<WebSocketServer> {
  return new WebSocketServer(options).listen();
}
