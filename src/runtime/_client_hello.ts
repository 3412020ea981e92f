/**
 * Reads the SNI host name from the first bytes of a TLS connection, before
 * the TLS library sees them. Needed because Bun's `node:tls` `TLSSocket`
 * ignores `SNICallback` when it runs over a `Duplex` (measured with Bun
 * 1.4.5): the server picks the certificate itself and hands the bytes on.
 * Pure: no I/O, never throws; anything that is not a well-formed
 * ClientHello ends the peek and is left to the TLS library to reject.
 *
 * Layout (RFC 8446 §5.1 records, §4.1.2 ClientHello; RFC 6066 §3 server_name):
 * record = type(1)=22 version(2) length(2) fragment; handshake = type(1)=1
 * length(3) body; body = version(2) random(32) session_id<1> cipher_suites<2>
 * compression_methods<1> extensions<2>; extension = type(2) data<2>;
 * server_name (type 0) = list<2> of name_type(1)=0 HostName<2>.
 *
 * @module
 */

/** Largest ClientHello waited for; longer ones are left to the TLS library. */
const MAX_HELLO = 65536;

/** Result of {@linkcode peekClientHello}. */
export interface ClientHelloPeek {
  /** False while more bytes are needed to see the whole ClientHello. */
  readonly complete: boolean;
  /** The host name the client asked for, when it sent one. */
  readonly servername?: string;
}

const MORE: ClientHelloPeek = { complete: false };
const DONE: ClientHelloPeek = { complete: true };

/** Looks for a complete ClientHello at the start of `bytes`. */
export function peekClientHello(bytes: Uint8Array): ClientHelloPeek {
  // Gather the handshake message from as many records as it spans.
  const parts: Uint8Array[] = [];
  let gathered = 0;
  let need = -1; // total handshake bytes (header + body), once known
  let at = 0;
  while (need < 0 || gathered < need) {
    if (at >= bytes.length) return MORE;
    if (bytes[at] !== 22) return DONE; // not a handshake record: not TLS, or not a hello
    if (at + 5 > bytes.length) return MORE;
    const len = (bytes[at + 3]! << 8) | bytes[at + 4]!;
    if (at + 5 + len > bytes.length) return MORE;
    parts.push(bytes.subarray(at + 5, at + 5 + len));
    gathered += len;
    at += 5 + len;
    if (need < 0 && gathered >= 4) {
      const head = join(parts, 4);
      if (head[0] !== 1) return DONE;
      need = 4 + ((head[1]! << 16) | (head[2]! << 8) | head[3]!);
      if (need > MAX_HELLO) return DONE;
    }
    if (len === 0 && need < 0 && parts.length > 4) return DONE;
  }
  const hello = join(parts, need);
  return { complete: true, servername: serverName(hello.subarray(4)) };
}

function join(parts: Uint8Array[], n: number): Uint8Array {
  if (parts.length === 1 || parts[0]!.length >= n) return parts[0]!.subarray(0, n);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    const take = Math.min(p.length, n - o);
    out.set(p.subarray(0, take), o);
    o += take;
    if (o === n) break;
  }
  return out;
}

/** The host_name entry of the server_name extension, or undefined. */
function serverName(body: Uint8Array): string | undefined {
  let p = 2 + 32; // legacy_version, random
  if (p >= body.length) return undefined;
  p += 1 + body[p]!; // session_id
  if (p + 2 > body.length) return undefined;
  p += 2 + ((body[p]! << 8) | body[p + 1]!); // cipher_suites
  if (p >= body.length) return undefined;
  p += 1 + body[p]!; // compression_methods
  if (p + 2 > body.length) return undefined;
  const end = Math.min(body.length, p + 2 + ((body[p]! << 8) | body[p + 1]!));
  p += 2;
  while (p + 4 <= end) {
    const type = (body[p]! << 8) | body[p + 1]!;
    const len = (body[p + 2]! << 8) | body[p + 3]!;
    p += 4;
    if (p + len > end) return undefined;
    if (type === 0) return hostName(body.subarray(p, p + len));
    p += len;
  }
  return undefined;
}

function hostName(ext: Uint8Array): string | undefined {
  if (ext.length < 2) return undefined;
  const end = Math.min(ext.length, 2 + ((ext[0]! << 8) | ext[1]!));
  let p = 2;
  while (p + 3 <= end) {
    const type = ext[p]!;
    const len = (ext[p + 1]! << 8) | ext[p + 2]!;
    p += 3;
    if (p + len > end) return undefined;
    if (type === 0) {
      let name = "";
      for (let i = p; i < p + len; i++) {
        const c = ext[i]!;
        if (c < 0x21 || c > 0x7e) return undefined; // host names are ASCII (A-labels)
        name += String.fromCharCode(c);
      }
      return name.toLowerCase();
    }
    p += len;
  }
  return undefined;
}
