/**
 * Helpers for the runtime adapter tests: engines to test, deferreds,
 * timeouts that clean up after themselves, socket event recorders, and
 * spawning real peers (python3, socat).
 */

import { spawn } from "node:child_process";
import type { Listener, ListenOptions, RuntimeAdapter, Socket } from "../../src/net/types.ts";
import { type Engine, getRuntime, runtimeName } from "../../src/runtime/mod.ts";

/** The engines worth testing here: native everywhere, plus node:net on Deno and Bun. */
export const ENGINES: Engine[] = runtimeName() === "node" ? ["native"] : ["native", "node"];

/** A label such as "deno native" for test names. */
export function label(engine: Engine): string {
  return `${runtimeName()} ${engine}`;
}

/** The adapter for an engine. */
export function runtimeFor(engine: Engine): Promise<RuntimeAdapter> {
  return getRuntime({ engine });
}

/** A promise with its resolve/reject functions. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** Creates a {@linkcode Deferred}. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects when `promise` takes longer than `ms`; always clears its timer. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Concatenates chunks. */
export function concat(chunks: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const chunk of chunks) size += chunk.byteLength;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** Reads a stream to its end. */
export async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of readable) chunks.push(chunk);
  return concat(chunks);
}

/** Deterministic pseudo-random bytes. */
export function pattern(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** What a {@linkcode record}ed socket saw. */
export interface Recording {
  socket: Socket;
  chunks: Uint8Array[];
  received(): Uint8Array;
  bytes: number;
  ended: Promise<void>;
  closed: Promise<Error | undefined>;
  drains: number;
  drained: () => Promise<void>;
}

/** Starts `socket` with handlers that record everything (chunks copied). */
export function record(socket: Socket, keepChunks = true): Recording {
  const ended = deferred();
  const closed = deferred<Error | undefined>();
  let drain = deferred();
  const rec: Recording = {
    socket,
    chunks: [],
    received: () => concat(rec.chunks),
    bytes: 0,
    ended: ended.promise,
    closed: closed.promise,
    drains: 0,
    drained: () => drain.promise,
  };
  socket.start({
    data(chunk) {
      rec.bytes += chunk.byteLength;
      if (keepChunks) rec.chunks.push(chunk.slice());
    },
    end: () => ended.resolve(),
    drain() {
      rec.drains++;
      drain.resolve();
      drain = deferred();
    },
    close: (error) => closed.resolve(error),
  });
  return rec;
}

/** A listener plus the sockets it accepted. */
export interface Server {
  listener: Listener;
  accepted: Socket[];
  next(): Promise<Socket>;
}

/** Listens and queues accepted sockets (unstarted) for {@linkcode Server.next}. */
export async function listen(runtime: RuntimeAdapter, options: ListenOptions): Promise<Server> {
  const accepted: Socket[] = [];
  const waiting: Deferred<Socket>[] = [];
  let index = 0;
  const listener = await runtime.listen(options, (socket) => {
    accepted.push(socket);
    waiting.shift()?.resolve(socket);
  });
  return {
    listener,
    accepted,
    next() {
      if (index < accepted.length) return Promise.resolve(accepted[index++]!);
      const d = deferred<Socket>();
      waiting.push(d);
      index++;
      return within(d.promise, 5000, "accept");
    },
  };
}

/** A connected pair over loopback: `server` (accepted) and `client`. */
export async function pair(
  runtime: RuntimeAdapter,
  hostname = "127.0.0.1",
  dial = hostname,
): Promise<{ listener: Listener; server: Socket; client: Socket }> {
  const srv = await listen(runtime, { hostname, port: 0 });
  try {
    const client = await runtime.connect({ hostname: dial, port: srv.listener.addr.port });
    const server = await srv.next();
    return { listener: srv.listener, server, client };
  } catch (err) {
    srv.listener.close();
    throw err;
  }
}

/**
 * A connected pair on `runtime` (listener closed), both ends recorded;
 * `keepServer`/`keepClient` as `keepChunks` of {@linkcode record}.
 */
export async function recordedPair(
  runtime: RuntimeAdapter,
  keepServer = true,
  keepClient = true,
): Promise<{ server: Recording; client: Recording }> {
  const { listener, server, client } = await pair(runtime);
  listener.close();
  return { server: record(server, keepServer), client: record(client, keepClient) };
}

/** Aborts sockets (if still open) and waits for their `close`. */
export async function release(...recordings: Recording[]): Promise<void> {
  for (const r of recordings) r.socket.abort();
  await within(Promise.all(recordings.map((r) => r.closed)), 5000, "sockets to close");
}

/** Result of a spawned process. */
export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program with optional stdin; kills it after `timeoutMs`. */
export function run(
  command: string,
  args: string[],
  input?: Uint8Array,
  timeoutMs = 20000,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Uint8Array[] = [];
    const err: Uint8Array[] = [];
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout!.on("data", (c: Uint8Array) => out.push(c));
    child.stderr!.on("data", (c: Uint8Array) => err.push(c));
    child.on("error", (e: Error) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code: number | null) => {
      clearTimeout(timer);
      const decoder = new TextDecoder();
      resolve({ code, stdout: decoder.decode(concat(out)), stderr: decoder.decode(concat(err)) });
    });
    if (input !== undefined) child.stdin!.end(input);
    else child.stdin!.end();
  });
}

