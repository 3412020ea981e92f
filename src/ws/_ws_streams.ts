/**
 * Internal: the streams face of a session, built only when asked for:
 * incoming messages or fragments as a `ReadableStream` (reading pauses
 * while it is full), outgoing messages as a `WritableStream`, one message
 * sent in pieces, and a file sent as one message (reference: SendFile,
 * Interrupt, MessageLength).
 *
 * @module
 */

import { ConnectionError } from "../net/errors.ts";
import { pushReadable, type PushSource } from "../net/_push_readable.ts";
import { CLOSED, OPEN, STREAM_PAUSED, USER_PAUSED } from "./_ws_state.ts";
import type { WebSocketCloseInfo, WebSocketConnection } from "./ws_connection.ts";

/** A message part from {@linkcode WebSocketConnection.fragments}. */
export interface WebSocketFragment {
  /** The bytes (owned by the reader). */
  data: Uint8Array;
  /** True for a text message (its bytes, joined, are valid UTF-8). */
  text: boolean;
  /** True on the last part of the message (reference: EOM). */
  eom: boolean;
}

/** Options of {@linkcode WebSocketConnection.openMessage}. */
export interface OpenMessageOptions {
  /** Send a text message (the pieces, joined, must be valid UTF-8). @default {false} */
  text?: boolean;
  /**
   * With permessage-deflate, compress the message piece by piece when its
   * first piece has at least the policy's `threshold` bytes; false sends
   * it as it is.
   * @default {true}
   */
  compress?: boolean;
}

/** Options of {@linkcode WebSocketConnection.sendFile}. */
export interface WsSendFileOptions {
  /** Aborting ends the message early; the connection stays open (reference: Interrupt). */
  signal?: AbortSignal;
  /** Send as a text message (the file must be UTF-8). @default {false} */
  text?: boolean;
  /**
   * With permessage-deflate, compress the file chunk by chunk (one context
   * for the whole message) when it has at least the policy's `threshold`
   * bytes; false for data that is already compressed (images, archives).
   * @default {true}
   */
  compress?: boolean;
}

/** @internal Where a session delivers messages once a stream consumer took them. */
export interface StreamSink {
  message(payload: Uint8Array, opcode: 1 | 2, eom: boolean): void;
  end(info: WebSocketCloseInfo): void;
}

/** Incoming messages queued before reading pauses. */
const QUEUE = 16;
const EMPTY = new Uint8Array(0);
const decoder = new TextDecoder();

function take<T>(
  ws: WebSocketConnection,
  wrap: (src: PushSource<T>) => StreamSink,
): ReadableStream<T> {
  const x = ws._ex();
  if (x.sink !== undefined) {
    throw new TypeError(
      `Cannot read WebSocket ${ws.id} twice: its messages already go to a stream`,
    );
  }
  if (x.lines !== undefined) {
    throw new TypeError(`Cannot read WebSocket ${ws.id} as a stream in line mode`);
  }
  const src = pushReadable<T>({
    pull() {
      const flags = ws._flags;
      if ((flags & STREAM_PAUSED) === 0) return;
      ws._flags = flags & ~STREAM_PAUSED;
      if ((flags & USER_PAUSED) === 0) ws._conn.resume();
    },
    cancel() {
      if (ws._state === OPEN) void ws.close(1000);
    },
  }, { highWaterMark: QUEUE });
  const sink = wrap(src);
  x.sink = sink;
  if (ws._state === CLOSED) sink.end(x.info!);
  return src.stream;
}

function owned(ws: WebSocketConnection, payload: Uint8Array): Uint8Array {
  return ws._lent !== undefined && payload.buffer === ws._lent ? payload.slice() : payload;
}

function sinkOf<T>(
  ws: WebSocketConnection,
  src: PushSource<T>,
  convert: (payload: Uint8Array, opcode: 1 | 2, eom: boolean) => T,
): StreamSink {
  return {
    message(payload, opcode, eom) {
      if (!src.push(convert(payload, opcode, eom)) && (ws._flags & STREAM_PAUSED) === 0) {
        ws._flags |= STREAM_PAUSED;
        ws._conn.pause();
      }
    },
    end(info) {
      if (info.wasClean || info.code === 1000 || info.code === 1001) src.close();
      else {
        src.error(
          info.error ??
            new ConnectionError(
              "ECONNRESET",
              `WebSocket ${ws.id} closed abnormally (${info.code})`,
            ),
        );
      }
    },
  };
}

