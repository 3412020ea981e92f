/**
 * Internal: pings waiting for their pong (reference: Ping method "waits for
 * a corresponding Pong"). A pong answers the ping with the same payload
 * and, as RFC 6455 §5.5.3 allows answering only the latest ping, every
 * earlier one too. A timer exists only while a ping waits.
 *
 * @module
 */

import { ConnectionError } from "../net/errors.ts";

interface Pending {
  payload: Uint8Array;
  at: number;
  resolve(ms: number): void;
  reject(error: unknown): void;
  timer: ReturnType<typeof setTimeout>;
}

let counter = 0;

/** A fresh 4-byte payload, unique within the process. */
export function nextPingPayload(): Uint8Array {
  counter = (counter + 1) >>> 0;
  return new Uint8Array([counter >>> 24, (counter >>> 16) & 255, (counter >>> 8) & 255, counter & 255]);
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The pings of one connection still waiting for a pong. */
export class PendingPings {
  #list: Pending[] = [];

  /** Number of pings waiting. */
  get size(): number {
    return this.#list.length;
  }

  /**
   * Registers a ping just sent; resolves with the round-trip time in
   * milliseconds, or rejects with `ETIMEDOUT` after `timeout` ms.
   */
  add(payload: Uint8Array, timeout: number, id: string): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const entry: Pending = {
        payload,
        at: performance.now(),
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.#list.indexOf(entry);
          if (i >= 0) this.#list.splice(i, 1);
          reject(new ConnectionError("ETIMEDOUT", `WebSocket ${id} got no pong within ${timeout} ms`));
        }, timeout),
      };
      this.#list.push(entry);
    });
  }

  /** A pong arrived: resolves its ping and the earlier ones; returns its round-trip time. */
  pong(payload: Uint8Array): number | undefined {
    const list = this.#list;
    const i = list.findIndex((p) => same(p.payload, payload));
    if (i < 0) return undefined;
    const now = performance.now();
    const done = list.splice(0, i + 1);
    for (const p of done) {
      clearTimeout(p.timer);
      p.resolve(now - p.at);
    }
    return now - done[i].at;
  }

  /** The connection closed: every waiting ping rejects with `error`. */
  rejectAll(error: Error): void {
    const list = this.#list;
    this.#list = [];
    for (const p of list) {
      clearTimeout(p.timer);
      p.reject(error);
    }
  }
}
