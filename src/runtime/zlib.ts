/**
 * The permessage-deflate {@linkcode DeflateEngine} over `node:zlib`, loaded
 * with `process.getBuiltinModule` (Node 20.16+, Deno, Bun).
 *
 * The web `CompressionStream` cannot sync-flush, and `node:zlib`'s public
 * API is either one-shot (`deflateRawSync`: no context between messages)
 * or asynchronous (streams: every message waits for the thread pool, which
 * costs 10-40 µs and fragments memory under many concurrent operations,
 * ws#1202). So each connection's zlib stream is driven synchronously
 * through `_processChunk`, the routine `deflateRawSync` itself uses, with
 * the stream kept open across messages. That routine is internal but has
 * the same shape in Node, Deno and Bun; {@linkcode zlibEngine} checks it with
 * a round trip and reports `NotSupportedError` where it does not work, and
 * the server then declines permessage-deflate.
 *
 * @module
 */

import type {
  DeflateEngine,
  Deflater,
  DeflaterSettings,
  Inflater,
  InflaterSettings,
} from "../ws/deflate_engine.ts";
import { builtin } from "./_builtin.ts";
import { NotSupportedError } from "./errors.ts";

/** The parts of a `node:zlib` stream this file uses. */
interface ZlibHandle {
  close(): void;
}
interface ZlibStream {
  _handle: ZlibHandle | null;
  _maxOutputLength: number;
  _processChunk(chunk: Uint8Array, flush: number): Uint8Array;
  reset(): void;
  destroy(): void;
  on(event: "error", fn: (error: unknown) => void): unknown;
  removeAllListeners(event: "error"): unknown;
}
interface ZlibOptions {
  windowBits?: number;
  memLevel?: number;
  level?: number;
  chunkSize?: number;
}
/** The parts of `node:zlib` the engine uses. */
export interface ZlibModule {
  createDeflateRaw(options: ZlibOptions): ZlibStream;
  createInflateRaw(options: ZlibOptions): ZlibStream;
  constants: { Z_SYNC_FLUSH: number };
}

/**
 * Output buffer of each zlib stream in bytes (Node's default is 16 KiB): it
 * is allocated per stream, so a small one keeps idle connections small.
 * Results up to this size are copied out of it; larger ones are fresh.
 */
const CHUNK = 4096;
/** Tails up to this many compressed bytes are joined with the tail in one call. */
const JOIN_UP_TO = 4096;
const TAIL = new Uint8Array([0, 0, 0xff, 0xff]);
const noop = () => {};

/** The error `_processChunk` throws past `_maxOutputLength`. */
function tooLarge(error: unknown): boolean {
  return (error as { code?: unknown })?.code === "ERR_BUFFER_TOO_LARGE";
}

/** Owns the zlib stream of one deflater or inflater. */
class Stream {
  readonly z: ZlibStream;
  readonly flush: number;
  broken = false;

  constructor(z: ZlibStream, flush: number) {
    this.z = z;
    this.flush = flush;
    z.on("error", noop); // a failed call also emits 'error' later
  }

  /**
   * Runs `chunk` through zlib synchronously with a sync flush. The internal
   * routine closes the native handle when done (it is meant for one-shot
   * use) and leaves an 'error' listener behind: the close is skipped and
   * the listeners reset, so the stream and its window live on.
   */
  run(chunk: Uint8Array): Uint8Array {
    const z = this.z;
    const h = z._handle;
    if (h === null || this.broken) throw new Error("The zlib stream is closed");
    const close = h.close;
    h.close = noop;
    try {
      return z._processChunk(chunk, this.flush);
    } catch (error) {
      this.broken = true;
      throw error;
    } finally {
      h.close = close;
      z._handle = h;
      z.removeAllListeners("error");
      z.on("error", noop);
    }
  }

  close(): void {
    const z = this.z;
    const h = z._handle;
    z._handle = null;
    try {
      h?.close();
    } catch {
      // already closed by zlib after an error
    }
    z.destroy();
  }
}