/** See {@linkcode WebSocketConnection.messages}. */
export function messages(ws: WebSocketConnection): ReadableStream<string | Uint8Array> {
  if (!ws.bufferMessage) {
    throw new TypeError(
      `Cannot read whole messages of WebSocket ${ws.id} as bufferMessage is false: use ws.fragments`,
    );
  }
  return take<string | Uint8Array>(
    ws,
    (src) => sinkOf(ws, src, (p, opcode) => opcode === 1 ? decoder.decode(p) : owned(ws, p)),
  );
}

/** See {@linkcode WebSocketConnection.fragments}. */
export function fragments(ws: WebSocketConnection): ReadableStream<WebSocketFragment> {
  return take<WebSocketFragment>(
    ws,
    (src) => sinkOf(ws, src, (p, opcode, eom) => ({ data: owned(ws, p), text: opcode === 1, eom })),
  );
}

/** Waits for room in the send queue. */
async function room(ws: WebSocketConnection): Promise<void> {
  while (ws.desiredSize <= 0) await ws.ready;
}

/** See {@linkcode WebSocketConnection.writable}. */
export function writable(ws: WebSocketConnection): WritableStream<string | Uint8Array> {
  return new WritableStream<string | Uint8Array>({
    async write(chunk) {
      await room(ws);
      ws.send(chunk);
    },
    async close() {
      await ws.close(1000);
    },
    abort(reason) {
      void ws.abort(reason instanceof Error ? reason : undefined);
    },
  });
}

function claim(ws: WebSocketConnection, what: string): object {
  if (ws._state !== OPEN) {
    throw new ConnectionError("EPIPE", `Cannot ${what} on WebSocket ${ws.id} as it is not open`);
  }
  const x = ws._ex();
  if (x.outOwner !== undefined) {
    throw new TypeError(
      `Cannot ${what} on WebSocket ${ws.id}: another message is being sent in pieces`,
    );
  }
  const owner = {};
  x.outOwner = owner;
  return owner;
}

/**
 * Ends the message `owner` is sending: `complete` sends the final frame
 * even when nothing was sent (an empty message); otherwise (interrupted)
 * only a message already begun is ended, with an empty final frame.
 */
function release(ws: WebSocketConnection, owner: object, text: boolean, complete: boolean): void {
  const x = ws._ex();
  if (x.outOwner !== owner) return;
  if (ws._state === OPEN && (complete || x.outType !== 0)) ws._part(owner, EMPTY, true, text);
  if (x.outOwner === owner) x.outOwner = undefined;
}

/** See {@linkcode WebSocketConnection.openMessage}. */
export function openMessage(
  ws: WebSocketConnection,
  options: OpenMessageOptions,
): WritableStream<string | Uint8Array> {
  const text = options.text ?? false;
  const compress = options.compress !== false;
  const owner = claim(ws, "open a message");
  return new WritableStream<string | Uint8Array>({
    async write(chunk) {
      await room(ws);
      ws._part(owner, chunk, false, text, compress);
    },
    close() {
      release(ws, owner, text, true);
    },
    abort() {
      release(ws, owner, text, false);
    },
  });
}

/** See {@linkcode WebSocketConnection.sendFile}. */
export async function sendFile(
  ws: WebSocketConnection,
  path: string,
  options: WsSendFileOptions,
): Promise<number> {
  const { signal } = options;
  const text = options.text ?? false;
  const compress = options.compress !== false;
  signal?.throwIfAborted();
  const owner = claim(ws, "send a file");
  let sent = 0;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let rejectAbort!: (reason: unknown) => void;
  const aborted = new Promise<never>((_r, reject) => (rejectAbort = reject));
  aborted.catch(() => {});
  const onAbort = () => rejectAbort(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    reader = (await Promise.race([ws._host.openFile(path), aborted])).getReader();
    // One chunk read ahead, so the last one carries FIN (no empty final frame).
    let current = await Promise.race([reader.read(), aborted]);
    while (!current.done) {
      const next = await Promise.race([reader.read(), aborted]);
      while (ws.desiredSize <= 0) await Promise.race([ws.ready, aborted]);
      ws._part(owner, current.value, next.done === true, text, compress);
      sent += current.value.length;
      current = next;
    }
    release(ws, owner, text, true); // an empty file: one empty message
    return sent;
  } catch (error) {
    await reader?.cancel(error).catch(() => {});
    throw error;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    release(ws, owner, text, false);
  }
}
