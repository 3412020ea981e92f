/**
 * Options of the WebSocket-to-TCP proxy ({@linkcode WebSocketProxy},
 * `serveProxy`): the WebSocket server's (listening, admission, TLS,
 * heartbeat, limits), where the data goes, and the proxy's callbacks.
 *
 * @module
 */

import type { WebSocketServerOptions } from "../ws/ws_server_options.ts";
import type { WebSocketOpenRequest } from "../ws/open_request.ts";
import type { WebSocketLogLevel } from "../ws/_ws_host.ts";
import type { ProxyTarget, TargetTlsOptions } from "./target.ts";
import type { ProxyCloseInfo, ProxySession } from "./proxy_session.ts";
import type { ProxyProtocolVersion } from "./proxy_protocol.ts";

/** WebSocket server options the proxy sets itself (the data path and its callbacks). */
export type ProxyOwnedOption =
  | "onOpenRequest"
  | "onOpen"
  | "onMessage"
  | "onLine"
  | "onDrain"
  | "onClose"
  | "onError"
  | "onLog"
  | "lineMode"
  | "bufferMessage";

/**
 * The WebSocket server's options a proxy takes as they are: listening,
 * admission (`allow`, `block`, `maxConnections`, `onConnectionRequest`),
 * TLS towards clients, heartbeat (`pingInterval`, `pongTimeout`),
 * `idleTimeout` (per proxied connection: no data either way), limits,
 * `protocols` (default `["binary"]`), `perMessageDeflate` (default false
 * here: proxied bytes are often compressed already) and `onRequest` for
 * plain HTTP.
 */
export interface WebSocketProxyOptionsBase extends Omit<WebSocketServerOptions, ProxyOwnedOption> {}

/**
 * The per-request routing decision given to `onOpenRequest`: change
 * `hostname`/`port` to send this client elsewhere (reference:
 * WebSocketOpenRequest ForwardHost/ForwardPort). The allowlist is checked
 * after the hook.
 */
export interface ProxyRoute {
  /** Target host; "" when no target is configured or resolved yet. */
  hostname: string;
  /** Target port; 0 when none. */
  port: number;
  /** TLS to the target. @default the proxy's `targetTls` */
  tls?: boolean | TargetTlsOptions;
}

/** Options of {@linkcode WebSocketProxy} and `serveProxy()`. */
export interface WebSocketProxyOptions extends WebSocketProxyOptionsBase {
  /**
   * Where clients are sent unless a resolver or the open-request hook says
   * otherwise: `"host:port"` or an object (reference: DefaultForwardHost,
   * DefaultForwardPort). Without it (and without `resolveTarget`) every
   * WebSocket is refused: there is no open proxy by default.
   */
  target?: string | ProxyTarget;
  /**
   * Picks the target per request, from the path, the query (a websockify
   * style `?token=`), headers or the client address; may be async (the
   * handshake waits, within `handshakeTimeout`). Returning undefined falls
   * back to `target`; when there is none either the request gets 404. A
   * throw answers 500.
   */
  resolveTarget?: (
    request: WebSocketOpenRequest,
  ) => string | ProxyTarget | undefined | Promise<string | ProxyTarget | undefined>;
  /**
   * Targets clients may be sent to (`host:port` patterns, see
   * `TargetAllowlist`), checked after `resolveTarget` and `onOpenRequest`;
   * a request routed elsewhere is refused with HTTP 403 before any
   * WebSocket or target connection exists. Set it whenever the route comes
   * from client input (a token, the path).
   * @default no list: any configured or resolved target
   */
  allowTargets?: string | string[];
  /**
   * Connect to targets with TLS: true for the defaults (system CAs, SNI
   * from the host name), or settings. A route's own `tls` wins.
   * @default {false}
   */
  targetTls?: boolean | TargetTlsOptions;
  /**
   * Milliseconds to connect to the target (and finish TLS); a slower
   * target closes the WebSocket with 1014.
   * @default {10000}
   */
  connectTimeout?: number;
  /**
   * Send a PROXY protocol header (version 1 text or 2 binary) first on
   * each target connection, so the target sees the client's address.
   * @default none
   */
  proxyProtocol?: ProxyProtocolVersion;
  /**
   * A client asks to open a WebSocket (reference: WebSocketOpenRequest):
   * `route` holds the target chosen so far; change it, or refuse with
   * `request.reject(status)`. May be async.
   */
  onOpenRequest?: (request: WebSocketOpenRequest, route: ProxyRoute) => void | Promise<void>;
  /** The target connection is up and data flows (reference: Connected). */
  onConnect?: (session: ProxySession) => void;
  /**
   * Data passed through (reference: DataIn): `fromClient` true for client
   * to target. `data` is only valid during the call. Setting this costs a
   * call per chunk; leave it unset on busy proxies.
   */
  onData?: (session: ProxySession, data: Uint8Array, fromClient: boolean) => void;
  /** A proxied connection ended, both sides closed (reference: Disconnected). */
  onDisconnect?: (session: ProxySession, info: ProxyCloseInfo) => void;
  /** A failure: target connect errors, socket errors, protocol errors (reference: Error). */
  onError?: (error: Error, session?: ProxySession) => void;
  /** Handshakes, target connects and closes, for logs (reference: Log). */
  onLog?: (level: WebSocketLogLevel, message: string, session?: ProxySession) => void;
}

/** Keys of {@linkcode WebSocketProxyOptions} that are the proxy's own (not the server's). */
export const PROXY_KEYS: readonly string[] = [
  "target",
  "resolveTarget",
  "allowTargets",
  "targetTls",
  "connectTimeout",
  "proxyProtocol",
  "onOpenRequest",
  "onConnect",
  "onData",
  "onDisconnect",
  "onError",
  "onLog",
  "onOpen",
  "onMessage",
  "onLine",
  "onDrain",
  "onClose",
  "lineMode",
  "bufferMessage",
];
