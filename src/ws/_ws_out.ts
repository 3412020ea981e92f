/**
 * Internal: the send side of a session: messages, pieces of one message
 * (others are held until it ends, RFC 6455 §5.4: data frames of two
 * messages cannot interleave), the `maxWriteBuffer` check per message, and
 * the copy of bytes borrowed from the read buffer.
 *
 * @module
 */

import { ConnectionError, ErrorCode, ServerError } from "../net/errors.ts";
import {
  bytesOf,
  type ChunkOut,
  controlFrame,
  HeldFrames,
  writeData,
  writeDeflated,
  writeString,
} from "./_ws_send.ts";
import { nextPingPayload, PendingPings } from "./_ws_pings.ts";
import { ACTIVE, CONNECTING, OPEN } from "./_ws_state.ts";
import { feeding } from "./_ws_receive.ts";
import type { WebSocketConnection } from "./ws_connection.ts";

const encoder = new TextEncoder();
/** Owner of a fragmented message sent with `sendFragment`. */
const USER = {};

/** The error for a send on a socket that is not open. */
export function closedError(ws: WebSocketConnection): Error {
  const what = ws._state === CONNECTING ? "is not open yet" : "is closing or closed";
  return new ConnectionError("EPIPE", `Cannot send on WebSocket ${ws.id} as it ${what}`);
}

/** Throws 135 when the queue already holds `maxWriteBuffer` bytes. */
function checkRoom(ws: WebSocketConnection, extra: number): void {
  const queued = ws._conn.writableLength + extra;
  const max = ws._host.s.maxWriteBuffer;
  if (queued >= max) {
    throw new ServerError(
      ErrorCode.WouldBlock,
      `Cannot send on WebSocket ${ws.id}: ${queued} bytes are queued (maxWriteBuffer ${max}); await ws.ready first`,
    );
  }
}

/** The buffer of the send in progress whose bytes must be copied (see {@linkcode sendBorrowed}). */
let borrowed: ArrayBufferLike | undefined;

/**
 * Sends `data` as one message, copying its bytes (into a pooled buffer
 * for a large frame): for bytes of a buffer that will be written into again
 * as soon as this returns, such as another socket's reused read buffer (the
 * proxy relaying what its target sent).
 */
export function sendBorrowed(ws: WebSocketConnection, data: Uint8Array, text: boolean): boolean {
  borrowed = data.buffer;
  try {
    return sendMessage(ws, data, text, true);
  } finally {
    borrowed = undefined;
  }
}

/**
 * Whether `data` must be copied before `out` keeps it: bytes of a read
 * buffer that is being decoded (see `_lent`) may go to that same connection
 * as they are, since inside its read it gathers, copies or lends them
 * itself; held frames and other connections keep them past the read; and
 * bytes given to {@linkcode sendBorrowed} always.
 */
function mustCopy(ws: WebSocketConnection, out: ChunkOut, data: Uint8Array): boolean {
  const lent = ws._lent;
  const otherLent = feeding()?._lent;
  // Nothing borrowed or lent (fresh chunks, as on Bun): no need to ask for
  // `data.buffer`, which costs an allocation on JavaScriptCore the first time.
  if (borrowed === undefined && lent === undefined && otherLent === undefined) return false;
  const buffer = data.buffer;
  if (buffer === borrowed) return true;
  if (buffer === lent) return out !== ws._conn;
  return otherLent !== undefined && buffer === otherLent;
}

/** Where a data message goes: the connection, or the hold queue while a message is sent in pieces. */
function target(ws: WebSocketConnection): ChunkOut {
  if (ws._state !== OPEN) throw closedError(ws);
  ws._flags |= ACTIVE;
  const x = ws._x;
  if (x !== undefined && x.outOwner !== undefined) {
    checkRoom(ws, x.held?.bytes ?? 0);
    return x.held ??= new HeldFrames();
  }
  checkRoom(ws, 0);
  return ws._conn;
}

