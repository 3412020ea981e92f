/**
 * TLS events of the event-style {@linkcode TcpServer}, with the reference
 * documents' names and fields (TCPServer SSLClientAuthentication, SSLStatus).
 *
 * @module
 */

import type { ClientCertificateRequest } from "../tls/client_auth.ts";

/**
 * SSLClientAuthentication: the client presented a certificate (or none
 * while one was required). Set `accept` to decide; it is prefilled with
 * the verification result.
 */
export class SSLClientAuthenticationEvent extends Event {
  /** The connection. */
  readonly connectionId: string;
  /** The certificate, PEM encoded ("" when none was sent). */
  readonly certEncoded: string;
  /** The certificate, DER encoded (empty when none was sent). */
  readonly certEncodedB: Uint8Array;
  /** Subject, e.g. "CN=client, O=Example". */
  readonly certSubject: string;
  /** Issuer distinguished name. */
  readonly certIssuer: string;
  /** "OK", or why verification failed ("CERT_HAS_EXPIRED", "NO_PEER_CERTIFICATE", ...). */
  readonly status: string;
  /** Whether to continue; prefilled with the verification result. */
  accept: boolean;
  /** Creates the event from the server's request. */
  constructor(connectionId: string, request: ClientCertificateRequest) {
    super("SSLClientAuthentication");
    const c = request.certificate;
    this.connectionId = connectionId;
    this.certEncoded = c?.pem ?? "";
    this.certEncodedB = c?.der ?? new Uint8Array(0);
    this.certSubject = c?.subject ?? "";
    this.certIssuer = c?.issuer ?? "";
    this.status = request.status;
    this.accept = request.accept;
  }
}

/** SSLStatus: progress of a TLS handshake, for logs. */
export class SSLStatusEvent extends Event {
  /** The connection, or "" for server-level messages. */
  readonly connectionId: string;
  /** What happened. */
  readonly message: string;
  /** Creates the event. */
  constructor(connectionId: string, message: string) {
    super("SSLStatus");
    this.connectionId = connectionId;
    this.message = message;
  }
}
