/**
 * The TLS side of the {@linkcode TcpServer} component: its SSL* properties
 * as one settings object, turned into the server's `tls` option when it
 * starts listening, and the TLS config settings (reference: TCPServer
 * Config Settings: SSLEnabledProtocols, OpenSSLCipherList,
 * DefaultConnectionTimeout, SSLClientCACerts, SSLNegotiated*[connId]).
 *
 * @module
 */

import type { TlsVersion } from "../net/tls_types.ts";
import type { Server } from "../net/server.ts";
import { CertificateStore, type CertificateStoreOptions } from "../tls/certificate_store.ts";
import type { ClientCertificateMode } from "../tls/client_auth.ts";
import type { TlsOptions } from "../tls/tls_options.ts";

/** Certificates for the component: one (cert/key or pfx), several hosts, or a store. */
export type SslCert = CertificateStoreOptions | CertificateStore;

/** SSLStartMode: implicit (TLS from the first byte), explicit (STARTTLS via startSSL), none. */
export type SslStartMode = "implicit" | "explicit" | "none";

/** The component's TLS settings. */
export interface SslSettings {
  startMode: SslStartMode;
  cert: SslCert | undefined;
  authenticateClients: boolean;
  /** ICS SslCliCertMethod, when set; otherwise authenticateClients decides. */
  clientCertMethod: ClientCertificateMode | undefined;
  ca: string | undefined;
  minVersion: TlsVersion;
  maxVersion: TlsVersion;
  ciphers: string | undefined;
  /** Milliseconds. */
  handshakeTimeout: number;
}

/** Defaults (reference: SSLStartMode none, TLS 1.2 and 1.3, 10 s handshake). */
export function defaultSslConfig(): SslSettings {
  return {
    startMode: "none",
    cert: undefined,
    authenticateClients: false,
    clientCertMethod: undefined,
    ca: undefined,
    minVersion: "TLSv1.2",
    maxVersion: "TLSv1.3",
    ciphers: undefined,
    handshakeTimeout: 10_000,
  };
}

/** The server's `tls` option for these settings; undefined when TLS is off. */
export function tlsOptionsOf(s: SslSettings): TlsOptions | undefined {
  if (s.startMode === "none") return undefined;
  if (s.cert === undefined) {
    throw new TypeError("Cannot start listening with SSL enabled: set sslCert first");
  }
  const certs: TlsOptions = s.cert instanceof CertificateStore ? { store: s.cert } : { ...s.cert };
  return {
    ...certs,
    mode: s.startMode,
    clientCertificate: s.clientCertMethod ?? (s.authenticateClients ? "require" : "none"),
    ca: s.ca,
    minVersion: s.minVersion,
    maxVersion: s.maxVersion,
    ciphers: s.ciphers,
    handshakeTimeout: s.handshakeTimeout,
  };
}

/** SSLEnabledProtocols bits (reference values): TLS1.3 = 12288, TLS1.2 = 3072. */
const TLS13 = 12288;
const TLS12 = 3072;
const OLD = 768 | 192 | 48 | 12; // TLS 1.1, TLS 1.0, SSL 3, SSL 2

function protocolsOf(s: SslSettings): number {
  return (s.minVersion === "TLSv1.2" ? TLS12 : 0) | (s.maxVersion === "TLSv1.3" ? TLS13 : 0);
}

function setProtocols(s: SslSettings, value: string): void {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    throw new TypeError(
      `Cannot set SSLEnabledProtocols as it must be a positive integer bit mask: current value is "${value}"`,
    );
  }
  if ((n & OLD) !== 0 || (n & (TLS12 | TLS13)) === 0) {
    throw new RangeError(
      `Cannot set SSLEnabledProtocols to ${n}: only TLS 1.2 (3072) and TLS 1.3 (12288) are supported`,
    );
  }
  s.minVersion = n & TLS12 ? "TLSv1.2" : "TLSv1.3";
  s.maxVersion = n & TLS13 ? "TLSv1.3" : "TLSv1.2";
}

/** `Name[connId]` → [name, connId]. */
function indexed(name: string): [string, string | undefined] {
  const m = /^(.*)\[(.*)\]$/.exec(name);
  return m ? [m[1]!, m[2]!] : [name, undefined];
}

/**
 * Applies a TLS setting; returns false when `name` is not one. Throws
 * TypeError/RangeError for bad values and for read-only settings.
 */
export function applyTlsConfig(s: SslSettings, name: string, value: string): boolean {
  switch (indexed(name.toLowerCase())[0]) {
    case "sslenabledprotocols":
      setProtocols(s, value);
      return true;
    case "opensslcipherlist":
    case "sslenabledciphersuites":
      s.ciphers = value === "" || value === "*" || value.toUpperCase() === "DEFAULT"
        ? undefined
        : value;
      return true;
    case "defaultconnectiontimeout": {
      const seconds = Number(value);
      if (!(seconds >= 1) || seconds > 2_147_483) {
        throw new RangeError(
          `Cannot set DefaultConnectionTimeout as it must be 1-2147483 seconds (a handshake without a deadline lets silent clients hold slots): current value is "${value}"`,
        );
      }
      s.handshakeTimeout = Math.round(seconds * 1000);
      return true;
    }
    case "sslclientcacerts":
      s.ca = value === "" ? undefined : value.replace(/\r\n/g, "\n");
      return true;
    case "sslclicertmethod": {
      const v = value.toLowerCase();
      if (v !== "none" && v !== "optional" && v !== "require") {
        throw new TypeError(
          `Cannot set SslCliCertMethod as it must be none, optional or require: current value is "${value}"`,
        );
      }
      s.clientCertMethod = v;
      return true;
    }
    case "sslnegotiatedversion":
    case "sslnegotiatedcipher":
    case "sslnegotiatedciphersuite":
    case "sslnegotiatedcipherstrength":
      throw new TypeError(`Cannot set ${name}: it is read-only`);
    default:
      return false;
  }
}

/** Reads a TLS setting; undefined when `name` is not one. */
export function readTlsConfig(s: SslSettings, server: Server, name: string): string | undefined {
  const [key, id] = indexed(name.toLowerCase());
  const negotiated = () => {
    if (id === undefined) {
      throw new TypeError(`Cannot read ${name}: give a connection id, e.g. ${name}[1]`);
    }
    return server.get(id).tls;
  };
  switch (key) {
    case "sslenabledprotocols":
      return String(protocolsOf(s));
    case "opensslcipherlist":
    case "sslenabledciphersuites":
      return s.ciphers ?? "DEFAULT";
    case "defaultconnectiontimeout":
      return String(s.handshakeTimeout / 1000);
    case "sslclientcacerts":
      return s.ca ?? "";
    case "sslclicertmethod":
      return s.clientCertMethod ?? (s.authenticateClients ? "require" : "none");
    case "sslnegotiatedversion":
      return negotiated()?.protocol ?? "";
    case "sslnegotiatedcipher":
    case "sslnegotiatedciphersuite":
      return negotiated()?.cipher ?? "";
    case "sslnegotiatedcipherstrength":
      return String(negotiated()?.cipherBits ?? 0);
    default:
      return undefined;
  }
}