/** See `WebSocketConnection.send`. */
export function sendMessage(
  ws: WebSocketConnection,
  data: string | Uint8Array,
  text: boolean,
  compress: boolean,
): boolean {
  const out = target(ws);
  const max = ws._host.s.maxFrameSize;
  const pmd = ws._x?.pmd;
  let ok: boolean;
  // permessage-deflate: at least `threshold` bytes (a string's UTF-8 size is at least its length).
  if (pmd !== undefined && compress && data.length >= pmd.threshold) {
    const bytes = text || typeof data !== "string" ? data : encoder.encode(data);
    if (out !== ws._conn && pmd.partOpen) {
      // The open message owns the compression context: compress this one after it.
      const owned = typeof bytes === "string" || ws._lent === undefined ||
          bytes.buffer !== ws._lent
        ? bytes
        : bytes.slice();
      (out as HeldFrames).defer({ data: owned, opcode: text ? 1 : 2 });
      ok = true;
    } else ok = writeDeflated(out, text ? 1 : 2, bytes, max, pmd);
  } else if (typeof data === "string") {
    ok = text
      ? writeString(out, 1, data, true, max)
      : writeData(out, 2, encoder.encode(data), true, max, false);
  } else {
    ok = writeData(out, text ? 1 : 2, data, true, max, mustCopy(ws, out, data));
  }
  if (out === ws._conn) return ok;
  ok = ws.desiredSize > 0;
  if (!ok) (out as HeldFrames).denied = true;
  return ok;
}

/** See `WebSocketConnection.sendFragment`. */
export function sendFragment(
  ws: WebSocketConnection,
  data: string | Uint8Array,
  last: boolean,
  text: boolean,
  compress: boolean,
): boolean {
  const owner = ws._x?.outOwner;
  if (owner !== undefined && owner !== USER) {
    throw new TypeError(
      `Cannot send a fragment on WebSocket ${ws.id}: a stream or file is sending a message`,
    );
  }
  return sendPart(ws, USER, data, last, text, compress);
}

/**
 * Writes a piece of the message `owner` sends; the last one releases the
 * held messages. With permessage-deflate the first piece decides: the
 * message is compressed (RSV1 on its first frame, RFC 7692 §6.1) when
 * `compress` and that piece has at least `threshold` bytes, as `ws` does.
 */
export function sendPart(
  ws: WebSocketConnection,
  owner: object,
  data: string | Uint8Array,
  last: boolean,
  text: boolean,
  compress = true,
): boolean {
  if (ws._state !== OPEN) throw closedError(ws);
  const conn = ws._conn;
  checkRoom(ws, 0);
  const x = ws._ex();
  x.outOwner = owner;
  ws._flags |= ACTIVE;
  const opcode = x.outType === 0 ? (text ? 1 : 2) : 0;
  if (opcode !== 0) x.outType = opcode;
  const max = ws._host.s.maxFrameSize;
  const pmd = x.pmd;
  const deflate = pmd !== undefined &&
    (opcode !== 0 ? compress && data.length >= pmd.threshold : pmd.partOpen);
  let ok = deflate
    ? writeData(conn, opcode, pmd.deflatePart(bytesOf(data), last), last, max, false, opcode !== 0)
    : typeof data === "string"
    ? writeString(conn, opcode, data, last, max)
    : writeData(conn, opcode, data, last, max, mustCopy(ws, conn, data));
  if (!last) return ok;
  x.outType = 0;
  x.outOwner = undefined;
  const held = x.held;
  if (held === undefined) return ok;
  x.held = undefined;
  for (const chunk of held.chunks) {
    ok = chunk instanceof Uint8Array
      ? conn.write(chunk)
      : writeDeflated(conn, chunk.opcode, chunk.data, max, pmd!);
  }
  if (ok && held.denied) queueMicrotask(() => ws._drain());
  return ok;
}

/** See `WebSocketConnection.ping`. */
export function sendPing(
  ws: WebSocketConnection,
  payload: Uint8Array | string | undefined,
  timeout: number,
): Promise<number> {
  if (ws._state !== OPEN) return Promise.reject(closedError(ws));
  const bytes = payload === undefined
    ? nextPingPayload()
    : typeof payload === "string"
    ? encoder.encode(payload)
    : payload.slice();
  if (bytes.length > 125) {
    throw new RangeError(
      `Cannot ping as the payload must be at most 125 bytes: current length is ${bytes.length}`,
    );
  }
  ws._conn.write(controlFrame(9, bytes));
  return (ws._ex().pings ??= new PendingPings()).add(bytes, timeout, ws.id);
}
