/**
 * Internal: the receive side of a session (RFC 6455 §5.4-§5.6, §7): frames
 * from the read loop through a {@linkcode MessageCore} to the callbacks,
 * automatic pong, the closing handshake, failing the connection on a
 * protocol error (close code, no echo of what follows), and the end.
 *
 * @module
 */

import type { CloseInfo as NetCloseInfo } from "../net/connection.ts";
import { ConnectionError } from "../net/errors.ts";
import type { WsProtocolError } from "./errors.ts";
import { MessageCore, type MessageHandler } from "./message_core.ts";
import { closeFrame, controlFrame } from "./_ws_send.ts";
import { ACTIVE, BUFFER, CLOSE_SENT, CLOSED, CLOSING, CONNECTING, OPEN } from "./_ws_state.ts";
import type { WebSocketCloseInfo, WebSocketConnection } from "./ws_connection.ts";

const EMPTY = new Uint8Array(0);

/** Routes a core's callbacks to the session being fed (one for all sessions). */
class Receiver implements MessageHandler {
  ws: WebSocketConnection | undefined = undefined;
  message(payload: Uint8Array, opcode: 1 | 2, eom: boolean): void {
    deliver(this.ws!, payload, opcode, eom);
  }
  ping(payload: Uint8Array): void {
    const ws = this.ws!;
    if (ws._state !== OPEN) return;
    // §5.5.2: a pong with the same payload; none while the queue is full (a
    // peer that pings without reading must not grow it).
    const conn = ws._conn;
    if (conn.writableLength < ws._host.s.maxWriteBuffer) conn.write(controlFrame(10, payload));
    const on = ws._host.onPing;
    if (on !== undefined) call(ws, () => on(ws, payload));
  }
  pong(payload: Uint8Array): void {
    const ws = this.ws!;
    if (ws._pingAt > 0) {
      ws._ex().rtt = performance.now() - ws._pingAt;
      ws._pingAt = 0;
    }
    const rtt = ws._x?.pings?.pong(payload);
    if (rtt !== undefined) ws._ex().rtt = rtt;
    const on = ws._host.onPong;
    if (on !== undefined) call(ws, () => on(ws, payload));
  }
  close(code: number, reason: string): void {
    peerClose(this.ws!, code, reason);
  }
}

const rx = new Receiver();

/** The session whose chunk is being decoded now, if any (its `_lent` is that chunk's buffer). */
export function feeding(): WebSocketConnection | undefined {
  return rx.ws;
}

/** Feeds bytes of an open (or closing) session to its message core. */
export function feedFrames(ws: WebSocketConnection, chunk: Uint8Array): void {
  let core = ws._core;
  if (core === undefined) {
    const s = ws._host.s;
    core = ws._core = new MessageCore({
      maxPayload: s.maxPayload,
      maxFragments: s.maxFragments,
      bufferMessage: (ws._flags & BUFFER) !== 0,
      inflater: ws._x?.pmd,
    });
  }
  const prev = rx.ws; // a callback may resume another connection, which feeds it here
  rx.ws = ws;
  // Only a reused read buffer is lent (fresh chunks, as on Bun, may be kept
  // as they are; and `chunk.buffer` costs an allocation on JavaScriptCore).
  ws._lent = ws._conn._sharedChunks ? chunk.buffer : undefined;
  let error: WsProtocolError | undefined;
  try {
    error = core.push(chunk, rx);
  } finally {
    rx.ws = prev;
    ws._lent = undefined;
  }
  if (error !== undefined && ws._state !== CLOSED) {
    ws._host.report(error, ws);
    fail(ws, error.closeCode, error.message, error);
  }
}

function deliver(ws: WebSocketConnection, payload: Uint8Array, opcode: 1 | 2, eom: boolean): void {
  if (ws._state !== OPEN) return; // after our close frame, data is dropped
  ws._flags |= ACTIVE;
  const x = ws._x;
  if (x !== undefined) {
    const lines = x.lines;
    if (lines !== undefined) return lines.push(payload, x.lineEmit!);
    const sink = x.sink;
    if (sink !== undefined) return sink.message(payload, opcode, eom);
  }
  const on = ws._host.onMessage;
  if (on === undefined) return;
  try {
    on(ws, payload, opcode === 1, eom);
  } catch (error) {
    handlerFailed(ws, error);
  }
}

function call(ws: WebSocketConnection, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    handlerFailed(ws, error);
  }
}

