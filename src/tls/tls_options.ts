/**
 * TLS options of a server (reference: SSLEnabled, SSLStartMode, SSLCert,
 * SSLAuthenticateClients, SSLEnabledProtocols, cipher list,
 * DefaultConnectionTimeout) and their resolution into what the runtime
 * adapter needs.
 *
 * @module
 */

import type { TlsServerConfig, TlsVersion } from "../net/tls_types.ts";
import { getRuntime, type RuntimeAdapter, TlsError } from "../runtime/mod.ts";
import { loadCaList } from "./certificate.ts";
import { CertificateStore, type CertificateStoreOptions } from "./certificate_store.ts";
import { CLIENT_CERTIFICATE_MODES, type ClientCertificateMode } from "./client_auth.ts";

/** `"implicit"`: TLS from the first byte. `"explicit"`: plaintext until `conn.startTls()` (STARTTLS). */
export type TlsStartMode = "implicit" | "explicit";

/** TLS settings of a server. Certificates come from `cert`/`key`, `pfx`, `hosts`, or a `store`. */
export interface TlsOptions extends CertificateStoreOptions {
  /** A store shared with other servers or reloaded by the application (replaces cert/key/pfx/hosts). */
  store?: CertificateStore;
  /** When the handshake happens (reference: SSLStartMode). @default "implicit" */
  mode?: TlsStartMode;
  /** Client certificates: none, optional or require (reference: SslCliCertMethod). @default "none" */
  clientCertificate?: ClientCertificateMode;
  /** CA certificates client certificates must chain to: PEM text, bytes or file paths (reference: SSLClientCACerts). */
  ca?: string | Uint8Array | readonly (string | Uint8Array)[];
  /** Lowest protocol version (reference: SSLEnabledProtocols). @default "TLSv1.2" */
  minVersion?: TlsVersion;
  /** Highest protocol version. @default "TLSv1.3" */
  maxVersion?: TlsVersion;
  /** OpenSSL cipher list for TLS 1.2 (reference: OpenSSLCipherList). @default the TLS library's */
  ciphers?: string;
  /** ALPN protocols offered, in preference order. @default none */
  alpnProtocols?: readonly string[];
  /** Milliseconds a client has to finish the handshake (reference: DefaultConnectionTimeout). @default 10000 */
  handshakeTimeout?: number;
}

/** {@linkcode TlsOptions} after loading: the store, the policy and the adapter's config. */
export interface ResolvedTls {
  /** The certificates, reloadable. */
  readonly store: CertificateStore;
  /** When the handshake happens. */
  readonly mode: TlsStartMode;
  /** The client-certificate policy. */
  readonly clientCertificate: ClientCertificateMode;
  /** What the runtime adapter runs handshakes with. */
  readonly config: TlsServerConfig;
}

const VERSIONS: readonly TlsVersion[] = ["TLSv1.2", "TLSv1.3"];
const MAX_TIMEOUT = 2 ** 31 - 1;

/** Checks option values; throws `TypeError`/`RangeError` naming the option and the value. */
export function checkTlsOptions(o: TlsOptions): void {
  if (o.mode !== undefined && o.mode !== "implicit" && o.mode !== "explicit") {
    throw new TypeError(
      `Cannot use tls.mode as it must be "implicit" or "explicit": current value is ${
        String(o.mode)
      }`,
    );
  }
  if (
    o.clientCertificate !== undefined && !CLIENT_CERTIFICATE_MODES.includes(o.clientCertificate)
  ) {
    throw new TypeError(
      `Cannot use tls.clientCertificate as it must be "none", "optional" or "require": current value is ${
        String(o.clientCertificate)
      }`,
    );
  }
  for (const [name, v] of [["minVersion", o.minVersion], ["maxVersion", o.maxVersion]] as const) {
    if (v !== undefined && !VERSIONS.includes(v)) {
      throw new RangeError(
        `Cannot use tls.${name} as it must be "TLSv1.2" or "TLSv1.3": current value is ${
          String(v)
        }`,
      );
    }
  }
  if ((o.minVersion ?? "TLSv1.2") > (o.maxVersion ?? "TLSv1.3")) {
    throw new RangeError(
      `Cannot use tls.minVersion ${o.minVersion} above tls.maxVersion ${o.maxVersion}`,
    );
  }
  const t = o.handshakeTimeout;
  if (t !== undefined && (typeof t !== "number" || !(t >= 1) || t > MAX_TIMEOUT)) {
    throw new RangeError(
      `Cannot use tls.handshakeTimeout as it must be 1-${MAX_TIMEOUT} milliseconds: current value is ${t}`,
    );
  }
  if (
    o.store === undefined && o.cert === undefined && o.pfx === undefined &&
    (o.hosts?.length ?? 0) === 0
  ) {
    throw new TypeError(
      "Cannot use tls without a certificate: give cert and key, pfx, hosts or store",
    );
  }
}

/**
 * Loads certificates and the CA list, and has the runtime build every
 * context, so that anything unusable fails here, before listening, with a
 * `TlsError` naming the file.
 *
 * @example
 * ```ts ignore
 * import { resolveTls } from "./tls_options.ts";
 * const tls = await resolveTls({ cert: "server.pem", key: "server.key", clientCertificate: "optional", ca: "ca.pem" });
 * ```
 */
export async function resolveTls(o: TlsOptions, runtime?: RuntimeAdapter): Promise<ResolvedTls> {
  checkTlsOptions(o);
  const store = o.store ?? new CertificateStore(o);
  await store.load();
  const clientCertificate = o.clientCertificate ?? "none";
  let ca: string[] | undefined;
  if (o.ca !== undefined) {
    ca = await loadCaList(o.ca);
  }
  const config: TlsServerConfig = {
    select: (name) => store.select(name),
    requestCert: clientCertificate !== "none",
    ca,
    minVersion: o.minVersion ?? "TLSv1.2",
    maxVersion: o.maxVersion ?? "TLSv1.3",
    ciphers: o.ciphers,
    alpnProtocols: o.alpnProtocols,
    handshakeTimeout: o.handshakeTimeout ?? 10_000,
  };
  const rt = runtime ?? await getRuntime();
  if (rt.startTls === undefined || rt.prepareTls === undefined) {
    throw new TlsError(
      "ERR_TLS_NOT_CONFIGURED",
      `The ${rt.name} runtime adapter has no TLS support`,
    );
  }
  await rt.prepareTls(config, store.identities());
  return { store, mode: o.mode ?? "implicit", clientCertificate, config };
}
