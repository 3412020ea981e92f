/**
 * Internal: line mode inside WebSocket messages (reference: LineMode,
 * ChangeLineMode, MaxLineLength[ConnectionId]), over the line codec the
 * TCP server uses. Lines may span messages: the message payloads are one
 * byte stream.
 *
 * @module
 */

import { LineCore } from "../codec/line_core.ts";
import { MIN_LINE_LENGTH } from "../net/framing.ts";
import type { WebSocketConnection } from "./ws_connection.ts";

/** Turns line mode on or off; off delivers a pending partial line with `eol` false. */
export function setLineMode(ws: WebSocketConnection, on: boolean): void {
  if (on === (ws._x?.lines !== undefined)) return;
  const x = ws._ex();
  if (!on) {
    const lines = x.lines!;
    x.lines = undefined;
    lines.flush(x.lineEmit!);
    return;
  }
  if (x.sink !== undefined) {
    throw new TypeError(`Cannot use line mode on WebSocket ${ws.id}: its messages are read as a stream`);
  }
  x.lineEmit ??= (line, eol) => {
    try {
      ws._host.onLine?.(ws, line, eol);
    } catch (error) {
      ws._host.report(error, ws);
    }
  };
  x.lines = new LineCore({ maxLength: ws.maxLineLength });
}

/** Sets the longest line; a line in progress carries over to the new limit. */
export function setMaxLineLength(ws: WebSocketConnection, n: number): void {
  if (!Number.isSafeInteger(n) || n < MIN_LINE_LENGTH) {
    throw new RangeError(
      `Cannot set maxLineLength as it must be an integer >= ${MIN_LINE_LENGTH}: current value is ${n}`,
    );
  }
  const x = ws._ex();
  x.maxLine = n;
  const old = x.lines;
  if (old === undefined) return;
  const rest = old.takeRest();
  const lines = x.lines = new LineCore({ maxLength: n });
  if (rest.length > 0) lines.push(rest, x.lineEmit!);
}
