/**
 * Web streams over a {@linkcode Socket}, with backpressure both ways: when
 * nobody reads, the socket is paused and TCP flow control stops the peer;
 * when the socket's write queue is full, `write()` waits for `drain`.
 *
 * @module
 */

import type { Socket } from "./types.ts";

/** Options for {@linkcode socketToStreams}. */
export interface SocketStreamsOptions {
  /**
   * Bytes the readable side queues before the socket is paused.
   * @default 65536
   */
  readableHighWaterMark?: number;
  /**
   * Bytes the writable side queues (in the `WritableStream`, before the
   * socket's own queue) before `writer.ready` waits.
   * @default 16384
   */
  writableHighWaterMark?: number;
}

/** The two stream halves of one connection. */
export interface SocketStreams {
  /** Bytes from the peer; ends at the peer's FIN, errors when the connection fails. */
  readable: ReadableStream<Uint8Array>;
  /**
   * Bytes to the peer. `close()` sends FIN (half close) after the queued
   * bytes, `abort()` resets the connection. Chunks are kept by reference
   * until they are sent: do not modify them after writing.
   */
  writable: WritableStream<Uint8Array>;
  /**
   * Settles when the socket is fully closed, with the error that closed it
   * (never rejects).
   */
  closed: Promise<Error | undefined>;
}

function checkHighWaterMark(value: number | undefined, fallback: number, name: string): number {
  const hwm = value ?? fallback;
  if (typeof hwm !== "number" || !Number.isInteger(hwm) || hwm < 0) {
    throw new RangeError(
      `Cannot create socket streams as ${name} must be a non-negative integer: current value is ${
        String(hwm)
      }`,
    );
  }
  return hwm;
}

function closedError(): Error {
  const error = new Error("Cannot write as the connection is closed") as Error & { code: string };
  error.code = "EPIPE";
  return error;
}

// Non-byte chunks count as 1 so that write() sees them and throws a TypeError.
const byteSize = (chunk: Uint8Array): number => chunk instanceof Uint8Array ? chunk.byteLength : 1;

/**
 * Builds a `ReadableStream`/`WritableStream` pair on `socket` and starts it
 * (`socket.start` is called here, so this replaces the hot-path handlers).
 * Chunks are copied only when the socket's chunks are borrowed
 * (`sharedChunks`) and it cannot give their buffer away (`keepChunk`). When both halves are done (readable ended or cancelled,
 * writable closed), the socket is closed gracefully.
 *
 * @example Echo one connection
 * ```ts ignore
 * import { socketToStreams } from "./socket_streams.ts";
 *
 * const { readable, writable } = socketToStreams(socket);
 * await readable.pipeTo(writable); // FIN back when the peer sends FIN
 * ```
 */
export function socketToStreams(socket: Socket, options: SocketStreamsOptions = {}): SocketStreams {
  const readableHwm = checkHighWaterMark(
    options.readableHighWaterMark,
    65536,
    "readableHighWaterMark",
  );
  const writableHwm = checkHighWaterMark(
    options.writableHighWaterMark,
    16384,
    "writableHighWaterMark",
  );
  const copy = socket.sharedChunks;
  let readController!: ReadableStreamDefaultController<Uint8Array>;
  let writeController!: WritableStreamDefaultController;
  let readDone = false;
  let writeDone = false;
  let socketClosed = false;
  let waiter: { resolve: () => void; reject: (error: Error) => void } | undefined;
  let settleClosed!: (error: Error | undefined) => void;
  const closed = new Promise<Error | undefined>((resolve) => {
    settleClosed = resolve;
  });

  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      readController = controller;
    },
    pull() {
      if (!readDone) socket.resume();
    },
    cancel() {
      readDone = true;
      socket.pause();
      if (writeDone) socket.close();
    },
  }, { highWaterMark: readableHwm, size: byteSize });

  const writable = new WritableStream<Uint8Array>({
    start(controller) {
      writeController = controller;
    },
    write(chunk) {
      if (!(chunk instanceof Uint8Array)) {
        throw new TypeError(
          `Cannot write to the socket as chunks must be Uint8Array: current value is ${typeof chunk}`,
        );
      }
      if (socketClosed) throw closedError();
      if (socket.write(chunk)) return;
      return new Promise<void>((resolve, reject) => {
        waiter = { resolve, reject };
      });
    },
    close() {
      writeDone = true;
      socket.closeWrite();
      if (readDone) socket.close();
    },
    abort() {
      writeDone = true;
      socket.abort();
    },
  }, { highWaterMark: writableHwm, size: byteSize });

  socket.start({
    data(chunk) {
      if (readDone) return;
      readController.enqueue(copy ? socket.keepChunk?.(chunk) ?? chunk.slice() : chunk);
      if ((readController.desiredSize ?? 0) <= 0) socket.pause();
    },
    end() {
      if (readDone) return;
      readDone = true;
      readController.close();
      if (writeDone) socket.close();
    },
    drain() {
      const pending = waiter;
      waiter = undefined;
      pending?.resolve();
    },
    close(error) {
      socketClosed = true;
      if (!readDone) {
        readDone = true;
        if (error === undefined) readController.close();
        else readController.error(error);
      }
      const pending = waiter;
      waiter = undefined;
      pending?.reject(error ?? closedError());
      if (!writeDone) writeController.error(error ?? closedError());
      settleClosed(error);
    },
  });

  return { readable, writable, closed };
}
