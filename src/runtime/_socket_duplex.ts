/**
 * A {@linkcode Socket} as a `node:stream` `Duplex`, so that `node:tls` can
 * run over a native Deno or Bun socket (their native APIs cannot act as a
 * TLS server on an accepted connection). Backpressure holds both ways: a
 * full `push` pauses the socket, `_read` resumes it, and a `write` returning
 * false holds the callback until `drain`.
 *
 * @module
 */

import type { Socket, SocketHandlers } from "../net/types.ts";
import type { NodeEmitter } from "./_node_socket.ts";

/** `stream.Duplex`, as far as used here. */
export interface NodeDuplex extends NodeEmitter {
  push(chunk: Uint8Array | null): boolean;
  destroy(error?: Error): void;
  readonly destroyed: boolean;
}

/** `node:stream`, as far as used here. */
export interface NodeStreamModule {
  Duplex: new (options: {
    allowHalfOpen: boolean;
    read(this: NodeDuplex): void;
    write(chunk: Uint8Array, encoding: string, callback: (error?: Error | null) => void): void;
    final(callback: (error?: Error | null) => void): void;
    destroy(error: Error | null, callback: (error?: Error | null) => void): void;
  }) => NodeDuplex;
}

/** A socket that lets a new owner take over its events (the adapters' own sockets). */
export interface HandOverSocket extends Socket {
  /** Starts the socket with `handlers`, or replaces a started one's; false when closed or closing. */
  _takeOver(handlers: SocketHandlers): boolean;
}

/** True when `socket` can be handed over with `_takeOver`. */
export function canHandOver(socket: Socket): socket is HandOverSocket {
  return typeof (socket as Partial<HandOverSocket>)._takeOver === "function";
}

/**
 * Wraps `socket` (started or not) in a `Duplex`. `initial` is pushed first,
 * ahead of anything the socket delivers later. Returns undefined when the
 * socket is already closed or closing. Destroying the duplex without an
 * error closes the socket gracefully; with an error, it aborts it.
 */
export function socketDuplex(
  stream: NodeStreamModule,
  socket: HandOverSocket,
  initial?: Uint8Array,
): NodeDuplex | undefined {
  let pendingWrite: ((error?: Error | null) => void) | undefined;
  const duplex: NodeDuplex = new stream.Duplex({
    allowHalfOpen: true,
    read() {
      socket.resume();
    },
    write(chunk, _encoding, callback) {
      if (socket.write(chunk)) callback();
      else pendingWrite = callback;
    },
    final(callback) {
      socket.closeWrite();
      callback();
    },
    destroy(error, callback) {
      if (error) socket.abort();
      else socket.close();
      const pending = pendingWrite;
      pendingWrite = undefined;
      pending?.(error ?? undefined);
      callback(error);
    },
  });
  const handlers: SocketHandlers = {
    data(chunk) {
      if (!duplex.push(socket.sharedChunks ? chunk.slice() : chunk)) socket.pause();
    },
    end() {
      duplex.push(null);
    },
    drain() {
      const pending = pendingWrite;
      pendingWrite = undefined;
      pending?.();
    },
    close(error) {
      if (!duplex.destroyed) duplex.destroy(error);
    },
  };
  if (initial !== undefined && initial.byteLength > 0) duplex.push(initial);
  if (!socket._takeOver(handlers)) return undefined;
  socket.resume();
  return duplex;
}
