/**
 * The client-certificate policy (reference: SSLAuthenticateClients,
 * SslCliCertMethod none / optional / require) and the request an
 * application hook decides on (reference: SSLClientAuthentication).
 *
 * @module
 */

import type { PeerCertificate, TlsInfo } from "../net/tls_types.ts";

/**
 * `"none"`: no certificate is asked for. `"optional"`: one is asked for;
 * a missing or unverifiable one is reported, not refused. `"require"`: a
 * certificate that verifies against the CA list is needed.
 */
export type ClientCertificateMode = "none" | "optional" | "require";

/** The modes, for validation. */
export const CLIENT_CERTIFICATE_MODES: readonly ClientCertificateMode[] = [
  "none",
  "optional",
  "require",
];

/** What the client-authentication hook is told (reference: SSLClientAuthentication). */
export interface ClientCertificateRequest {
  /** The client's certificate (subject, issuer, DER, PEM, fingerprint, validity), when it sent one. */
  readonly certificate: PeerCertificate | undefined;
  /** True when the certificate verified against the CA list. */
  readonly authorized: boolean;
  /** `"OK"`, or why verification failed (`"CERT_HAS_EXPIRED"`, `"NO_PEER_CERTIFICATE"`, ...). */
  readonly status: string;
  /** The policy's verdict; the hook may overrule it (reference: Accept). */
  readonly accept: boolean;
  /** Everything the handshake negotiated. */
  readonly tls: TlsInfo;
}

/**
 * Builds the request with the policy's verdict: under `"require"` only a
 * verified certificate is accepted; under `"optional"` everything is
 * accepted and the status tells what was wrong.
 *
 * @example An unverified certificate under each mode
 * ```ts
 * import { clientCertificateRequest } from "./client_auth.ts";
 * const tls = {
 *   protocol: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256", cipherBits: 128, alpnProtocol: undefined,
 *   servername: undefined, authorized: false, authorizationError: "CERT_HAS_EXPIRED", peerCertificate: undefined,
 * };
 * if (clientCertificateRequest("require", tls).accept) throw new Error("require must refuse");
 * const optional = clientCertificateRequest("optional", tls);
 * if (!optional.accept || optional.status !== "CERT_HAS_EXPIRED") throw new Error("optional must report");
 * ```
 */
export function clientCertificateRequest(
  mode: ClientCertificateMode,
  tls: TlsInfo,
): ClientCertificateRequest {
  return {
    certificate: tls.peerCertificate,
    authorized: tls.authorized,
    status: tls.authorized ? "OK" : tls.authorizationError ?? "NO_PEER_CERTIFICATE",
    accept: mode !== "require" || tls.authorized,
    tls,
  };
}
