/**
 * Internal: permessage-deflate state of one connection (RFC 7692): the
 * agreed parameters, and a deflater and inflater created on first use.
 * Without context takeover nothing is kept per connection: deflaters are
 * shared by all connections (each message is compressed whole, then the
 * stream is reset), and inflaters, and deflaters of messages sent in
 * pieces, are lent from small pools for the span of one message. Everything runs synchronously, so message order holds and
 * at most one (de)compression runs at a time per thread.
 *
 * @module
 */

import { NotSupportedError } from "../runtime/errors.ts";
import { zlibEngine } from "../runtime/zlib.ts";
import type { DeflateEngine, Deflater, DeflaterSettings, Inflater } from "./deflate_engine.ts";
import { type DeflateParams, deflateThreshold, type ResolvedDeflateOptions } from "./permessage_deflate.ts";

/** Idle inflaters kept per window size for messages without context takeover. */
const POOL = 4;

const sharedDeflaters = new Map<string, Deflater>();
/** Idle deflaters for messages sent in pieces without context takeover. */
const deflaterPools = new Map<string, Deflater[]>();
const inflaterPools = new Map<number, Inflater[]>();

let loaded: DeflateEngine | NotSupportedError | undefined;
let probe: () => DeflateEngine = zlibEngine;

/**
 * Replaces how the engine is loaded (tests: a probe that throws
 * `NotSupportedError` makes servers decline permessage-deflate) and forgets
 * the last result; without an argument, `node:zlib` again.
 */
export function setEngineProbe(load: () => DeflateEngine = zlibEngine): void {
  probe = load;
  loaded = undefined;
}

/** The engine (`node:zlib`), or the reason it cannot be used (checked once). */
export function deflateEngine(): DeflateEngine | NotSupportedError {
  if (loaded === undefined) {
    try {
      loaded = probe();
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
  /** The deflater of the message being sent in pieces. */
  #part: Deflater | undefined = undefined;
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
    this.threshold = deflateThreshold(options.threshold, params.serverNoContextTakeover);
    if (!params.serverNoContextTakeover || !params.clientNoContextTakeover) {
      this.#budget = budget;
      budget.n++;
    }
  }

  /** Compresses a whole message (RFC 7692 §7.2.1). */
  deflate(data: Uint8Array): Uint8Array {
    let d = this.#deflater;
    if (d === undefined) {
      const settings = this.#settings();
      if (settings.noContextTakeover) {
        const key = this.#key();
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

  /** A message is being compressed in pieces ({@linkcode deflatePart}). */
  get partOpen(): boolean {
    return this.#part !== undefined;
  }

  /**
   * Compresses one piece of a message sent in pieces; `end` ends it. With
   * context takeover the connection's deflater carries on; without, a
   * deflater is lent to this message alone (messages of other connections
   * go on meanwhile) and reset when it ends.
   */
  deflatePart(data: Uint8Array, end: boolean): Uint8Array {
    let d = this.#part;
    if (d === undefined) {
      if (this.params.serverNoContextTakeover) {
        d = deflaterPools.get(this.#key())?.pop() ?? this.#engine.createDeflater(this.#settings());
      } else {
        d = this.#deflater ??= this.#engine.createDeflater(this.#settings());
      }
      this.#part = d;
    }
    let out: Uint8Array;
    try {
      out = d.deflate(data, end);
    } catch (error) {
      this.#part = undefined;
      if (d === this.#deflater) this.#deflater = undefined;
      d.close();
      throw error;
    }
    if (end) {
      this.#part = undefined;
      if (this.params.serverNoContextTakeover) this.#lend(d);
    }
    return out;
  }

  #settings(): DeflaterSettings {
    const o = this.#options;
    return {
      windowBits: this.params.serverWindowBits,
      memLevel: o.memLevel,
      level: o.level,
      noContextTakeover: this.params.serverNoContextTakeover,
    };
  }

  #key(): string {
    const o = this.#options;
    return `${this.#engine.name}:${this.params.serverWindowBits}:${o.memLevel}:${o.level}`;
  }

  /** Returns a reset deflater to the pool of its settings. */
  #lend(d: Deflater): void {
    const key = this.#key();
    let pool = deflaterPools.get(key);
    if (pool === undefined) deflaterPools.set(key, pool = []);
    if (pool.length < POOL) pool.push(d);
    else d.close();
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
    else this.#part?.close(); // lent, and mid-message: its state is not reset
    this.#deflater = undefined;
    this.#part = undefined;
  }

  #dropDeflater(): void {
    const d = this.#deflater;
    this.#deflater = undefined;
    if (d === undefined) return;
    for (const [key, shared] of sharedDeflaters) if (shared === d) sharedDeflaters.delete(key);
    d.close();
  }
}
