/**
 * Allow and block lists of client addresses (reference: AllowedClients,
 * BlockedClients). Entries are exact addresses, `*` wildcards on the textual
 * form (`192.168.*`, `fe80::*`), CIDR blocks (`10.0.0.0/8`, `2001:db8::/32`)
 * or `*` alone for any client. Host names are not resolved, so an entry such
 * as `localhost` is refused.
 *
 * Exact entries and CIDR blocks compare addresses, not text: `::1` matches
 * `0:0:0:0:0:0:0:1`, and IPv4-mapped IPv6 (`::ffff:1.2.3.4`) matches the IPv4
 * address both ways. A CIDR block on mapped addresses counts its prefix on
 * 128 bits (`::ffff:10.0.0.0/104` is `10.0.0.0/8`); other IPv6 blocks match
 * IPv6 clients only.
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
 * if (!list.matches("0:0:0:0:0:0:0:1")) throw new Error("expected a match");
 * if (list.matches("172.16.0.1")) throw new Error("expected no match");
 * ```
 */
export class IpFilter {
  #any = false;
  #exact = new Set<string>();
  #globs: RegExp[] = [];
  #cidrs: Cidr[] = [];
  #source: string[];

  /**
   * Parses a comma-separated string or an array of entries. Throws `TypeError`
   * on a bad entry: a host name, a malformed address, or a CIDR prefix that is
   * not 0-32 (IPv4) or 0-128 (IPv6).
   */
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
    const text = normalize(address);
    const bits = parseAddress(text);
    if (bits) {
      if (this.#exact.has(bits.join("."))) return true;
      for (const c of this.#cidrs) if (inCidr(bits, c)) return true;
    }
    if (this.#globs.length > 0) {
      // A mapped client written in hex (::ffff:a00:1) is tried in dotted form too.
      const dotted = bits?.length === 4 ? bits.join(".") : text;
      for (const re of this.#globs) {
        if (re.test(text) || (dotted !== text && re.test(dotted))) return true;
      }
    }
    return false;
  }

  #add(entry: string): void {
    const bad = (why: string) =>
      new TypeError(`Cannot parse address list entry "${entry}": ${why}`);
    if (entry === "*") {
      this.#any = true;
      return;
    }
    const slash = entry.indexOf("/");
    if (slash >= 0) {
      this.#cidrs.push(parseCidr(entry.slice(0, slash), entry.slice(slash + 1), bad));
      return;
    }
    if (entry.includes("*")) {
      if (!/^[0-9a-fA-F.:*]+$/.test(entry)) {
        throw bad("wildcards apply to IP addresses such as 192.168.* or fe80::*");
      }
      const pattern = normalize(entry).replace(/[.]/g, "\\.").replace(/\*/g, ".*");
      this.#globs.push(new RegExp(`^${pattern}$`, "i"));
      return;
    }
    const bits = parseAddress(normalize(entry));
    if (!bits) {
      throw bad(
        "give an IPv4 or IPv6 address, a wildcard such as 192.168.* or a CIDR block such as 10.0.0.0/8 (host names are not resolved)",
      );
    }
    this.#exact.add(bits.join("."));
  }
}

function parseCidr(
  addressText: string,
  prefixText: string,
  bad: (why: string) => TypeError,
): Cidr {
  const raw = parseIp(unwrap(addressText));
  if (!raw) throw bad("a CIDR block needs an IPv4 or IPv6 address before the /");
  const max = raw.length * 8;
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix <= max)) {
    throw bad(
      `the prefix length after the / must be 0-${max} for an IPv${max === 32 ? 4 : 6} address`,
    );
  }
  if (!isMapped(raw)) return { bits: raw, prefix };
  if (prefix < 96) {
    throw bad(
      "a block of IPv4-mapped addresses needs a prefix of 96-128 (::ffff:10.0.0.0/104 is 10.0.0.0/8)",
    );
  }
  return { bits: raw.slice(12), prefix: prefix - 96 };
}

/** Lower-cases, strips brackets and zone ids, and unwraps IPv4-mapped IPv6. */
export function normalize(address: string): string {
  const a = unwrap(address);
  return a.startsWith("::ffff:") && a.includes(".") ? a.slice(7) : a;
}

/** Lower-cases and strips brackets and zone ids. */
function unwrap(address: string): string {
  let a = address.trim().toLowerCase();
  if (a.startsWith("[") && a.endsWith("]")) a = a.slice(1, -1);
  const zone = a.indexOf("%");
  return zone >= 0 ? a.slice(0, zone) : a;
}

/** Parses an address; an IPv4-mapped IPv6 address comes back as its 4 IPv4 bytes. */
function parseAddress(text: string): Uint8Array | undefined {
  const bits = parseIp(text);
  return bits && isMapped(bits) ? bits.subarray(12) : bits;
}

/** True for ::ffff:0:0/96 (RFC 4291 §2.5.5.2). */
function isMapped(bits: Uint8Array): boolean {
  if (bits.length !== 16 || bits[10] !== 0xff || bits[11] !== 0xff) return false;
  for (let i = 0; i < 10; i++) if (bits[i] !== 0) return false;
  return true;
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
