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