/** An application callback threw: report it and close with 1011 (§7.4.1). */
export function handlerFailed(ws: WebSocketConnection, error: unknown): void {
  ws._host.report(error, ws);
  const err = error instanceof Error ? error : new Error(String(error));
  fail(ws, 1011, "Internal error", err);
}

/** The peer's close frame (§5.5.1, §7.1.2): answer it (echoing the code) and close TCP. */
function peerClose(ws: WebSocketConnection, code: number, reason: string): void {
  const state = ws._state;
  if (state === OPEN) {
    ws._state = CLOSING;
    const x = ws._ex();
    x.held = undefined;
    const payload = code === 1005 ? EMPTY : new Uint8Array([code >>> 8, code & 255]);
    ws._conn.write(closeFrame(payload));
    ws._flags |= CLOSE_SENT;
    x.info = { code, reason, wasClean: true };
    void ws._conn.close();
  } else if (state === CLOSING) {
    ws._ex().info ??= { code, reason, wasClean: true };
    void ws._conn.close();
  }
}

/**
 * Sends a close frame and waits for the peer's (bounded by the server's
 * `closeTimeout`, enforced by the sweeper), or closes TCP at once.
 */
export function startClose(
  ws: WebSocketConnection,
  payload: Uint8Array,
  code: number,
  reason: string,
  wait: boolean,
): void {
  ws._state = CLOSING;
  const x = ws._ex();
  x.held = undefined;
  ws._flags |= CLOSE_SENT;
  ws._age = 0;
  if (ws._conn.connected) ws._conn.write(closeFrame(payload));
  log(ws, () => `WebSocket ${ws.id} closing with ${code}${reason ? ` ${reason}` : ""}`);
  if (!wait) {
    x.info = { code, reason, wasClean: false };
    void ws._conn.close();
  }
}

/**
 * Fails the WebSocket connection (§7.1.7): a close frame with `code`
 * (unless 1006 or one was sent), then TCP closes; nothing more is read.
 */
export function fail(ws: WebSocketConnection, code: number, reason: string, error?: Error): void {
  const state = ws._state;
  if (state === CLOSED || state === CONNECTING) return;
  if ((ws._flags & CLOSE_SENT) === 0 && code !== 1006 && ws._conn.connected) {
    ws._conn.write(closeFrame(new Uint8Array([code >>> 8, code & 255])));
    ws._flags |= CLOSE_SENT;
  }
  ws._state = CLOSING;
  const x = ws._ex();
  x.held = undefined;
  x.info ??= error === undefined
    ? { code, reason, wasClean: false }
    : { code, reason, wasClean: false, error };
  void ws._conn.close();
}

/** The TCP connection closed: settle everything and report (reference: Disconnected). */
export function tcpClosed(ws: WebSocketConnection, net: NetCloseInfo): void {
  const prev = ws._state;
  if (prev === CLOSED) return;
  ws._state = CLOSED;
  ws._hs = undefined;
  ws._core = undefined;
  const x = ws._ex();
  x.held = undefined;
  x.outOwner = undefined;
  x.pmd?.close();
  x.pmd = undefined;
  let info = x.info;
  if (info === undefined) {
    info = { code: 1006, reason: net.code === 0 ? "" : net.reason, wasClean: false };
    if (net.error !== undefined) info.error = net.error;
  }
  x.info = info;
  const lines = x.lines;
  if (lines !== undefined) {
    x.lines = undefined;
    lines.flush(x.lineEmit!);
  }
  x.pings?.rejectAll(new ConnectionError("EPIPE", `WebSocket ${ws.id} closed (${info.code})`));
  x.sink?.end(info);
  x.resolveClosed?.(info);
  if (prev === CONNECTING) return;
  log(ws, () => `WebSocket ${ws.id} closed: ${info.code}${info.reason ? ` ${info.reason}` : ""}`);
  const on = ws._host.onClose;
  if (on === undefined) return;
  try {
    on(ws, info);
  } catch (error) {
    ws._host.report(error, ws);
  }
}

/** Logs at level 1 (info) when the application listens; the message is built only then. */
export function log(ws: WebSocketConnection, message: () => string): void {
  const on = ws._host.onLog;
  if (on === undefined) return;
  try {
    on(1, message(), ws);
  } catch (error) {
    ws._host.report(error, ws);
  }
}

export type { WebSocketCloseInfo };
