/**
 * Targets and clients for the proxy tests: TCP servers over the runtime
 * adapter (an echo with backpressure, a line server, a server that stops
 * reading or closes first, a PROXY-header reader) and a `ws` client whose
 * events are turned into waits with deadlines.
 */

import WebSocket from "ws";
import { getRuntime } from "../../src/runtime/mod.ts";
import type { Listener, Socket } from "../../src/net/types.ts";

const MiB = 1024 * 1024;

/** Rejects after `ms` with a message naming `what`. */
export function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** A TCP server in this process, with its accepted sockets. */
export interface TcpTarget {
  port: number;
  sockets: Set<Socket>;
  /** Resolves with each accepted socket's first bytes (for PROXY headers), in order. */
  accepted: number;
  close(): Promise<void>;
}

/** Behaviour of a test target per accepted socket. */
export type OnSocket = (socket: Socket, target: TcpTarget) => void;

/** Listens on 127.0.0.1:0 and runs `onSocket` for each connection. */
export async function tcpTarget(onSocket: OnSocket, hostname = "127.0.0.1"): Promise<TcpTarget> {
  const rt = await getRuntime();
  const sockets = new Set<Socket>();
  let listener!: Listener;
  const target: TcpTarget = {
    port: 0,
    sockets,
    accepted: 0,
    async close() {
      listener.close();
      for (const s of sockets) s.abort();
      await new Promise((r) => setTimeout(r, 10));
    },
  };
  listener = await rt.listen({ hostname, port: 0 }, (socket) => {
    target.accepted++;
    sockets.add(socket);
    onSocket(socket, target);
  });
  target.port = listener.addr.port;
  return target;
}

/** Echo with backpressure; FIN answered with FIN. */
export const echo: OnSocket = (socket, t) => {
  socket.start({
    data: (chunk) => {
      if (!socket.write(chunk.slice())) socket.pause();
    },
    drain: () => socket.resume(),
    end: () => socket.closeWrite(),
    close: () => t.sockets.delete(socket),
  });
};

/** A line server: greets with "hello\n", answers each line with "you said: LINE\n", "bye" closes. */
export const lineServer: OnSocket = (socket, t) => {
  const dec = new TextDecoder();
  const enc = new TextEncoder();
  let buf = "";
  socket.write(enc.encode("hello\n"));
  socket.start({
    data: (chunk) => {
      buf += dec.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, "");
        buf = buf.slice(nl + 1);
        if (line === "bye") {
          socket.write(enc.encode("goodbye\n"));
          socket.close();
          return;
        }
        socket.write(enc.encode(`you said: ${line}\n`));
      }
    },
    drain: () => {},
    end: () => socket.close(),
    close: () => t.sockets.delete(socket),
  });
};

/** A test WebSocket client (`ws`). */
export interface Client {
  ws: any;
  /** Everything received (binary and text) concatenated. */
  received(): Uint8Array;
  /** Messages received, with their type. */
  messages: { data: Uint8Array; binary: boolean }[];
  /** Waits until `pred` holds on the received bytes (as text) or the socket closes. */
  waitFor(
    pred: (text: string, bytes: number) => boolean,
    ms?: number,
    what?: string,
  ): Promise<string>;
  /** The close code and reason received. */
  closed: Promise<{ code: number; reason: string }>;
  /** The upgrade failure (status), when the handshake is refused. */
  refused: Promise<number>;
  /** Resolves once open; rejects when refused. */
  opened: Promise<void>;
}

/** Connects a `ws` client (no permessage-deflate) to `url`. */
export function client(url: string, protocols?: string | string[]): Client {
  const ws = new WebSocket(url, protocols, { maxPayload: 256 * MiB, perMessageDeflate: false });
  ws.binaryType = "nodebuffer";
  const chunks: Uint8Array[] = [];
  const messages: { data: Uint8Array; binary: boolean }[] = [];
  let total = 0;
  let isClosed = false;
  const waiters = new Set<() => void>();
  const wake = () => [...waiters].forEach((w) => w());
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on("close", (code: number, reason: Uint8Array) => {
      isClosed = true;
      resolve({ code, reason: new TextDecoder().decode(reason) });
      wake();
    });
  });
  let onRefused!: (status: number) => void;
  const refused = new Promise<number>((r) => (onRefused = r));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("unexpected-response", (_req: unknown, res: { statusCode: number }) => {
      onRefused(res.statusCode);
      reject(new Error(`refused with ${res.statusCode}`));
      ws.terminate?.();
    });
    ws.once("error", (e: Error) => reject(e));
  });
  opened.catch(() => {});
  ws.on("error", () => {});
  ws.on("message", (data: Uint8Array, binary: boolean) => {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    chunks.push(bytes);
    total += bytes.length;
    if (messages.length < 10_000) messages.push({ data: bytes, binary });
    wake();
  });
  const received = () => {
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  };
  return {
    ws,
    received,
    messages,
    closed,
    refused,
    opened,
    waitFor(pred, ms = 5000, what = "data") {
      const text = () => new TextDecoder().decode(received());
      return deadline(
        new Promise<string>((resolve, reject) => {
          const check = () => {
            if (pred(total < 1_000_000 ? text() : "", total)) {
              waiters.delete(check);
              resolve(total < 1_000_000 ? text() : "");
            } else if (isClosed) {
              waiters.delete(check);
              reject(
                new Error(
                  `closed while waiting for ${what}; got ${JSON.stringify(text().slice(0, 200))}`,
                ),
              );
            }
          };
          waiters.add(check);
          check();
        }),
        ms,
        `${what}; got ${total} bytes`,
      );
    },
  };
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
