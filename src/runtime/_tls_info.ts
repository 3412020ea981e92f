/**
 * Reads what a `node:tls` `TLSSocket` negotiated into a {@linkcode TlsInfo},
 * smoothing over the three runtimes: Node (and Deno's `node:tls`) never set
 * `authorized` on a `TLSSocket` made with `isServer`, so the verification
 * result comes from `ssl.verifyError()` (an `Error` on Node, a code string
 * on Deno); Bun has no `ssl` handle but sets `authorized` and
 * `authorizationError` itself.
 *
 * @module
 */

import type { CertificateSummary, PeerCertificate, TlsInfo } from "../net/tls_types.ts";

/** The object `getPeerCertificate()` returns, as far as used here. */
export interface NodeDetailedCertificate {
  subject?: Record<string, string | string[]>;
  issuer?: Record<string, string | string[]>;
  subjectaltname?: string;
  serialNumber?: string;
  fingerprint256?: string;
  valid_from?: string;
  valid_to?: string;
  raw?: Uint8Array;
}

/** `tls.TLSSocket`, as far as read here. */
export interface NodeTlsState {
  getProtocol?(): string | null;
  getCipher?(): { name?: string; standardName?: string } | null;
  getPeerCertificate?(detailed?: boolean): NodeDetailedCertificate | null;
  readonly alpnProtocol?: string | false | null;
  readonly servername?: string | false | null;
  readonly authorized?: boolean;
  readonly authorizationError?: unknown;
  readonly ssl?: { verifyError?(): unknown } | null;
}

/** `crypto.X509Certificate`, as far as used here. */
export interface NodeX509 {
  readonly subject: string;
  readonly issuer: string;
  readonly subjectAltName?: string;
  readonly validFrom: string;
  readonly validTo: string;
}

/** Formats a distinguished name object as `"CN=a, O=b"` (reference: CertSubject). */
function dn(fields: Record<string, string | string[]> | undefined): string {
  if (!fields) return "";
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join("+") : v}`)
    .join(", ");
}

/** `"CN=a\nO=b"` as `"CN=a, O=b"`. */
function lines(name: string): string {
  return name.split("\n").filter(Boolean).join(", ");
}

/** Secret bits of a cipher suite, from its name. */
function cipherBits(name: string): number {
  if (/CHACHA20|AES_?256|AES256/i.test(name)) return 256;
  if (/AES_?128|AES128/i.test(name)) return 128;
  return 0;
}

/** PEM text of a DER certificate (`raw` is a Buffer on Node and Bun, a Uint8Array on Deno). */
function pemOf(raw: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < raw.length; i += 0x8000) {
    binary += String.fromCharCode(...raw.subarray(i, i + 0x8000));
  }
  const b64 = btoa(binary);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}

/** Parses a DER certificate (`new crypto.X509Certificate(der)`). */
export type X509Parser = (der: Uint8Array) => NodeX509;

function peerCertificate(
  c: NodeDetailedCertificate,
  parse: X509Parser | undefined,
): PeerCertificate {
  const raw = c.raw!;
  let x509: NodeX509 | undefined;
  try {
    x509 = parse?.(raw);
  } catch { /* fall back to the detailed object */ }
  return {
    // X509Certificate keeps the order of the certificate; the detailed object's key order varies by runtime.
    subject: x509 ? lines(x509.subject) : dn(c.subject),
    issuer: x509 ? lines(x509.issuer) : dn(c.issuer),
    subjectAltName: c.subjectaltname ?? "",
    serialNumber: (c.serialNumber ?? "").toUpperCase(),
    fingerprint256: c.fingerprint256 ?? "",
    validFrom: new Date(c.valid_from ?? NaN),
    validTo: new Date(c.valid_to ?? NaN),
    der: Uint8Array.from(raw),
    pem: pemOf(raw),
  };
}

/** The OpenSSL verification code for the peer certificate, or undefined when it verified. */
function verifyCode(t: NodeTlsState): string | undefined {
  const ssl = t.ssl;
  if (ssl && typeof ssl.verifyError === "function") {
    const e = ssl.verifyError();
    if (e === null || e === undefined || e === "") return undefined;
    if (typeof e === "string") return e;
    const code = (e as { code?: unknown }).code;
    return typeof code === "string" ? code : String((e as Error).message ?? e);
  }
  if (t.authorized === true) return undefined;
  const a = t.authorizationError;
  if (typeof a === "string" && a !== "") return a;
  const code = (a as { code?: unknown } | null | undefined)?.code;
  return typeof code === "string" ? code : "UNABLE_TO_VERIFY";
}

/**
 * Reads the negotiated session. `requested` says whether a client
 * certificate was asked for; `sni` is the name seen by the SNI callback
 * (some runtimes do not set `servername` on a server-side `TLSSocket`).
 */
export function readTlsInfo(
  t: NodeTlsState,
  requested: boolean,
  sni: string | undefined,
  parse?: X509Parser,
): TlsInfo {
  const cipher = t.getCipher?.() ?? null;
  const cipherName = cipher?.standardName ?? cipher?.name ?? "";
  const detailed = requested ? t.getPeerCertificate?.(false) ?? null : null;
  const hasCert = detailed !== null && detailed.raw !== undefined && detailed.raw.byteLength > 0;
  const error = !requested ? undefined : hasCert ? verifyCode(t) : "NO_PEER_CERTIFICATE";
  const named = typeof t.servername === "string" && t.servername !== "" ? t.servername : sni;
  const servername = named ? named.toLowerCase() : undefined;
  return {
    protocol: t.getProtocol?.() ?? "",
    cipher: cipherName,
    cipherBits: cipherBits(cipherName),
    alpnProtocol: typeof t.alpnProtocol === "string" ? t.alpnProtocol : undefined,
    servername,
    authorized: hasCert && error === undefined,
    authorizationError: error,
    peerCertificate: hasCert ? peerCertificate(detailed!, parse) : undefined,
  };
}

/** Facts about a server certificate from `crypto.X509Certificate`. */
export function certificateSummary(x: NodeX509): CertificateSummary {
  return {
    subject: lines(x.subject),
    issuer: lines(x.issuer),
    subjectAltName: x.subjectAltName ?? "",
    validFrom: new Date(x.validFrom),
    validTo: new Date(x.validTo),
  };
}
