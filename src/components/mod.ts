/**
 * Event-style components with the reference documents' model.
 *
 * @example
 * ```ts ignore
 * import { TcpServer } from "@netstreams/netstreams/components";
 * const server = new TcpServer({ localPort: 7000, defaultSingleLineMode: true });
 * server.on("DataIn", (e) => server.sendLine(e.connectionId, e.text));
 * await server.startListening();
 * ```
 *
 * @module
 */

export { IPDaemon, TcpServer } from "./tcp_server.ts";
export type { TcpServerProperties } from "./tcp_server.ts";
export * from "./tcp_events.ts";
export { WsServer } from "./ws_server.ts";
export type { WsServerProperties } from "./ws_server.ts";
export * from "./ws_events.ts";
export { WsProxy } from "./ws_proxy.ts";
export type { WsProxyProperties } from "./ws_proxy.ts";
export * from "./ws_proxy_events.ts";
export * from "./tls_events.ts";
export type { SslCert, SslStartMode } from "./_tls_config.ts";
