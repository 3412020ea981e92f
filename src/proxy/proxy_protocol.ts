/**
 * The PROXY protocol header (HAProxy, "The PROXY protocol", versions 1 and
 * 2) that tells a TCP target the real client address: a pure encoder used
 * by the proxy and a parser for targets (and tests). Only the `PROXY`/TCP
 * commands a proxy sends are produced; the parser also accepts `UNKNOWN`
 * (v1) and `LOCAL` (v2) and skips v2 TLVs.
 *
 * @module
 */

import type { NetAddr } from "../net/types.ts";
import { parseIp } from "../net/ip_filter.ts";

/** PROXY protocol version: 1 (text) or 2 (binary). */
export type ProxyProtocolVersion = 1 | 2;

/** A parsed PROXY header. */
export interface ProxyHeader {
  /** 1 or 2. */
  version: ProxyProtocolVersion;
  /** "PROXY" relays a connection; "LOCAL" (v2) / "UNKNOWN" (v1) carry no addresses. */
  command: "PROXY" | "LOCAL" | "UNKNOWN";
  /** "TCP4", "TCP6", or "UNKNOWN" when no addresses are given. */
  family: "TCP4" | "TCP6" | "UNKNOWN";
  /** The client's address, as the proxy saw it. */
  source?: NetAddr;
  /** The address the client connected to (the proxy's). */
  destination?: NetAddr;
  /** Bytes the header took; the target's data starts after them. */
  length: number;
}

/** The 12-byte signature that starts a v2 header. */
export const PROXY_V2_SIGNATURE: Uint8Array = new Uint8Array([
  0x0d,
  0x0a,
  0x0d,
  0x0a,
  0x00,
  0x0d,
  0x0a,
  0x51,
  0x55,
  0x49,
  0x54,
  0x0a,
]);
/** Longest v1 line including CRLF (spec §2.1). */
const V1_MAX = 107;

/** A PROXY header that cannot be parsed. */
export class ProxyProtocolError extends Error {
  /** Always "ERR_PROXY_PROTOCOL". */
  readonly code = "ERR_PROXY_PROTOCOL";
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "ProxyProtocolError";
  }
}

/** An IPv4 address, also from its IPv4-mapped IPv6 form; undefined when not IPv4. */
function ipv4(address: string): Uint8Array | undefined {
  const bytes = parseIp(address);
  if (bytes === undefined) return undefined;
  if (bytes.length === 4) return bytes;
  const mapped = bytes.subarray(0, 12).every((b, i) => (i < 10 ? b === 0 : b === 0xff));
  return mapped ? bytes.slice(12) : undefined;
}

/** The 16-byte IPv6 form (IPv4 as IPv4-mapped); throws for a non-address. */
function ipv6(address: string): Uint8Array {
  const bytes = parseIp(address);
  if (bytes === undefined) {
    throw new TypeError(
      `Cannot encode a PROXY header as the address must be an IP address: current value is ${address}`,
    );
  }
  if (bytes.length === 16) return bytes;
  const out = new Uint8Array(16);
  out[10] = out[11] = 0xff;
  out.set(bytes, 12);
  return out;
}

