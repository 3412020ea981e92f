/**
 * permessage-deflate negotiation on the server (RFC 7692 §5, §7.1): the
 * server's policy, the choice among a client's offers, and the response.
 * Pure: compression itself sits behind a `DeflateEngine`.
 *
 * @module
 */

import { checkBoolean, checkInteger } from "./_options.ts";
import type { ExtensionOffer } from "./extensions.ts";

/** The extension token (RFC 7692 §7). */
export const PERMESSAGE_DEFLATE = "permessage-deflate";

/**
 * The server's permessage-deflate policy (reference: EnablePermessageDeflate).
 * The defaults follow python-websockets' memory-conscious choice (12-bit
 * windows, memLevel 5) with zlib level 1, the fastest. Measured zlib state
 * per connection with context takeover: a deflater 116 KiB on Node, about
 * 175 KiB on Deno and Bun (230 KiB at 15 / 8), an inflater about 32 KiB;
 * without context takeover nothing per connection. The state is created on
 * a connection's first compressed message; `maxContexts` bounds how many
 * connections keep one.
 */
export interface PerMessageDeflateOptions {
  /**
   * Largest LZ77 window of what the server compresses, as a power of two
   * (9-15); answered as `server_max_window_bits` when below 15 or when the
   * client asked for a limit. An offer limiting it to 8 is declined: zlib's
   * raw deflate cannot use a 256-byte window.
   * @default {12}
   */
  serverMaxWindowBits?: number;
  /**
   * Window the client is asked to compress with (9-15), answered as
   * `client_max_window_bits` when the client offered that parameter (the
   * RFC forbids it otherwise; the server then inflates with 15 bits).
   * Smaller windows make each connection's inflate state smaller.
   * @default {12}
   */
  clientMaxWindowBits?: number;
  /**
   * Compress every message on its own (`server_no_context_takeover`): worse
   * ratio for similar messages, but no per-connection compression state.
   * Always on when the client asks for it.
   * @default {false}
   */
  serverNoContextTakeover?: boolean;
  /**
   * Ask the client to compress every message on its own
   * (`client_no_context_takeover`): no per-connection inflate state.
   * @default {false}
   */
  clientNoContextTakeover?: boolean;
  /**
   * Messages shorter than this many bytes are sent uncompressed (a string
   * counts its UTF-16 length; a message sent in pieces, its first piece).
   * Unset, it depends on the connection: 128 when the server compresses
   * with context takeover, 1024 without. Measured on chat-like JSON with
   * the default settings (`scripts/bench/deflate_threshold.mjs`): with
   * context takeover even 64 B messages shrink 4-5× (66 → 14 B) but cost
   * 0.8-1.4 µs of CPU more than a plain send; without it, messages under
   * 256 B barely shrink (0-20% at 64-128 B) for 2-6 µs. The defaults are
   * the smallest sizes measured that save about 50 bytes or more per µs of
   * extra CPU on every runtime (Node's zlib is the slowest), bandwidth at
   * about 400 Mbit/s per core spent (README, "permessage-deflate"). Set 0
   * to compress everything (python websockets' choice), 1024 for `ws`'s;
   * raise it on a server whose CPU goes to fanning out small messages.
   * @default {undefined} (128 with context takeover, 1024 without)
   */
  threshold?: number;
  /**
   * zlib compression level, 0 (store) to 9 (smallest, slowest).
   * @default {1}
   */
  level?: number;
  /**
   * zlib memory level, 1-9 (hash table size). It saves less than zlib's
   * formula says: Node's Chromium zlib and Deno's and Bun's zlib-ng keep
   * large hash tables for speed (a deflater at 9 bits / level 1 still takes
   * 94 KiB on Node, 156 KiB on Deno and Bun).
   * @default {5}
   */
  memLevel?: number;
  /**
   * Most connections of the server that keep compression contexts at once:
   * the memory budget of permessage-deflate. Measured with the defaults, a
   * connection with both contexts holds about 150 KiB on Node and 205-215
   * KiB on Deno and Bun (100-270 KiB across window and memLevel settings,
   * see above and the README), so 1000 contexts budget 150-215 MiB.
   * Connections opened past it are answered with `server_no_context_takeover`
   * and `client_no_context_takeover`, so they keep no per-connection zlib
   * state (deflaters are shared, inflaters lent per message). 0 = never
   * take over context. There is no limit on concurrent (de)compressions
   * because there is no concurrency: each runs synchronously, one at a
   * time per thread.
   * @default {1000}
   */
  maxContexts?: number;
}

