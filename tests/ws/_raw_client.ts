/**
 * A raw-socket WebSocket test client over the runtime adapter's `connect`:
 * it does the opening handshake by hand, then sends any bytes (broken
 * frames, unmasked, fragmented, byte by byte) and records every frame the
 * server sends, decoded with our decoder in client mode (unmasked frames).
 */

import assert from "node:assert/strict";
import { getRuntime } from "../../src/runtime/mod.ts";
import type { Socket } from "../../src/net/types.ts";
import { FrameDecoderCore } from "../../src/ws/frame_decoder_core.ts";
import { cat, frame, type RefFrame } from "./_frames.ts";

export { cat, frame, type RefFrame };

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A frame received from the server. */
export interface RawFrame {
  opcode: number;
  fin: boolean;
  rsv1: boolean;
  payload: Uint8Array;
}

/** Options of {@linkcode openWs}. */
export interface OpenWsOptions {
  path?: string;
  /** Extra request header lines. */
  headers?: Record<string, string>;
  protocols?: string[];
  hostname?: string;
  /** Expected status (default 101; anything else resolves without frames). */
  status?: number;
}

/** A connected raw client. */
export interface RawClient {
  socket: Socket;
  /** Response status and head text. */
  status: number;
  head: string;
  responseHeaders: Headers;
  /** Bytes after the response head for a non-101 answer (the body). */
  body(): string;
  /** Sends bytes as they are. */
  send(bytes: Uint8Array | string): void;
  /** Sends built frames (masked by default) in one write. */
  sendFrames(...frames: RefFrame[]): void;
  /** Sends `bytes` in writes of `size` bytes, waiting `pauseMs` between them (0: no wait). */
  sendChopped(bytes: Uint8Array, size: number, pauseMs?: number): Promise<void>;
  /** Every frame received so far. */
  frames: RawFrame[];
  /** The next unread frame (default 5 s). */
  nextFrame(ms?: number): Promise<RawFrame>;
  /** Reads frames up to the next close frame; resolves with its code (undefined when empty) and reason. */
  closeFrame(ms?: number): Promise<{ code: number | undefined; reason: string; before: RawFrame[] }>;
  /** Resolves when the TCP connection is closed. */
  closed: Promise<string | undefined>;
  /** True once the TCP connection is closed. */
  isClosed(): boolean;
  close(): void;
  abort(): void;
}

