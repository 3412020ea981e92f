/**
 * The WebSocket-to-TCP proxy (reference: WebSocketProxy; a websockify you
 * can embed): each client's WebSocket is joined to a TCP or TLS connection
 * to a target, with backpressure both ways, per-request routing with an
 * allowlist, close codes for target failures, and an optional PROXY
 * protocol header. Plus the PROXY header codec and a static file handler
 * for serving a web client on the same port.
 *
 * @example A proxy in front of a TCP service
 * ```ts ignore
 * import { serveProxy } from "@netstreams/netstreams/proxy";
 * await using proxy = await serveProxy({ port: 6080, target: "127.0.0.1:5900" });
 * ```
 *
 * @module
 */

export * from "./web_socket_proxy.ts";
export * from "./proxy_options.ts";
export * from "./proxy_session.ts";
export * from "./target.ts";
export * from "./proxy_protocol.ts";
export * from "./static_files.ts";
// Types the proxy's API refers to, from the layers below (for documentation and users' annotations).
export type { NetAddr } from "../net/types.ts";
export type {
  HttpRequestInfo,
  WebSocketCloseInfo,
  WebSocketConnection,
  WebSocketLogLevel,
  WebSocketOpenRequest,
  WebSocketServer,
  WebSocketServerOptions,
  WebSocketShutdownOptions,
} from "../ws/mod.ts";