/** {@linkcode PerMessageDeflateOptions} with defaults applied (`threshold` stays unset for the automatic choice). */
export type ResolvedDeflateOptions =
  & Required<Omit<PerMessageDeflateOptions, "threshold">>
  & Pick<PerMessageDeflateOptions, "threshold">;

/**
 * The threshold in force: `threshold` when set, else 128 bytes when the
 * server compresses with context takeover and 1024 without (see
 * {@linkcode PerMessageDeflateOptions.threshold}).
 *
 * @example The automatic choice
 * ```ts
 * import { deflateThreshold } from "@netstreams/netstreams/ws";
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(deflateThreshold(undefined, false), 128);
 * strictEqual(deflateThreshold(undefined, true), 1024);
 * strictEqual(deflateThreshold(0, true), 0);
 * ```
 */
export function deflateThreshold(threshold: number | undefined, serverNoContextTakeover: boolean): number {
  return threshold ?? (serverNoContextTakeover ? 1024 : 128);
}

/** What both sides agreed (RFC 7692 §7.1), as the server applies it. */
export interface DeflateParams {
  /** The server compresses each message with an empty window. */
  serverNoContextTakeover: boolean;
  /** The client compresses each message with an empty window. */
  clientNoContextTakeover: boolean;
  /** Window bits the server compresses with (9-15). */
  serverWindowBits: number;
  /** Window bits the server inflates with (9-15; covers any smaller client window). */
  clientWindowBits: number;
}

/** The accepted offer: parameters to apply and the response's extension. */
export interface DeflateAgreement {
  /** The parameters in force. */
  params: DeflateParams;
  /** The `Sec-WebSocket-Extensions` element to answer with. */
  response: ExtensionOffer;
}

const ACT = "configure permessage-deflate";

/**
 * Validates `options` and applies the defaults; throws `TypeError` or
 * `RangeError` naming the bad value.
 *
 * @example Defaults
 * ```ts
 * import { resolveDeflateOptions } from "@netstreams/netstreams/ws";
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(resolveDeflateOptions({}).serverMaxWindowBits, 12);
 * ```
 */