/** Process resident set size in bytes. */
export function rss(): number {
  return (globalThis as any).process.memoryUsage().rss as number;
}

/** An echo server built on socketToStreams; `settled()` waits for every accepted socket to close. */
export async function echoServer(
  runtime: RuntimeAdapter,
  options: ListenOptions,
): Promise<{ listener: Listener; sockets: Socket[]; settled(): Promise<unknown> }> {
  const { socketToStreams } = await import("../../src/net/socket_streams.ts");
  const closings: Promise<Error | undefined>[] = [];
  const sockets: Socket[] = [];
  const listener = await runtime.listen(options, (socket) => {
    sockets.push(socket);
    const { readable, writable, closed } = socketToStreams(socket);
    closings.push(closed);
    readable.pipeTo(writable).catch(() => {});
  });
  return {
    listener,
    sockets,
    settled: () => within(Promise.all(closings), 5000, "server sockets to close"),
  };
}

/** Connects, sends `data`, half-closes, and returns everything read until the peer's FIN. */
export async function echoOnce(
  runtime: RuntimeAdapter,
  hostname: string,
  port: number,
  data: Uint8Array,
): Promise<{ echoed: Uint8Array; socket: Socket }> {
  const { socketToStreams } = await import("../../src/net/socket_streams.ts");
  const socket = await runtime.connect({ hostname, port });
  const { readable, writable, closed } = socketToStreams(socket);
  const reading = readAll(readable);
  const writer = writable.getWriter();
  await writer.write(data);
  await writer.close();
  const echoed = await within(reading, 5000, "echo");
  await within(closed, 5000, "client socket to close");
  return { echoed, socket };
}

/** True when `promise` settles within `ms` (its timer is always cleared). */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Writes `chunk` repeatedly, honouring `write() === false` / `drain`, until
 * `limit` bytes were accepted or no `drain` came for `stallMs`. Returns the
 * bytes accepted and the largest `writableLength` seen.
 */
export async function blast(
  rec: Recording,
  limit: number,
  stallMs: number,
  chunk = new Uint8Array(65536),
): Promise<{ accepted: number; stalled: boolean; maxQueued: number }> {
  let accepted = 0;
  let maxQueued = 0;
  while (accepted < limit) {
    const drained = rec.drained();
    const ok = rec.socket.write(chunk);
    accepted += chunk.byteLength;
    maxQueued = Math.max(maxQueued, rec.socket.writableLength);
    if (!ok && !(await settlesWithin(drained, stallMs))) {
      return { accepted, stalled: true, maxQueued };
    }
  }
  return { accepted, stalled: false, maxQueued };
}
