/**
 * A ReadableStream fed by pushes, whose pull and cancel are forwarded: the
 * glue between a socket's data callback and a web stream with backpressure.
 *
 * @module
 */

/** The producer side of {@linkcode pushReadable}. */
export interface PushSource<T> {
  /** The stream consumers read. */
  readonly stream: ReadableStream<T>;
  /** Enqueues; returns false when the queue is full (the producer should pause). */
  push(chunk: T): boolean;
  /** Ends the stream (no-op when already ended). */
  close(): void;
  /** Errors the stream (no-op when already ended). */
  error(reason: unknown): void;
  /** True once closed, errored or cancelled. */
  readonly done: boolean;
  /** What waits in the stream's queue, unread (chunks, or bytes with a `size` strategy). */
  readonly queued: number;
}

/** Callbacks of {@linkcode pushReadable}. */
export interface PushHooks {
  /** The consumer wants more: resume the producer. */
  pull(): void;
  /** The consumer cancelled the stream. */
  cancel(reason: unknown): void;
}

/** Creates a push-fed ReadableStream with `highWaterMark` counted in chunks or by `size`. */
export function pushReadable<T>(
  hooks: PushHooks,
  strategy: QueuingStrategy<T>,
): PushSource<T> {
  let controller!: ReadableStreamDefaultController<T>;
  let done = false;
  const stream = new ReadableStream<T>({
    start(c) {
      controller = c;
    },
    pull() {
      if (!done) hooks.pull();
    },
    cancel(reason) {
      done = true;
      hooks.cancel(reason);
    },
  }, strategy);
  return {
    stream,
    push(chunk: T): boolean {
      if (done) return false;
      controller.enqueue(chunk);
      return (controller.desiredSize ?? 0) > 0;
    },
    close() {
      if (done) return;
      done = true;
      controller.close();
    },
    error(reason: unknown) {
      if (done) return;
      done = true;
      controller.error(reason);
    },
    get done() {
      return done;
    },
    get queued() {
      return done ? 0 : Math.max(0, (strategy.highWaterMark ?? 1) - (controller.desiredSize ?? 0));
    },
  };
}
