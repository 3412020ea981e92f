/**
 * `Sec-WebSocket-Extensions` parsing and formatting (RFC 6455 §9.1), for
 * the open-request hook and permessage-deflate negotiation (RFC 7692).
 *
 * @module
 */

import { isToken } from "./_http.ts";

/** One extension offered by a client (or accepted by a server), with its parameters. */
export interface ExtensionOffer {
  /** The extension token, for example `permessage-deflate`. */
  name: string;
  /**
   * Parameters in order as name-value pairs; `true` for a parameter without
   * a value. Quoted values are unquoted. Repeated names are kept (RFC 7692
   * declines such offers, so the negotiator must see them).
   */
  params: [string, string | true][];
}

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/**
 * Parses a `Sec-WebSocket-Extensions` value (several header lines joined
 * with commas) into offers, following RFC 6455 §9.1: `name *( ";" param )`,
 * `param = token [ "=" ( token / quoted-string ) ]`, where an unquoted
 * quoted-string must be a token. Returns undefined on a syntax error (the
 * server answers 400).
 *
 * @example Two permessage-deflate offers, one with a quoted parameter
 * ```ts
 * import { parseExtensions } from "@netstreams/netstreams/ws";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * deepStrictEqual(
 *   parseExtensions('permessage-deflate; client_max_window_bits="10", permessage-deflate'),
 *   [
 *     { name: "permessage-deflate", params: [["client_max_window_bits", "10"]] },
 *     { name: "permessage-deflate", params: [] },
 *   ],
 * );
 * ```
 */
export function parseExtensions(value: string): ExtensionOffer[] | undefined {
  const offers: ExtensionOffer[] = [];
  const n = value.length;
  let i = 0;
  const ows = () => {
    while (i < n && (value[i] === " " || value[i] === "\t")) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && TOKEN_CHAR.test(value[i])) i++;
    return value.slice(start, i);
  };
  for (;;) {
    ows();
    if (i === n) return offers;
    if (value[i] === ",") { // empty list element (RFC 9110 §5.6.1)
      i++;
      continue;
    }
    const name = token();
    if (name === "") return undefined;
    const params: [string, string | true][] = [];
    ows();
    while (value[i] === ";") {
      i++;
      ows();
      const key = token();
      if (key === "") return undefined;
      ows();
      let v: string | true = true;
      if (value[i] === "=") {
        i++;
        ows();
        if (value[i] === '"') {
          const q = quoted();
          if (q === undefined || !isToken(q)) return undefined;
          v = q;
        } else {
          v = token();
          if (v === "") return undefined;
        }
        ows();
      }
      params.push([key, v]);
    }
    offers.push({ name, params });
    if (i === n) return offers;
    if (value[i] !== ",") return undefined;
    i++;
  }

  function quoted(): string | undefined {
    let out = "";
    for (i++; i < n; i++) {
      const c = value[i];
      if (c === '"') {
        i++;
        return out;
      }
      if (c === "\\") {
        if (++i === n) return undefined;
        out += value[i];
      } else out += c;
    }
    return undefined;
  }
}

/**
 * Formats offers as a `Sec-WebSocket-Extensions` value, quoting nothing
 * (every name and value must be a token). Throws `TypeError` otherwise.
 *
 * @example The value a server sends back for permessage-deflate
 * ```ts
 * import { formatExtensions } from "@netstreams/netstreams/ws";
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(
 *   formatExtensions([{ name: "permessage-deflate", params: [["server_no_context_takeover", true]] }]),
 *   "permessage-deflate; server_no_context_takeover",
 * );
 * ```
 */
export function formatExtensions(offers: readonly ExtensionOffer[]): string {
  return offers.map(({ name, params }) => {
    const parts = [name];
    for (const [key, v] of params) parts.push(v === true ? key : `${key}=${v}`);
    for (const p of [name, ...params.flat()]) {
      if (p !== true && !isToken(p)) {
        throw new TypeError(
          `Cannot format extensions as names and values must be tokens: current value is ${
            JSON.stringify(p)
          }`,
        );
      }
    }
    return parts.join("; ");
  }).join(", ");
}