/** RFC 5952 text of a 16-byte address: lower case, the longest run of zero groups as `::`. */
function v6Text(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i]! << 8) | b[i + 1]!);
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = (a: number[]) => a.map((n) => n.toString(16)).join(":");
  return best < 0 ? hex(g) : `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/**
 * Encodes the header a proxy sends first on its connection to the target:
 * `source` is the client, `destination` the address it connected to. Both
 * IPv4 (also IPv4-mapped) gives TCP4, otherwise TCP6 (IPv4 mapped into it).
 * Throws `TypeError` when an address is not an IP address.
 *
 * @example Version 1 and version 2 for the same connection
 * ```ts
 * import { encodeProxyHeader, parseProxyHeader } from "@netstreams/netstreams/proxy";
 * import { strictEqual, deepStrictEqual } from "node:assert/strict";
 *
 * const src = { hostname: "192.0.2.1", port: 56324 };
 * const dst = { hostname: "::ffff:198.51.100.2", port: 443 };
 * const v1 = encodeProxyHeader(1, src, dst);
 * strictEqual(new TextDecoder().decode(v1), "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n");
 * const v2 = parseProxyHeader(encodeProxyHeader(2, src, dst));
 * deepStrictEqual(v2?.source, src);
 * strictEqual(v2?.length, 28);
 * ```
 */
export function encodeProxyHeader(
  version: ProxyProtocolVersion,
  source: NetAddr,
  destination: NetAddr,
): Uint8Array {
  if (version !== 1 && version !== 2) {
    throw new RangeError(
      `Cannot encode a PROXY header as version must be 1 or 2: current value is ${version}`,
    );
  }
  const s4 = ipv4(source.hostname);
  const d4 = ipv4(destination.hostname);
  const four = s4 !== undefined && d4 !== undefined;
  const s = four ? s4 : ipv6(source.hostname);
  const d = four ? d4 : ipv6(destination.hostname);
  if (version === 1) {
    const text = four
      ? `PROXY TCP4 ${s.join(".")} ${d.join(".")} ${source.port} ${destination.port}\r\n`
      : `PROXY TCP6 ${v6Text(s)} ${v6Text(d)} ${source.port} ${destination.port}\r\n`;
    return new TextEncoder().encode(text);
  }
  const addrLen = four ? 12 : 36;
  const out = new Uint8Array(16 + addrLen);
  out.set(PROXY_V2_SIGNATURE);
  out[12] = 0x21; // version 2, command PROXY
  out[13] = four ? 0x11 : 0x21; // AF_INET / AF_INET6, STREAM
  out[14] = addrLen >>> 8;
  out[15] = addrLen & 0xff;
  out.set(s, 16);
  out.set(d, 16 + s.length);
  const p = 16 + 2 * s.length;
  out[p] = source.port >>> 8;
  out[p + 1] = source.port & 0xff;
  out[p + 2] = destination.port >>> 8;
  out[p + 3] = destination.port & 0xff;
  return out;
}

/**
 * Parses a PROXY header (v1 or v2) at the start of `bytes`. Returns
 * undefined while more bytes are needed; throws
 * {@linkcode ProxyProtocolError} when the bytes are not a valid header.
 *
 * @example Parsing a v1 line followed by data
 * ```ts
 * import { parseProxyHeader } from "@netstreams/netstreams/proxy";
 * import { strictEqual } from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("PROXY TCP4 10.0.0.1 10.0.0.2 5000 80\r\nhello");
 * const header = parseProxyHeader(bytes)!;
 * strictEqual(header.source?.hostname, "10.0.0.1");
 * strictEqual(new TextDecoder().decode(bytes.subarray(header.length)), "hello");
 * ```
 */
export function parseProxyHeader(bytes: Uint8Array): ProxyHeader | undefined {
  if (bytes.length === 0) return undefined;
  if (bytes[0] === 0x0d) return parseV2(bytes);
  if (bytes[0] === 0x50) return parseV1(bytes);
  throw new ProxyProtocolError(
    'Not a PROXY protocol header: it must start with "PROXY " or the v2 signature',
  );
}

function parseV1(bytes: Uint8Array): ProxyHeader | undefined {
  const n = Math.min(bytes.length, V1_MAX);
  let end = -1;
  for (let i = 0; i + 1 < n; i++) {
    if (bytes[i] === 0x0d && bytes[i + 1] === 0x0a) {
      end = i;
      break;
    }
  }
  const prefix = new TextDecoder().decode(bytes.subarray(0, Math.min(6, bytes.length)));
  if (!"PROXY ".startsWith(prefix)) throw new ProxyProtocolError("Not a PROXY v1 header");
  if (end < 0) {
    if (bytes.length >= V1_MAX) {
      throw new ProxyProtocolError(`PROXY v1 line longer than ${V1_MAX} bytes`);
    }
    return undefined;
  }
  const parts = new TextDecoder().decode(bytes.subarray(0, end)).split(" ");
  const length = end + 2;
  if (parts[1] === "UNKNOWN") return { version: 1, command: "UNKNOWN", family: "UNKNOWN", length };
  if (parts.length !== 6 || (parts[1] !== "TCP4" && parts[1] !== "TCP6")) {
    throw new ProxyProtocolError(`Malformed PROXY v1 line: ${parts.join(" ")}`);
  }
  const family = parts[1];
  const port = (s: string) => {
    if (!/^\d{1,5}$/.test(s) || Number(s) > 65535) {
      throw new ProxyProtocolError(`Bad port in PROXY v1 line: ${s}`);
    }
    return Number(s);
  };
  const addr = (s: string) => {
    const ip = parseIp(s);
    if (ip === undefined || (ip.length === 4) !== (family === "TCP4")) {
      throw new ProxyProtocolError(`Bad ${family} address in PROXY v1 line: ${s}`);
    }
    return s;
  };
  return {
    version: 1,
    command: "PROXY",
    family,
    source: { hostname: addr(parts[2]!), port: port(parts[4]!) },
    destination: { hostname: addr(parts[3]!), port: port(parts[5]!) },
    length,
  };
}

function parseV2(bytes: Uint8Array): ProxyHeader | undefined {
  const sig = Math.min(bytes.length, 12);
  for (let i = 0; i < sig; i++) {
    if (bytes[i] !== PROXY_V2_SIGNATURE[i]) throw new ProxyProtocolError("Bad PROXY v2 signature");
  }
  if (bytes.length < 16) return undefined;
  const verCmd = bytes[12]!;
  if (verCmd >>> 4 !== 2) throw new ProxyProtocolError(`Unsupported PROXY version ${verCmd >>> 4}`);
  const cmd = verCmd & 0x0f;
  if (cmd > 1) throw new ProxyProtocolError(`Unknown PROXY v2 command ${cmd}`);
  const len = (bytes[14]! << 8) | bytes[15]!;
  const length = 16 + len;
  if (bytes.length < length) return undefined;
  const fam = bytes[13]!;
  if (cmd === 0 || fam === 0x00) {
    return { version: 2, command: cmd === 0 ? "LOCAL" : "PROXY", family: "UNKNOWN", length };
  }
  const body = bytes.subarray(16, length);
  const port = (at: number) => (body[at]! << 8) | body[at + 1]!;
  if (fam === 0x11) {
    if (len < 12) throw new ProxyProtocolError("PROXY v2 TCP4 block too short");
    return {
      version: 2,
      command: "PROXY",
      family: "TCP4",
      source: { hostname: body.subarray(0, 4).join("."), port: port(8) },
      destination: { hostname: body.subarray(4, 8).join("."), port: port(10) },
      length,
    };
  }
  if (fam === 0x21) {
    if (len < 36) throw new ProxyProtocolError("PROXY v2 TCP6 block too short");
    return {
      version: 2,
      command: "PROXY",
      family: "TCP6",
      source: { hostname: v6Text(body.subarray(0, 16)), port: port(32) },
      destination: { hostname: v6Text(body.subarray(16, 32)), port: port(34) },
      length,
    };
  }
  throw new ProxyProtocolError(`Unsupported PROXY v2 address family 0x${fam.toString(16)}`);
}