export function resolveDeflateOptions(options: PerMessageDeflateOptions): ResolvedDeflateOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Cannot ${ACT} as the options must be an object: current value is ${options}`,
    );
  }
  const range = (
    name: keyof PerMessageDeflateOptions,
    min: number,
    max: number,
    fallback: number,
  ) => {
    const v = checkInteger(ACT, name, options[name], Number.MIN_SAFE_INTEGER, fallback);
    if (v < min || v > max) {
      throw new RangeError(
        `Cannot ${ACT} as ${name} must be an integer ${min}-${max}: current value is ${v}`,
      );
    }
    return v;
  };
  return {
    serverMaxWindowBits: range("serverMaxWindowBits", 9, 15, 12),
    clientMaxWindowBits: range("clientMaxWindowBits", 9, 15, 12),
    serverNoContextTakeover: checkBoolean(
      ACT,
      "serverNoContextTakeover",
      options.serverNoContextTakeover,
      false,
    ),
    clientNoContextTakeover: checkBoolean(
      ACT,
      "clientNoContextTakeover",
      options.clientNoContextTakeover,
      false,
    ),
    threshold: options.threshold === undefined
      ? undefined
      : checkInteger(ACT, "threshold", options.threshold, 0, 0),
    level: range("level", 0, 9, 1),
    memLevel: range("memLevel", 1, 9, 5),
    maxContexts: checkInteger(ACT, "maxContexts", options.maxContexts, 0, 1000),
  };
}

/** A window-bits value: a decimal integer 8-15 without leading zeros (§7.1.2). */
function windowBits(v: string | true): number | undefined {
  return typeof v === "string" && /^(?:[89]|1[0-5])$/.test(v) ? Number(v) : undefined;
}

/**
 * The parameters of one offer, or undefined when the RFC requires
 * declining it (§7.1): an unknown parameter, a repeated one, or an invalid
 * value.
 */
function parseOffer(offer: ExtensionOffer):
  | { snct: boolean; cnct: boolean; smwb: number | undefined; cmwb: number | true | undefined }
  | undefined {
  let snct = false;
  let cnct = false;
  let smwb: number | undefined;
  let cmwb: number | true | undefined;
  const seen = new Set<string>();
  for (const [name, value] of offer.params) {
    const key = name.toLowerCase();
    if (seen.has(key)) return undefined;
    seen.add(key);
    switch (key) {
      case "server_no_context_takeover":
        if (value !== true) return undefined;
        snct = true;
        break;
      case "client_no_context_takeover":
        if (value !== true) return undefined;
        cnct = true;
        break;
      case "server_max_window_bits":
        if ((smwb = windowBits(value)) === undefined) return undefined;
        break;
      case "client_max_window_bits":
        if (value === true) cmwb = true;
        else if ((cmwb = windowBits(value)) === undefined) return undefined;
        break;
      default:
        return undefined;
    }
  }
  return { snct, cnct, smwb, cmwb };
}

/**
 * Picks the first permessage-deflate offer the server can accept under
 * `policy` (RFC 7692 §7.1) and builds the response; undefined when every
 * offer is declined (malformed per §7.1, or asking for an 8-bit server
 * window) or none was made. The response carries
 * `server_no_context_takeover` when either side wants it,
 * `client_no_context_takeover` when the policy or the client does,
 * `server_max_window_bits` when the client limited it or the server uses
 * less than 15, and `client_max_window_bits` only when the client offered
 * it and the server wants less than the client's limit.
 *
 * @example Chromium's offer under the defaults
 * ```ts
 * import {
 *   formatExtensions,
 *   negotiatePerMessageDeflate,
 *   parseExtensions,
 *   resolveDeflateOptions,
 * } from "@netstreams/netstreams/ws";
 * import { strictEqual } from "node:assert/strict";
 *
 * const offers = parseExtensions("permessage-deflate; client_max_window_bits")!;
 * const agreed = negotiatePerMessageDeflate(offers, resolveDeflateOptions({}))!;
 * strictEqual(
 *   formatExtensions([agreed.response]),
 *   "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",
 * );
 * ```
 */
export function negotiatePerMessageDeflate(
  offers: readonly ExtensionOffer[],
  policy: ResolvedDeflateOptions,
): DeflateAgreement | undefined {
  for (const offer of offers) {
    if (offer.name.toLowerCase() !== PERMESSAGE_DEFLATE) continue;
    const p = parseOffer(offer);
    if (p === undefined) continue;
    const serverBits = Math.min(policy.serverMaxWindowBits, p.smwb ?? 15);
    if (serverBits < 9) continue; // zlib raw deflate has no 8-bit window
    const snct = p.snct || policy.serverNoContextTakeover;
    const cnct = p.cnct || policy.clientNoContextTakeover;
    const clientLimit = typeof p.cmwb === "number" ? p.cmwb : 15;
    let clientBits = clientLimit;
    const params: [string, string | true][] = [];
    if (snct) params.push(["server_no_context_takeover", true]);
    if (cnct) params.push(["client_no_context_takeover", true]);
    if (p.smwb !== undefined || serverBits < 15) {
      params.push(["server_max_window_bits", String(serverBits)]);
    }
    if (p.cmwb !== undefined && policy.clientMaxWindowBits < clientLimit) {
      clientBits = policy.clientMaxWindowBits;
      params.push(["client_max_window_bits", String(clientBits)]);
    }
    return {
      params: {
        serverNoContextTakeover: snct,
        clientNoContextTakeover: cnct,
        serverWindowBits: serverBits,
        clientWindowBits: Math.max(clientBits, 9),
      },
      response: { name: PERMESSAGE_DEFLATE, params },
    };
  }
  return undefined;
}
