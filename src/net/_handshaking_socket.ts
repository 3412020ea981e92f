/**
 * The {@linkcode Socket} a connection holds while its TLS handshake runs:
 * the plaintext socket already belongs to the TLS layer, so writes are
 * queued here and sent over TLS once the handshake is done, and a close
 * ends the handshake.
 *
 * @module
 */

import type { NetAddr, Socket, SocketHandlers } from "./types.ts";

/** Queues writes during a handshake; `close`/`abort` call `cancel`. */
export class HandshakingSocket implements Socket {
  readonly sharedChunks = false;
  readonly canReset: boolean;
  readonly remoteAddr: NetAddr;
  readonly localAddr: NetAddr;
  #queue: Uint8Array[] = [];
  #bytes = 0;
  #fin = false;
  #noDelay: boolean | undefined;
  #keepAlive: [boolean, number | undefined] | undefined;
  #cancel: () => void;
  #highWaterMark: number;

  /** Takes the addresses of `plain`; `cancel` ends the handshake. */
  constructor(plain: Socket, highWaterMark: number, cancel: () => void) {
    this.remoteAddr = plain.remoteAddr;
    this.localAddr = plain.localAddr;
    this.canReset = plain.canReset;
    this.#highWaterMark = highWaterMark;
    this.#cancel = cancel;
  }

  /** Bytes queued for after the handshake. */
  get writableLength(): number {
    return this.#bytes;
  }

  start(_handlers: SocketHandlers): void {}
  pause(): void {}
  resume(): void {}
  cork(): void {}
  uncork(): void {}

  /** Queues for after the handshake. */
  write(chunk: Uint8Array): boolean {
    if (this.#fin) return false;
    this.#queue.push(chunk);
    this.#bytes += chunk.byteLength;
    return this.#bytes < this.#highWaterMark;
  }

  /** Sends FIN after the handshake and the queue. */
  closeWrite(): void {
    this.#fin = true;
  }

  /** Ends the handshake. */
  close(): void {
    this.#cancel();
  }

  /** Ends the handshake. */
  abort(): void {
    this.#cancel();
  }

  /** Applied to the TLS socket after the handshake. */
  setNoDelay(enable: boolean): void {
    this.#noDelay = enable;
  }

  /** Applied to the TLS socket after the handshake. */
  setKeepAlive(enable: boolean, initialDelay?: number): void {
    this.#keepAlive = [enable, initialDelay];
  }

  /** Replays options, queued writes and a requested FIN on the TLS socket. */
  replay(socket: Socket): void {
    if (this.#noDelay !== undefined) socket.setNoDelay(this.#noDelay);
    if (this.#keepAlive !== undefined) socket.setKeepAlive(...this.#keepAlive);
    const queue = this.#queue;
    this.#queue = [];
    this.#bytes = 0;
    if (queue.length > 0) {
      socket.cork();
      for (const chunk of queue) socket.write(chunk);
      socket.uncork();
    }
    if (this.#fin) socket.closeWrite();
  }
}
