/**
 * Streams a file into a connection with backpressure, interruptible by an
 * AbortSignal without closing the connection (reference: SendFile, Interrupt).
 *
 * @module
 */

/** Options of `sendFile`. */
export interface SendFileOptions {
  /** Aborting stops the file; the connection stays open. */
  signal?: AbortSignal;
}

/** The part of a connection `sendFile` writes to. */
export interface FileSink {
  /** Room left in the send queue, in bytes. */
  readonly desiredSize: number;
  /** Resolves when there is room again. */
  readonly ready: Promise<void>;
  /** Queues bytes. */
  write(data: Uint8Array): boolean;
}

/** Sends the file at `path` to `sink`; resolves with the number of bytes sent. */
export async function sendFile(
  sink: FileSink,
  openFile: (path: string) => Promise<ReadableStream<Uint8Array>>,
  path: string,
  options: SendFileOptions,
): Promise<number> {
  const { signal } = options;
  signal?.throwIfAborted();
  const stream = await openFile(path);
  const reader = stream.getReader();
  let rejectAbort!: (reason: unknown) => void;
  const aborted = new Promise<never>((_r, reject) => (rejectAbort = reject));
  aborted.catch(() => {});
  const onAbort = () => {
    rejectAbort(signal?.reason);
    void reader.cancel(signal?.reason).catch(() => {});
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  let sent = 0;
  try {
    while (true) {
      const { value, done } = await reader.read();
      signal?.throwIfAborted();
      if (done) break;
      // Wait for room, but give up at once when interrupted: nothing half-sent stays queued.
      while (sink.desiredSize <= 0) await Promise.race([sink.ready, aborted]);
      sink.write(value);
      sent += value.byteLength;
    }
    return sent;
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    throw error;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    reader.releaseLock();
  }
}
