/**
 * netstreams: TCP, TLS and WebSocket servers where every connection is a pair
 * of web streams and every protocol concern is a `TransformStream`.
 *
 * @example A line echo server
 * ```ts ignore
 * import { serve } from "@netstreams/netstreams";
 * await using server = await serve({
 *   port: 7000,
 *   singleLineMode: true,
 *   async onConnection(conn) {
 *     for await (const line of conn.segments) await conn.send(line.bytes);
 *   },
 * });
 * ```
 *
 * @module
 */

export * from "./src/codec/mod.ts";
export * from "./src/net/mod.ts";
export * from "./src/tls/mod.ts";
export * from "./src/components/mod.ts";
// The WebSocket server; the codecs are in the "./ws" entry point.
export {
  CloseCode,
  ReadyState,
  serveWs,
  WebSocketConnection,
  WebSocketOpenRequest,
  WebSocketServer,
  WsHandshakeError,
  WsProtocolError,
} from "./src/ws/mod.ts";
export type {
  AcceptOptions,
  HttpRequestInfo,
  OpenMessageOptions,
  PingOptions,
  RejectOptions,
  WebSocketCloseInfo,
  WebSocketCloseOptions,
  WebSocketFragment,
  WebSocketHandlers,
  WebSocketLogLevel,
  WebSocketServerOptions,
  WebSocketSettings,
  WebSocketShutdownOptions,
  WsSendFileOptions,
} from "./src/ws/mod.ts";
// The WebSocket-to-TCP proxy; the PROXY header codec and target parsing are in "./proxy".
export { ProxySession, serveProxy, WebSocketProxy } from "./src/proxy/mod.ts";
export type {
  ProxyCloseInfo,
  ProxyRoute,
  ProxyTarget,
  TargetTlsOptions,
  WebSocketProxyOptions,
  WebSocketProxyOptionsBase,
} from "./src/proxy/mod.ts";
export { VERSION } from "./src/version.ts";
