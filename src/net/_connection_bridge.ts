/**
 * The handlers a connection gives its socket.
 *
 * @module
 */

import type { SocketHandlers } from "./types.ts";
import type { Connection } from "./connection.ts";

/** @internal Forwards a socket's callbacks to its connection. */
export class SocketBridge implements SocketHandlers {
  readonly #conn: Connection;
  /** Wraps a connection. */
  constructor(conn: Connection) {
    this.#conn = conn;
  }
  /** @internal */
  data(chunk: Uint8Array): void {
    this.#conn._data(chunk);
  }
  /** @internal */
  end(): void {
    this.#conn._end();
  }
  /** @internal */
  drain(): void {
    this.#conn._drain();
  }
  /** @internal */
  close(error?: Error): void {
    this.#conn._onClose(error);
  }
}
