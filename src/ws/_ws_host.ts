/**
 * Internal: what a {@linkcode WebSocketConnection} needs from its server,
 * and the application callbacks (the events of the reference WSServer).
 *
 * @module
 */

import type { ResolvedWsSettings } from "./ws_server_options.ts";
import type { WebSocketCloseInfo, WebSocketConnection } from "./ws_connection.ts";
import type { WebSocketOpenRequest } from "./open_request.ts";
import type { NetAddr } from "../net/types.ts";

/** What `onRequest` is told besides the request. */
export interface HttpRequestInfo {
  /** The peer's address. */
  remoteAddr: NetAddr;
  /** The local address that accepted the connection. */
  localAddr: NetAddr;
  /** The connection id. */
  connectionId: string;
}

/** Log levels of `onLog` (reference: Log event LogLevel): 1 info, 2 verbose, 3 debug. */
export type WebSocketLogLevel = 1 | 2 | 3;

/**
 * The application callbacks of a WebSocket server. They are called
 * synchronously on the hot path; payloads are only valid during the call
 * (copy them with `slice()` to keep them).
 */
export interface WebSocketHandlers {
  /**
   * A client asks to open a WebSocket (reference: WebSocketOpenRequest).
   * Inspect the request; reject with `request.reject(401, ...)` or set
   * `request.status`; choose `request.protocol`; add `responseHeaders`.
   * May be async: the handshake waits (within `handshakeTimeout`). A throw
   * or rejection answers 500.
   */
  onOpenRequest?: (request: WebSocketOpenRequest) => void | Promise<void>;
  /**
   * A plain HTTP request (not an upgrade) with its body (at most
   * `maxRequestBody` bytes). Answered with the returned response and
   * `Connection: close`. Without it such requests get 426.
   */
  onRequest?: (request: Request, info: HttpRequestInfo) => Response | Promise<Response>;
  /**
   * A WebSocket opened (reference: Connected). A throw, or a rejection of
   * the returned promise, closes it with 1011.
   */
  onOpen?: (ws: WebSocketConnection) => void | Promise<void>;
  /**
   * A message arrived (reference: DataIn): `text` true for a text message
   * (valid UTF-8), false for binary. When messages are not buffered, parts
   * arrive as they come and `eom` marks the last. A throw closes with 1011.
   */
  onMessage?: (ws: WebSocketConnection, data: Uint8Array, text: boolean, eom: boolean) => void;
  /**
   * In line mode, a line of the incoming data (reference: DataIn with
   * LineMode); `eol` false when it was cut at `maxLineLength`.
   */
  onLine?: (ws: WebSocketConnection, line: Uint8Array, eol: boolean) => void;
  /** A ping arrived; the pong is sent automatically (reference: Ping, Response false). */
  onPing?: (ws: WebSocketConnection, payload: Uint8Array) => void;
  /** A pong arrived (reference: Ping, Response true). */
  onPong?: (ws: WebSocketConnection, payload: Uint8Array) => void;
  /** The send queue drained after `send` returned false (reference: ReadyToSend). */
  onDrain?: (ws: WebSocketConnection) => void;
  /** An open WebSocket closed (reference: Disconnected). */
  onClose?: (ws: WebSocketConnection, info: WebSocketCloseInfo) => void;
  /**
   * A failure: a peer's protocol error (`WsProtocolError`), a throwing
   * callback, a socket error (reference: Error). `ws` is absent for
   * server-level failures.
   */
  onError?: (error: Error, ws?: WebSocketConnection) => void;
  /** Handshakes and closes, for logs (reference: Log). */
  onLog?: (level: WebSocketLogLevel, message: string, ws?: WebSocketConnection) => void;
}

/** @internal The server side of a session. */
export interface WsHost extends WebSocketHandlers {
  /** Settings in force (replaced as a whole by `set`). */
  s: ResolvedWsSettings;
  /** True when listening with TLS (for the scheme of request URLs). */
  tls: boolean;
  /** Milliseconds to wait for the peer's close frame after ours; 0 = forever. */
  closeTimeout: number;
  /** Reports a failure to `onError` or the console. */
  report(error: unknown, ws?: WebSocketConnection): void;
  /** Opens a file as a byte stream (`sendFile`). */
  openFile(path: string): Promise<ReadableStream<Uint8Array>>;
}