class ZlibDeflater implements Deflater {
  readonly #s: Stream;
  readonly #reset: boolean;
  /** The previous piece's 00 00 ff ff was held back (a message sent in pieces). */
  #held = false;
  /** Bytes of the current message were returned already. */
  #begun = false;
  constructor(s: Stream, reset: boolean) {
    this.#s = s;
    this.#reset = reset;
  }
  deflate(data: Uint8Array, end = true): Uint8Array {
    const s = this.#s;
    let out = s.run(data);
    if (end && this.#reset) s.z.reset();
    const n = out.length;
    // §7.2.1: the message's compressed data loses its final 00 00 ff ff. A
    // piece's tail is held back, so that it is sent with the next piece or,
    // when the message ends without more output, never.
    const tail = n >= 4 && out[n - 4] === 0 && out[n - 3] === 0 && out[n - 2] === 0xff &&
      out[n - 1] === 0xff;
    if (tail) out = out.subarray(0, n - 4);
    let result: Uint8Array;
    if (n === 0) {
      // Nothing new (an empty piece right after a flush). An empty message
      // still needs a block header before the tail the peer appends: a
      // single 0x00 (RFC 7692 §7.2.3.6).
      result = end && !this.#begun ? new Uint8Array(1) : out;
    } else {
      result = this.#held ? concat(TAIL, out) : owned(out);
      this.#held = !end && tail;
    }
    if (end) this.#held = this.#begun = false;
    else if (result.length > 0) this.#begun = true;
    return result;
  }
  close(): void {
    this.#s.close();
  }
}

class ZlibInflater implements Inflater {
  readonly #s: Stream;
  readonly #reset: boolean;
  constructor(s: Stream, reset: boolean) {
    this.#s = s;
    this.#reset = reset;
  }
  inflate(data: Uint8Array, end: boolean, maxOutput: number): Uint8Array | undefined {
    const s = this.#s;
    const z = s.z;
    let out: Uint8Array;
    try {
      if (end && data.length <= JOIN_UP_TO) {
        // §7.2.2: append 00 00 ff ff, in one call for small tails.
        const joined = new Uint8Array(data.length + 4);
        joined.set(data);
        joined.set(TAIL, data.length);
        z._maxOutputLength = maxOutput;
        out = s.run(joined);
      } else {
        z._maxOutputLength = maxOutput;
        out = data.length === 0 ? new Uint8Array(0) : s.run(data);
        if (end) {
          z._maxOutputLength = maxOutput - out.length;
          const rest = s.run(TAIL);
          if (rest.length > 0) out = concat(out, rest);
        }
      }
    } catch (error) {
      if (tooLarge(error)) return undefined;
      throw error;
    }
    if (end && this.#reset) z.reset();
    return owned(out);
  }
  close(): void {
    this.#s.close();
  }
}

/**
 * A plain `Uint8Array` the caller owns: results up to {@linkcode CHUNK} bytes
 * may be views of the stream's reused output buffer, so they are copied
 * (`new Uint8Array(x)` copies; a `Buffer`'s `slice` would not); larger ones
 * were joined into a fresh buffer and are only re-typed.
 */
function owned(out: Uint8Array): Uint8Array {
  return out.length <= CHUNK
    ? new Uint8Array(out)
    : new Uint8Array(out.buffer, out.byteOffset, out.length);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

let engine: DeflateEngine | NotSupportedError | undefined;

/**
 * The `node:zlib` engine, checked once with a round trip of two messages
 * sharing a context. Throws {@linkcode NotSupportedError} (feature
 * `permessage-deflate`) when `node:zlib` or its synchronous stream routine
 * is not available.
 *
 * @example Compressing and inflating two messages with context takeover
 * ```ts
 * import { zlibEngine } from "./zlib.ts";
 * import { strictEqual } from "node:assert/strict";
 *
 * const zlib = zlibEngine();
 * const d = zlib.createDeflater({ windowBits: 15, memLevel: 8, level: 6, noContextTakeover: false });
 * const i = zlib.createInflater({ windowBits: 15, noContextTakeover: false });
 * const msg = new TextEncoder().encode("hello hello hello");
 * const first = d.deflate(msg);
 * const second = d.deflate(msg); // refers back to the first: shorter
 * strictEqual(new TextDecoder().decode(i.inflate(first, true, 1000)), "hello hello hello");
 * strictEqual(new TextDecoder().decode(i.inflate(second, true, 1000)), "hello hello hello");
 * strictEqual(second.length < first.length, true);
 * d.close();
 * i.close();
 * ```
 */
export function zlibEngine(): DeflateEngine {
  engine ??= load();
  if (engine instanceof NotSupportedError) throw engine;
  return engine;
}

function runtime(): string {
  const g = globalThis as any;
  return g.Deno !== undefined ? "deno" : g.Bun !== undefined ? "bun" : "node";
}

function load(): DeflateEngine | NotSupportedError {
  let zlib: ZlibModule;
  try {
    zlib = builtin<ZlibModule>(runtime(), "node:zlib");
  } catch (error) {
    return error instanceof NotSupportedError ? error : new NotSupportedError(
      runtime(),
      "permessage-deflate",
      `node:zlib cannot be loaded: ${error}`,
    );
  }
  try {
    return engineOf(zlib);
  } catch (error) {
    return error as NotSupportedError;
  }
}

/**
 * The engine over a `node:zlib` module, checked with a round trip of two
 * messages sharing a context; throws {@linkcode NotSupportedError} when
 * the module's synchronous stream routine does not work as expected (a
 * runtime that changed its internals). Exported for tests.
 */
export function engineOf(zlib: ZlibModule): DeflateEngine {
  const flush = zlib.constants?.Z_SYNC_FLUSH ?? 2;
  const made: DeflateEngine = {
    name: "node:zlib",
    createDeflater(s: DeflaterSettings): Deflater {
      const z = zlib.createDeflateRaw({
        windowBits: s.windowBits,
        memLevel: s.memLevel,
        level: s.level,
        chunkSize: CHUNK,
      });
      return new ZlibDeflater(new Stream(z, flush), s.noContextTakeover);
    },
    createInflater(s: InflaterSettings): Inflater {
      const z = zlib.createInflateRaw({ windowBits: s.windowBits, chunkSize: CHUNK });
      return new ZlibInflater(new Stream(z, flush), s.noContextTakeover);
    },
  };
  try {
    const d = made.createDeflater({
      windowBits: 15,
      memLevel: 8,
      level: 6,
      noContextTakeover: false,
    });
    const i = made.createInflater({ windowBits: 15, noContextTakeover: false });
    const text = new TextEncoder().encode("permessage-deflate self test, permessage-deflate");
    let ok = true;
    for (let k = 0; k < 3; k++) {
      // Two whole messages, then one in two pieces.
      const sent = k < 2 ? d.deflate(text) : concat(d.deflate(text.subarray(0, 9), false), d.deflate(text.subarray(9)));
      const back = i.inflate(sent, true, 1000);
      ok &&= back !== undefined && back.length === text.length &&
        back.every((b, n) => b === text[n]);
    }
    d.close();
    i.close();
    if (!ok) throw new Error("the round trip gave different bytes");
  } catch (error) {
    throw new NotSupportedError(
      runtime(),
      "permessage-deflate",
      `node:zlib cannot be driven synchronously here (${error}): permessage-deflate is declined`,
    );
  }
  return made;
}
