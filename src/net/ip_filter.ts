/**
 * Allow and block lists of client addresses (reference: AllowedClients,
 * BlockedClients). Entries are exact addresses, `*` wildcards on the textual
 * form (`192.168.*`, `fe80::*`) or CIDR blocks (`10.0.0.0/8`, `2001:db8::/32`).
 * IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) match IPv4 entries.
 *
 * @module
 */

interface Cidr {
  bits: Uint8Array;
  prefix: number;
}

/**
 * A parsed list of address patterns.
 *
 * @example Matching wildcards and CIDR blocks
 * ```ts
 * import { IpFilter } from "./ip_filter.ts";
 * const list = new IpFilter("192.168.*, 10.0.0.0/8, ::1");
 * if (!list.matches("192.168.4.2")) throw new Error("expected a match");
 * if (!list.matches("::ffff:10.1.2.3")) throw new Error("expected a match");
 * if (list.matches("172.16.0.1")) throw new Error("expected no match");
 * ```
 */
export class IpFilter {
  #any = false;
  #exact = new Set<string>();
  #globs: RegExp[] = [];
  #cidrs: Cidr[] = [];
  #source: string[];

  /** Parses a comma-separated string or an array of entries. Throws `TypeError` on a bad entry. */
  constructor(list: string | readonly string[]) {
    const entries = (typeof list === "string" ? list.split(",") : [...list])
      .map((e) => e.trim())
      .filter((e) => e.length > 0);
    this.#source = entries;
    for (const entry of entries) this.#add(entry);
  }

  /** True when the list has no entries. */
  get empty(): boolean {
    return this.#source.length === 0;
  }

  /** The entries as given, joined with commas (for `config("AllowedClients")`). */
  toString(): string {
    return this.#source.join(",");
  }

  /** True when `address` matches any entry. */
  matches(address: string): boolean {
    if (this.#any) return true;
    const addr = normalize(address);
    if (this.#exact.has(addr)) return true;
    for (const re of this.#globs) if (re.test(addr)) return true;
    if (this.#cidrs.length > 0) {
      const bits = parseIp(addr);
      if (bits) {
        for (const c of this.#cidrs) if (inCidr(bits, c)) return true;
      }
    }
    return false;
  }

  #add(entry: string): void {
    if (entry === "*") {
      this.#any = true;
      return;
    }
    const slash = entry.indexOf("/");
    if (slash >= 0) {
      const bits = parseIp(normalize(entry.slice(0, slash)));
      const prefix = Number(entry.slice(slash + 1));
      if (!bits || !Number.isInteger(prefix) || prefix < 0 || prefix > bits.length * 8) {
        throw new TypeError(
          `Cannot parse address list entry "${entry}": a CIDR block needs an IPv4 or IPv6 address and a prefix length`,
        );
      }
      this.#cidrs.push({ bits, prefix });
      return;
    }
    if (entry.includes("*")) {
      if (!/^[0-9a-fA-F.:*]+$/.test(entry)) {
        throw new TypeError(
          `Cannot parse address list entry "${entry}": wildcards apply to IP addresses such as 192.168.*`,
        );
      }
      const pattern = normalize(entry).replace(/[.]/g, "\\.").replace(/\*/g, ".*");
      this.#globs.push(new RegExp(`^${pattern}$`, "i"));
      return;
    }
    this.#exact.add(normalize(entry));
  }
}

/** Lower-cases, strips brackets and zone ids, and unwraps IPv4-mapped IPv6. */
export function normalize(address: string): string {
  let a = address.trim().toLowerCase();
  if (a.startsWith("[") && a.endsWith("]")) a = a.slice(1, -1);
  const zone = a.indexOf("%");
  if (zone >= 0) a = a.slice(0, zone);
  if (a.startsWith("::ffff:") && a.includes(".")) a = a.slice(7);
  return a;
}

/** Parses an IPv4 (4 bytes) or IPv6 (16 bytes) address; undefined when invalid. */
export function parseIp(address: string): Uint8Array | undefined {
  if (address.includes(":")) return parseIpv6(address);
  return parseIpv4(address);
}

function parseIpv4(s: string): Uint8Array | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseIpv6(s: string): Uint8Array | undefined {
  let tail: Uint8Array | undefined;
  let text = s;
  const lastColon = s.lastIndexOf(":");
  if (s.slice(lastColon + 1).includes(".")) {
    tail = parseIpv4(s.slice(lastColon + 1));
    if (!tail) return undefined;
    text = s.slice(0, lastColon + 1) + "0:0";
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(":") : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = groups[i]!;
    if (!/^[0-9a-f]{1,4}$/.test(g)) return undefined;
    const n = parseInt(g, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  }
  if (tail) out.set(tail, 12);
  return out;
}

function inCidr(bits: Uint8Array, c: Cidr): boolean {
  if (bits.length !== c.bits.length) return false;
  let left = c.prefix;
  for (let i = 0; left > 0; i++, left -= 8) {
    const mask = left >= 8 ? 0xff : (0xff << (8 - left)) & 0xff;
    if ((bits[i]! & mask) !== (c.bits[i]! & mask)) return false;
  }
  return true;
}