function requestHead(port: number, o: OpenWsOptions, key: string): string {
  let s = `GET ${o.path ?? "/"} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
    `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n`;
  if (o.protocols) s += `Sec-WebSocket-Protocol: ${o.protocols.join(", ")}\r\n`;
  for (const [k, v] of Object.entries(o.headers ?? {})) s += `${k}: ${v}\r\n`;
  return s + "\r\n";
}

/** Connects, sends an upgrade request and waits for the response head. */
export async function openWs(port: number, options: OpenWsOptions = {}): Promise<RawClient> {
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const c = await connectRaw(port, options.hostname);
  c.send(requestHead(port, options, key));
  await c.headDone;
  const client = c.client;
  const want = options.status ?? 101;
  assert.equal(client.status, want, `handshake status: ${client.head}`);
  return client;
}

interface Pending {
  client: RawClient;
  headDone: Promise<void>;
  send(s: string): void;
}

/** Connects without sending anything; the caller writes the request. */
export async function connectRaw(port: number, hostname = "127.0.0.1"): Promise<Pending> {
  const rt = await getRuntime();
  const socket = await rt.connect({ hostname, port });
  socket.setNoDelay(true);
  // allowRsv1: compressed frames of a permessage-deflate session (RFC 7692).
  const decoder = new FrameDecoderCore({ requireMask: false, allowRsv1: true, maxFrameSize: Number.MAX_SAFE_INTEGER });
  let buffered: Uint8Array = new Uint8Array(0);
  let headText: string | undefined;
  let bodyBytes: Uint8Array = new Uint8Array(0);
  let closedFlag = false;
  let resolveHead!: () => void;
  let rejectHead!: (e: Error) => void;
  const headDone = new Promise<void>((r, j) => ((resolveHead = r), (rejectHead = j)));
  let resolveClosed!: (code: string | undefined) => void;
  const closed = new Promise<string | undefined>((r) => (resolveClosed = r));
  const frames: RawFrame[] = [];
  let cursor = 0;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  const emit = (payload: Uint8Array, opcode: number, fin: boolean, rsv1: boolean) => {
    frames.push({ opcode, fin, rsv1, payload: payload.slice() });
  };
  const client: RawClient = {
    socket,
    status: 0,
    head: "",
    responseHeaders: new Headers(),
    body: () => dec.decode(bodyBytes),
    send(bytes) {
      socket.write(typeof bytes === "string" ? enc.encode(bytes) : bytes);
    },
    sendFrames(...fs) {
      socket.write(cat(...fs.map(frame)));
    },
    async sendChopped(bytes, size, pauseMs = 0) {
      for (let at = 0; at < bytes.length; at += size) {
        socket.write(bytes.slice(at, at + size));
        if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
      }
    },
    frames,
    nextFrame(ms = 5000) {
      return waitFor(() => cursor < frames.length ? frames[cursor++] : undefined, ms, "a frame");
    },
    async closeFrame(ms = 5000) {
      const before: RawFrame[] = [];
      for (;;) {
        const f = await client.nextFrame(ms);
        if (f.opcode !== 8) {
          before.push(f);
          continue;
        }
        const p = f.payload;
        return {
          code: p.length >= 2 ? (p[0] << 8) | p[1] : undefined,
          reason: dec.decode(p.subarray(2)),
          before,
        };
      }
    },
    closed,
    isClosed: () => closedFlag,
    close: () => socket.close(),
    abort: () => socket.abort(),
  };
  function waitFor<T>(get: () => T | undefined, ms: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const v = get();
        if (v !== undefined) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(v);
          return true;
        }
        if (closedFlag) {
          waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`connection closed while waiting for ${what}; frames: ${describe(frames)}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}; frames: ${describe(frames)}`));
      }, ms);
      if (!check()) waiters.add(check);
    });
  }
  const onBytes = (chunk: Uint8Array) => {
    if (headText === undefined) {
      buffered = cat(buffered, chunk);
      const end = findHeadEnd(buffered);
      if (end < 0) return;
      headText = dec.decode(buffered.subarray(0, end));
      client.head = headText;
      client.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(headText)?.[1] ?? 0);
      for (const line of headText.split("\r\n").slice(1)) {
        const i = line.indexOf(":");
        if (i > 0) client.responseHeaders.append(line.slice(0, i), line.slice(i + 1).trim());
      }
      const rest = buffered.slice(end);
      buffered = new Uint8Array(0);
      resolveHead();
      if (client.status !== 101) bodyBytes = rest;
      else if (rest.length > 0) decoder.push(rest, emit);
      return;
    }
    if (client.status !== 101) bodyBytes = cat(bodyBytes, chunk);
    else decoder.push(chunk, emit);
  };
  socket.start({
    data(chunk) {
      onBytes(chunk.slice());
      wake();
    },
    end() {
      socket.close();
    },
    drain() {},
    close(error) {
      closedFlag = true;
      if (headText === undefined) rejectHead(new Error(`closed before a response: ${dec.decode(buffered)}`));
      resolveClosed((error as { code?: string } | undefined)?.code);
      wake();
    },
  });
  headDone.catch(() => {});
  return {
    client,
    headDone,
    send: (s: string) => socket.write(enc.encode(s)),
  };
}

function findHeadEnd(b: Uint8Array): number {
  for (let i = 3; i < b.length; i++) {
    if (b[i] === 10 && b[i - 1] === 13 && b[i - 2] === 10 && b[i - 3] === 13) return i + 1;
  }
  return -1;
}

function describe(frames: RawFrame[]): string {
  return JSON.stringify(frames.slice(-8).map((f) => [f.opcode, f.fin, f.payload.length]));
}

/** Text of a frame's payload. */
export function text(f: RawFrame): string {
  return dec.decode(f.payload);
}

/** Bytes of a latin1 or UTF-8 string (strings with chars > 0xff are UTF-8). */
export function utf8(s: string): Uint8Array {
  return enc.encode(s);
}

/** Bytes from hex pairs ("ce ba e1"). */
export function hex(s: string): Uint8Array {
  const parts = s.replace(/\s+/g, "");
  const out = new Uint8Array(parts.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(parts.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * Reads frames until a close frame and the TCP close: asserts the close
 * code is one of `codes` (undefined = empty close payload) and returns the
 * data frames that came before it.
 */
export async function expectClose(
  c: RawClient,
  codes: (number | undefined)[],
  ms = 5000,
): Promise<RawFrame[]> {
  const { code, before } = await c.closeFrame(ms);
  assert.ok(codes.includes(code), `close code ${code}, expected one of ${codes.join(", ")}`);
  await withTimeout(c.closed, ms, "the server to close TCP");
  return before;
}

/** Waits for `p` at most `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
