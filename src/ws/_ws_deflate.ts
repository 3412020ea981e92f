/**
 * Internal: permessage-deflate state of one connection (RFC 7692): the
 * agreed parameters, and a deflater and inflater created on first use.
 * Without context takeover nothing is kept per connection: deflaters are
 * shared by all connections (each message is compressed whole, then the
 * stream is reset) and inflaters are lent from a small pool for the span of
 * one message. Everything runs synchronously, so message order holds and
 * at most one (de)compression runs at a time per thread.
 *
 * @module
 */

import { NotSupportedError } from "../runtime/errors.ts";
import { zlibEngine } from "../runtime/zlib.ts";
import type { DeflateEngine, Deflater, Inflater } from "./deflate_engine.ts";
import type { DeflateParams, ResolvedDeflateOptions } from "./permessage_deflate.ts";

/** Idle inflaters kept per window size for messages without context takeover. */
const POOL = 4;

const sharedDeflaters = new Map<string, Deflater>();
const inflaterPools = new Map<number, Inflater[]>();

let loaded: DeflateEngine | NotSupportedError | undefined;

/** The `node:zlib` engine, or the reason it cannot be used (checked once). */
export function deflateEngine(): DeflateEngine | NotSupportedError {
  if (loaded === undefined) {
    try {
      loaded = zlibEngine();
    } catch (error) {
      loaded = error instanceof NotSupportedError
        ? error
        : new NotSupportedError("unknown", "permessage-deflate", String(error));
    }
  }
  return loaded;
}

/** Connections of one server holding compression contexts (`maxContexts`). */
export interface ContextBudget {
  n: number;
}
const budgets = new WeakMap<object, ContextBudget>();

/** The context budget of the server `host` (one per server, kept across `set`). */
export function contextBudget(host: object): ContextBudget {
  let b = budgets.get(host);
  if (b === undefined) budgets.set(host, b = { n: 0 });
  return b;
}

/**
 * The policy to negotiate with: past `maxContexts` connections with
 * contexts, both directions without context takeover.
 */
export function policyFor(
  policy: ResolvedDeflateOptions,
  budget: ContextBudget,
): ResolvedDeflateOptions {
  if (budget.n < policy.maxContexts) return policy;
  return { ...policy, serverNoContextTakeover: true, clientNoContextTakeover: true };
}

/** The permessage-deflate side of one connection; it is the connection's {@linkcode Inflater}. */
export class DeflateSession implements Inflater {
  readonly params: DeflateParams;
  readonly threshold: number;
  readonly #engine: DeflateEngine;
  readonly #options: ResolvedDeflateOptions;
  #deflater: Deflater | undefined = undefined;
  #inflater: Inflater | undefined = undefined;
  /** The budget this session counts in while it keeps a context. */
  #budget: ContextBudget | undefined;

  constructor(
    engine: DeflateEngine,
    params: DeflateParams,
    options: ResolvedDeflateOptions,
    budget: ContextBudget,
  ) {
    this.#engine = engine;
    this.params = params;
    this.#options = options;
    this.threshold = options.threshold;
    if (!params.serverNoContextTakeover || !params.clientNoContextTakeover) {
      this.#budget = budget;
      budget.n++;
    }
  }

  /** Compresses a whole message (RFC 7692 §7.2.1). */
  deflate(data: Uint8Array): Uint8Array {
    let d = this.#deflater;
    if (d === undefined) {
      const o = this.#options;
      const settings = {
        windowBits: this.params.serverWindowBits,
        memLevel: o.memLevel,
        level: o.level,
        noContextTakeover: this.params.serverNoContextTakeover,
      };
      if (settings.noContextTakeover) {
        const key =
          `${this.#engine.name}:${settings.windowBits}:${settings.memLevel}:${settings.level}`;
        d = sharedDeflaters.get(key);
        if (d === undefined) sharedDeflaters.set(key, d = this.#engine.createDeflater(settings));
      } else d = this.#engine.createDeflater(settings);
      this.#deflater = d;
    }
    try {
      return d.deflate(data);
    } catch (error) {
      this.#dropDeflater();
      throw error;
    }
  }

  /** Inflates part of a message (RFC 7692 §7.2.2); see {@linkcode Inflater.inflate}. */
  inflate(data: Uint8Array, end: boolean, maxOutput: number): Uint8Array | undefined {
    const bits = this.params.clientWindowBits;
    const pooled = this.params.clientNoContextTakeover;
    let i = this.#inflater;
    if (i === undefined) {
      i = pooled ? inflaterPools.get(bits)?.pop() : undefined;
      i ??= this.#engine.createInflater({ windowBits: bits, noContextTakeover: pooled });
      this.#inflater = i;
    }
    let out: Uint8Array | undefined;
    try {
      out = i.inflate(data, end, maxOutput);
    } catch (error) {
      this.#inflater = undefined;
      i.close();
      throw error;
    }
    if (out === undefined) {
      this.#inflater = undefined;
      i.close();
    } else if (end && pooled) {
      // The message is done and the stream reset: lend it to the next one.
      this.#inflater = undefined;
      let pool = inflaterPools.get(bits);
      if (pool === undefined) inflaterPools.set(bits, pool = []);
      if (pool.length < POOL) pool.push(i);
      else i.close();
    }
    return out;
  }

  /** Frees this connection's state (shared deflaters stay for others). */
  close(): void {
    if (this.#budget !== undefined) this.#budget.n--;
    this.#budget = undefined;
    this.#inflater?.close();
    this.#inflater = undefined;
    if (!this.params.serverNoContextTakeover) this.#deflater?.close();
    this.#deflater = undefined;
  }

  #dropDeflater(): void {
    const d = this.#deflater;
    this.#deflater = undefined;
    if (d === undefined) return;
    for (const [key, shared] of sharedDeflaters) if (shared === d) sharedDeflaters.delete(key);
    d.close();
  }
}
