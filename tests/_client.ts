/**
 * A small test client over the runtime adapter's `connect`: collects what it
 * receives and waits for conditions with a deadline.
 */

import { getRuntime } from "../src/runtime/mod.ts";
import type { Socket } from "../src/net/types.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A connected test client. */
export interface TestClient {
  socket: Socket;
  /** Everything received so far. */
  received(): Uint8Array;
  /** Received bytes as text. */
  text(): string;
  /** Sends a string or bytes. */
  send(data: string | Uint8Array): void;
  /** Waits until `pred(text)` holds (default 3 s); throws with what was received otherwise. */
  waitFor(pred: (text: string, bytes: number) => boolean, ms?: number): Promise<string>;
  /** Waits until `n` bytes have arrived (no decoding: for megabytes); throws after `ms`. */
  waitForBytes(n: number, ms?: number): Promise<void>;
  /** Resolves when the server closed the connection (EOF or reset); value is the error code, if any. */
  closed: Promise<string | undefined>;
  /** True after the peer's FIN. */
  ended(): boolean;
  close(): void;
  abort(): void;
}

/** Connects to `port` on `hostname`. */
export async function connectClient(port: number, hostname = "127.0.0.1"): Promise<TestClient> {
  const rt = await getRuntime();
  const socket = await rt.connect({ hostname, port });
  const chunks: Uint8Array[] = [];
  let total = 0;
  let ended = false;
  let resolveClosed!: (code: string | undefined) => void;
  const closed = new Promise<string | undefined>((r) => (resolveClosed = r));
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  socket.start({
    data(chunk) {
      chunks.push(socket.sharedChunks ? chunk.slice() : chunk);
      total += chunk.length;
      wake();
    },
    end() {
      ended = true;
      wake();
      socket.close();
    },
    drain() {},
    close(error) {
      ended = true;
      resolveClosed((error as { code?: string } | undefined)?.code);
      wake();
    },
  });
  const received = () => {
    const out = new Uint8Array(total);
    let o = 0;
    for (const c of chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  };
  return {
    socket,
    received,
    text: () => dec.decode(received()),
    send(data) {
      socket.write(typeof data === "string" ? enc.encode(data) : data);
    },
    waitFor(pred, ms = 3000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const t = dec.decode(received());
          if (pred(t, total)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(t);
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `timed out after ${ms} ms; received ${
                JSON.stringify(dec.decode(received()).slice(0, 500))
              }`,
            ),
          );
        }, ms);
        if (!check()) waiters.add(check);
      });
    },
    waitForBytes(n, ms = 3000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (total < n) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${ms} ms with ${total} of ${n} bytes`));
        }, ms);
        if (!check()) waiters.add(check);
      });
    },
    closed,
    ended: () => ended,
    close: () => socket.close(),
    abort: () => socket.abort(),
  };
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` every 10 ms until true or `ms` passes. */
export async function until(cond: () => boolean, ms = 3000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}
