/**
 * Internal: one coarse timer per WebSocket server for every session's
 * deadlines, instead of timers per connection: the handshake time limit,
 * the heartbeat (ping after `pingInterval` of silence, drop after
 * `pongTimeout` without an answer), the message idle timeout, and the wait
 * for the peer's close frame.
 *
 * @module
 */

import type { Connection } from "../net/connection.ts";
import { ConnectionError } from "../net/errors.ts";
import type { WsHost } from "./_ws_host.ts";
import { controlFrame } from "./_ws_send.ts";
import { ACTIVE, CLOSING, CONNECTING, OPEN } from "./_ws_state.ts";
import { WebSocketConnection } from "./ws_connection.ts";

const MIN_TICK = 20;
const MAX_TICK = 1000;
const HEARTBEAT = controlFrame(9, new Uint8Array(0));

/** Periodic checks of the sessions of one server. */
export class WsSweeper {
  readonly #conns: ReadonlyMap<string, Connection>;
  readonly #host: WsHost;
  #tick = MAX_TICK;
  #timer: ReturnType<typeof setInterval> | undefined = undefined;

  /** Watches the connections of one server. */
  constructor(conns: ReadonlyMap<string, Connection>, host: WsHost) {
    this.#conns = conns;
    this.#host = host;
  }

  /** Recomputes the tick from the settings: a quarter of the shortest deadline. */
  retune(): void {
    const s = this.#host.s;
    let shortest = Math.min(s.handshakeTimeout, s.pongTimeout, this.#host.closeTimeout || Infinity);
    if (s.pingInterval > 0) shortest = Math.min(shortest, s.pingInterval);
    if (s.idleTimeout > 0) shortest = Math.min(shortest, s.idleTimeout);
    const tick = Math.max(MIN_TICK, Math.min(MAX_TICK, Math.floor(shortest / 4)));
    if (tick === this.#tick) return;
    this.#tick = tick;
    if (this.#timer !== undefined) {
      this.stop();
      this.start();
    }
  }

  /** Starts ticking (when the first connection arrives). */
  start(): void {
    if (this.#timer === undefined) this.#timer = setInterval(() => this.#sweep(), this.#tick);
  }

  /** Stops ticking (when the last connection is gone). */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sweep(): void {
    const tick = this.#tick;
    for (const conn of this.#conns.values()) {
      const ws = conn.data;
      if (!(ws instanceof WebSocketConnection)) continue;
      try {
        this.#check(ws, tick);
      } catch (error) {
        this.#host.report(error, ws);
      }
    }
  }

  #check(ws: WebSocketConnection, tick: number): void {
    const s = this.#host.s;
    const state = ws._state;
    if (state === CONNECTING) {
      if ((ws._age += tick) >= s.handshakeTimeout) ws._hs?.timeout();
      return;
    }
    const conn = ws._conn;
    if (state === CLOSING) {
      // Waiting for the peer's close frame after ours (the TCP close has its own timer).
      const limit = this.#host.closeTimeout;
      if (ws._x?.info === undefined && limit > 0 && (ws._age += tick) >= limit) {
        void conn.abort(
          new ConnectionError("ETIMEDOUT", `WebSocket ${ws.id} got no close frame within ${limit} ms`),
        );
      }
      return;
    }
    if (state !== OPEN) return;
    const received = conn.bytesReceived;
    if (received !== ws._rx) {
      ws._rx = received;
      ws._silent = 0;
      ws._pingFor = -1;
    } else if (ws._pingFor >= 0) {
      if ((ws._pingFor += tick) >= s.pongTimeout) {
        void conn.abort(
          new ConnectionError("ETIMEDOUT", `WebSocket ${ws.id} did not answer a ping within ${s.pongTimeout} ms`),
        );
        return;
      }
    } else if (s.pingInterval > 0 && (ws._silent += tick) >= s.pingInterval) {
      ws._silent = 0;
      ws._pingFor = 0;
      ws._pingAt = performance.now();
      conn.write(HEARTBEAT);
    }
    if (s.idleTimeout > 0) {
      if ((ws._flags & ACTIVE) !== 0) {
        ws._flags &= ~ACTIVE;
        ws._idle = 0;
      } else if ((ws._idle += tick) >= s.idleTimeout) void ws.close(1001, "idle timeout");
    }
  }
}
