/**
 * TLS for netstreams servers: certificates from PEM or PFX, a store of
 * certificates chosen by SNI and reloaded without a restart, the
 * client-certificate policy, and the options a server takes as `tls`.
 *
 * @example An implicit-TLS line server with optional client certificates
 * ```ts ignore
 * import { serve } from "@netstreams/netstreams/net";
 * await using server = await serve({
 *   port: 7443,
 *   singleLineMode: true,
 *   tls: { cert: "server.pem", key: "server.key", clientCertificate: "optional", ca: "ca.pem" },
 *   onData(conn, line) { conn.write(line.slice()); },
 * });
 * ```
 *
 * @module
 */

export { type CertificateSource, loadCaList, loadCertificate } from "./certificate.ts";
export type { LoadedCertificate } from "./certificate.ts";
export { CertificateStore } from "./certificate_store.ts";
export type { CertificateStoreOptions, HostCertificate, HostInfo } from "./certificate_store.ts";
export { clientCertificateRequest } from "./client_auth.ts";
export type { ClientCertificateMode, ClientCertificateRequest } from "./client_auth.ts";
export { checkTlsOptions, resolveTls } from "./tls_options.ts";
export type { ResolvedTls, TlsOptions, TlsStartMode } from "./tls_options.ts";
export { TlsError } from "../runtime/errors.ts";
export type { TlsErrorCode } from "../runtime/errors.ts";
export type {
  CertificateSummary,
  PeerCertificate,
  StartTlsOptions,
  TlsIdentity,
  TlsInfo,
  TlsServerConfig,
  TlsVersion,
} from "../net/tls_types.ts";
export type { RuntimeAdapter } from "../net/types.ts";
