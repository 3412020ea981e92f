/**
 * Proxy targets: the `host:port` syntax, and the allowlist that keeps the
 * proxy from being an open relay (websockify users call arbitrary targets
 * "a HUGE security risk", novnc/websockify#3).
 *
 * @module
 */

import { IpFilter, normalize, parseIp } from "../net/ip_filter.ts";

/** Client-side TLS settings for a target. */
export interface TargetTlsOptions {
  /** Server name for SNI and the certificate check. @default the target's hostname (none for IP addresses) */
  servername?: string;
  /** Trusted CA certificates (PEM text); the runtime's default store when absent. */
  ca?: string | string[];
  /** Refuse targets whose certificate does not verify. @default true */
  rejectUnauthorized?: boolean;
}

/** Where a proxied connection goes (reference: ForwardHost, ForwardPort). */
export interface ProxyTarget {
  /** Host name or IP address (IPv6 without brackets). */
  hostname: string;
  /** TCP port, 1-65535. */
  port: number;
  /** Connect with TLS: true for the defaults, or settings. @default the proxy's `targetTls` */
  tls?: boolean | TargetTlsOptions;
}

/**
 * Parses `"host:port"` (`"[::1]:22"` for IPv6) or checks a
 * {@linkcode ProxyTarget}; returns a new object. Throws `TypeError` or
 * `RangeError` saying what is wrong.
 *
 * @example Three spellings
 * ```ts
 * import { parseTarget } from "@netstreams/netstreams/proxy";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * deepStrictEqual(parseTarget("127.0.0.1:5900"), { hostname: "127.0.0.1", port: 5900 });
 * deepStrictEqual(parseTarget("[::1]:22"), { hostname: "::1", port: 22 });
 * deepStrictEqual(parseTarget({ hostname: "db", port: 5432 }), { hostname: "db", port: 5432 });
 * ```
 */
export function parseTarget(target: string | ProxyTarget): ProxyTarget {
  if (typeof target === "object" && target !== null) {
    const { hostname, port, tls } = target;
    if (typeof hostname !== "string" || hostname.trim() === "") {
      throw new TypeError(
        `Cannot use the proxy target as hostname must be a non-empty string: current value is ${
          String(hostname)
        }`,
      );
    }
    checkPort(port, `${hostname}:${String(port)}`);
    const out: ProxyTarget = { hostname: unbracket(hostname.trim()), port };
    if (tls !== undefined) out.tls = tls;
    return out;
  }
  if (typeof target !== "string") {
    throw new TypeError(
      `Cannot use the proxy target as it must be "host:port": current value is ${String(target)}`,
    );
  }
  const text = target.trim();
  const colon = text.lastIndexOf(":");
  const host = colon > 0 ? text.slice(0, colon) : "";
  if (host === "" || (host.includes(":") && !(host.startsWith("[") && host.endsWith("]")))) {
    throw new TypeError(
      `Cannot use the proxy target as it must be "host:port" ("[v6addr]:port" for IPv6): current value is "${target}"`,
    );
  }
  const portText = text.slice(colon + 1);
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  checkPort(port, target);
  return { hostname: unbracket(host), port };
}

/** `host:port`, IPv6 in brackets. */
export function formatTarget(target: ProxyTarget): string {
  const h = target.hostname;
  return `${h.includes(":") ? `[${h}]` : h}:${target.port}`;
}

function unbracket(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

function checkPort(port: unknown, shown: string): void {
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(
      `Cannot use the proxy target as the port must be 1-65535: current value is "${shown}"`,
    );
  }
}

interface Rule {
  hosts: IpFilter | undefined; // undefined: a host name matched exactly
  name: string;
  low: number;
  high: number;
}

/**
 * A list of targets the proxy may connect to. Entries are `HOST:PORT` where
 * HOST is a host name (compared case-insensitively, as given: names are not
 * resolved), an IP address, an IP wildcard (`10.0.*`), a CIDR block
 * (`10.0.0.0/8`, `[fd00::/8]`) or `*`; and PORT is a number, a range
 * (`5900-5999`) or `*`.
 *
 * @example Allowing a VNC range on one subnet
 * ```ts
 * import { TargetAllowlist } from "@netstreams/netstreams/proxy";
 * import { strictEqual } from "node:assert/strict";
 *
 * const list = new TargetAllowlist("10.0.0.0/24:5900-5909, localhost:22");
 * strictEqual(list.allows({ hostname: "10.0.0.7", port: 5901 }), true);
 * strictEqual(list.allows({ hostname: "10.0.1.7", port: 5901 }), false);
 * strictEqual(list.allows({ hostname: "LOCALHOST", port: 22 }), true);
 * ```
 */
export class TargetAllowlist {
  readonly #rules: Rule[] = [];
  readonly #source: string[];

  /** Parses a comma-separated string or an array; throws `TypeError` for a bad entry. */
  constructor(list: string | readonly string[]) {
    this.#source = (typeof list === "string" ? list.split(",") : [...list])
      .map((e) => e.trim())
      .filter((e) => e !== "");
    for (const entry of this.#source) this.#rules.push(parseRule(entry));
  }

  /** True when the list has no entries. */
  get empty(): boolean {
    return this.#rules.length === 0;
  }

  /** True when `target` matches an entry. */
  allows(target: ProxyTarget): boolean {
    const name = normalize(target.hostname);
    for (const r of this.#rules) {
      if (target.port < r.low || target.port > r.high) continue;
      if (r.hosts === undefined ? r.name === name : r.hosts.matches(name)) return true;
    }
    return false;
  }

  /** The entries, comma separated. */
  toString(): string {
    return this.#source.join(",");
  }
}

function parseRule(entry: string): Rule {
  const colon = entry.lastIndexOf(":");
  const bad = (why: string) =>
    new TypeError(`Cannot parse the target allowlist entry "${entry}": ${why}`);
  if (colon <= 0) throw bad('it must be HOST:PORT, for example "127.0.0.1:5900" or "10.0.0.0/8:*"');
  let host = entry.slice(0, colon);
  const portText = entry.slice(colon + 1);
  if (host.includes(":")) {
    if (!(host.startsWith("[") && host.endsWith("]"))) {
      throw bad("put IPv6 addresses in brackets: [::1]:22");
    }
    host = host.slice(1, -1);
  }
  let low: number, high: number;
  const range = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(portText);
  if (portText === "*") [low, high] = [1, 65535];
  else if (range) [low, high] = [Number(range[1]), Number(range[2] ?? range[1])];
  else throw bad('PORT must be a number, a range such as 5900-5999, or "*"');
  if (low < 1 || high > 65535 || low > high) throw bad("ports must be 1-65535, low to high");
  // Wildcards and CIDR blocks are IP patterns; a name made of hex letters (cafe.de) is a name.
  const looksIp = host.includes("*") || host.includes("/") ||
    parseIp(normalize(host)) !== undefined;
  if (looksIp) return { hosts: new IpFilter([host]), name: "", low, high };
  if (!/^[A-Za-z0-9._-]+$/.test(host)) {
    throw bad("HOST must be a host name, an IP address, a wildcard or a CIDR block");
  }
  return { hosts: undefined, name: host.toLowerCase(), low, high };
}
