/**
 * One coarse timer per server that checks idle and write timeouts of every
 * connection, instead of a timer per connection.
 *
 * @module
 */

import type { Connection } from "./connection.ts";

const MIN_TICK = 20;
const MAX_TICK = 1000;

/** Periodic idle/write timeout checks. */
export class Sweeper {
  #conns: Map<string, Connection>;
  #tick = MAX_TICK;
  #timer: ReturnType<typeof setInterval> | undefined;
  #wanted = false;

  /** Watches the connections of one server. */
  constructor(conns: Map<string, Connection>) {
    this.#conns = conns;
  }

  /** A timeout of `ms` is in use somewhere: make the tick fine enough (a quarter of it). */
  want(ms: number): void {
    if (ms <= 0) return;
    this.#wanted = true;
    const tick = Math.max(MIN_TICK, Math.min(MAX_TICK, Math.floor(ms / 4)));
    if (tick < this.#tick) {
      this.#tick = tick;
      if (this.#timer !== undefined) {
        this.stop();
        this.start();
      }
    } else if (this.#timer === undefined && this.#conns.size > 0) this.start();
  }

  /** Starts ticking if any timeout is in use. */
  start(): void {
    if (!this.#wanted || this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.#sweep(), this.#tick);
  }

  /** Stops ticking. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sweep(): void {
    const tick = this.#tick;
    for (const c of this.#conns.values()) {
      if (c._touched) {
        c._touched = false;
        c._idleFor = 0;
      } else c._idleFor += tick;
      if (c.idleTimeout > 0 && c._idleFor >= c.idleTimeout) {
        c._timeout("idle");
        continue;
      }
      if (c.writeTimeout > 0 && c.writableLength > 0) {
        const flushed = c._flushed;
        if (flushed > c._flushedAtSweep) c._stalledFor = 0;
        else c._stalledFor += tick;
        c._flushedAtSweep = flushed;
        if (c._stalledFor >= c.writeTimeout) c._timeout("write");
      } else c._stalledFor = 0;
    }
  }
}
