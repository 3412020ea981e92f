/**
 * Shapes shared by {@linkcode WebSocketConnection} and its users: states,
 * close information, and the options of close and ping.
 *
 * @module
 */

/**
 * Connection states, as the browser's `WebSocket.readyState`.
 *
 * @example Sending only while open
 * ```ts
 * import { ReadyState } from "@netstreams/netstreams/ws";
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(ReadyState.OPEN, 1);
 * ```
 */
export const ReadyState = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;

/** How a WebSocket ended (reference: Disconnected StatusCode, Description). */
export interface WebSocketCloseInfo {
  /** The peer's close code; else the code sent on failure; 1005 none given; 1006 dropped. */
  code: number;
  /** The close reason, possibly empty. */
  reason: string;
  /** True when both close frames were exchanged. */
  wasClean: boolean;
  /** The failure: a `WsProtocolError`, a timeout, a socket error. */
  error?: Error;
}

/** Options of {@linkcode WebSocketConnection.close}. */
export interface WebSocketCloseOptions {
  /** Wait for the peer's close frame (bounded by `closeTimeout`). @default the server's `waitForCloseResponse` */
  wait?: boolean;
}

/** Options of {@linkcode WebSocketConnection.ping}. */
export interface PingOptions {
  /** Milliseconds to wait for the pong before rejecting with `ETIMEDOUT`. @default {30000} */
  timeout?: number;
}

