/**
 * The TCP server built from streams: listeners, admission control, the
 * connection registry, framing, timeouts and shutdown.
 *
 * @example
 * ```ts ignore
 * import { serve } from "@netstreams/netstreams/net";
 * await using server = await serve({ port: 7000, singleLineMode: true, async onConnection(conn) {
 *   for await (const line of conn.segments) await conn.sendLine(new TextDecoder().decode(line.bytes));
 * } });
 * ```
 *
 * @module
 */

export { serve, Server } from "./server.ts";
export type { ConnectionRequest, ListenAddress, ServerOptions, ShutdownOptions } from "./server.ts";
export { Connection } from "./connection.ts";
export type { CloseInfo, ConnectionStartTlsOptions } from "./connection.ts";
export type { SendFileOptions } from "./_send_file.ts";
export { DEFAULT_LINE_LENGTH, MIN_LINE_LENGTH } from "./framing.ts";
export type { Framing, FramingOptions } from "./framing.ts";
export { IpFilter } from "./ip_filter.ts";
export {
  codeOf,
  ConnectionError,
  ErrorCode,
  ListenError,
  ServerError,
  statusOf,
} from "./errors.ts";
export type { ErrorCodeValue, ListenFailure } from "./errors.ts";
export { NotSupportedError } from "../runtime/errors.ts";
export type {
  ConnectOptions,
  Listener,
  ListenOptions,
  NetAddr,
  Socket,
  SocketHandlers,
} from "./types.ts";
