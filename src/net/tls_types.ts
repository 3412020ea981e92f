/**
 * The TLS part of the adapter contract (see `types.ts`): what the server
 * layer hands a runtime adapter to run a server-side TLS handshake, and what
 * the adapter reports back about a negotiated session. Plain data only: the
 * adapter turns it into its TLS library's objects (`node:tls` contexts).
 *
 * @module
 */

/** TLS protocol versions a server may accept (reference: SSLEnabledProtocols). */
export type TlsVersion = "TLSv1.2" | "TLSv1.3";

/**
 * One certificate chain with its private key, as PEM text, or one PKCS#12
 * (PFX) bundle. Adapters cache what they build from it by object identity:
 * treat it as immutable and make a new object to change it (that is what a
 * reload does).
 */
export interface TlsIdentity {
  /** Certificate chain, PEM, leaf first. */
  readonly cert?: string;
  /** Private key, PEM. */
  readonly key?: string;
  /** PKCS#12 / PFX bundle holding the chain and the key. */
  readonly pfx?: Uint8Array;
  /** Passphrase of an encrypted key or of the PFX. */
  readonly passphrase?: string;
}

/** Everything a runtime adapter needs to run a server-side TLS handshake. */
export interface TlsServerConfig {
  /**
   * The identity to present for the SNI name the client sent (`undefined`
   * when it sent none). Must return the default identity when no host name
   * matches; called once per handshake.
   */
  select(servername: string | undefined): TlsIdentity;
  /** Ask the client for a certificate (client-certificate policy optional or require). */
  readonly requestCert: boolean;
  /** CA certificates (PEM) that client certificates are verified against. */
  readonly ca?: readonly string[];
  /** Lowest protocol version accepted. */
  readonly minVersion: TlsVersion;
  /** Highest protocol version accepted. */
  readonly maxVersion: TlsVersion;
  /** OpenSSL cipher list for TLS 1.2 (TLS 1.3 suites are not affected); undefined = library default. */
  readonly ciphers?: string;
  /** ALPN protocols the server accepts, in preference order. */
  readonly alpnProtocols?: readonly string[];
  /** Milliseconds the whole handshake may take before the socket is destroyed. */
  readonly handshakeTimeout: number;
}

/** Options of `RuntimeAdapter.startTls`. */
export interface StartTlsOptions {
  /**
   * Bytes already read from the socket that belong to the TLS stream (the
   * client sent them right after its STARTTLS command). They are fed to the
   * TLS layer before anything read later.
   */
  initialData?: Uint8Array;
  /** Handshake progress messages (reference: SSLStatus). */
  onStatus?: (message: string) => void;
  /** Aborting it ends the handshake at once: both sockets are destroyed and the promise rejects. */
  signal?: AbortSignal;
}

/** A certificate as the peer presented it (reference: SSLClientAuthentication Cert*). */
export interface PeerCertificate {
  /** Subject distinguished name, e.g. `"CN=client, O=Example"`. */
  readonly subject: string;
  /** Issuer distinguished name. */
  readonly issuer: string;
  /** Subject alternative names as OpenSSL prints them (`"DNS:a.example, IP Address:127.0.0.1"`), or "". */
  readonly subjectAltName: string;
  /** Serial number, upper-case hex. */
  readonly serialNumber: string;
  /** SHA-256 fingerprint, upper-case hex pairs joined by ":". */
  readonly fingerprint256: string;
  /** Start of validity. */
  readonly validFrom: Date;
  /** End of validity. */
  readonly validTo: Date;
  /** The certificate, DER encoded (reference: CertEncodedB). */
  readonly der: Uint8Array;
  /** The certificate, PEM encoded (reference: CertEncoded). */
  readonly pem: string;
}

/** What was negotiated on a TLS connection (reference: SSLNegotiated*). */
export interface TlsInfo {
  /** Protocol version, e.g. `"TLSv1.3"` (reference: SSLNegotiatedVersion). */
  readonly protocol: string;
  /** IANA cipher suite name, e.g. `"TLS_AES_256_GCM_SHA384"` (reference: SSLNegotiatedCipherSuite). */
  readonly cipher: string;
  /** Secret bits of the cipher, e.g. 256 (reference: SSLNegotiatedCipherStrength); 0 when unknown. */
  readonly cipherBits: number;
  /** The ALPN protocol chosen, if any. */
  readonly alpnProtocol: string | undefined;
  /** The SNI host name the client asked for, if any. */
  readonly servername: string | undefined;
  /** True when the client presented a certificate that verified against the CA list. */
  readonly authorized: boolean;
  /**
   * Why the client certificate did not verify (OpenSSL code such as
   * `"CERT_HAS_EXPIRED"` or `"UNABLE_TO_VERIFY_LEAF_SIGNATURE"`), `"NO_PEER_CERTIFICATE"`
   * when a certificate was requested and none came, or undefined.
   */
  readonly authorizationError: string | undefined;
  /** The client's certificate, when it sent one. */
  readonly peerCertificate: PeerCertificate | undefined;
}

/** Facts about a loaded server certificate, reported by `RuntimeAdapter.prepareTls`. */
export interface CertificateSummary {
  /** Subject distinguished name. */
  readonly subject: string;
  /** Issuer distinguished name. */
  readonly issuer: string;
  /** Subject alternative names, or "". */
  readonly subjectAltName: string;
  /** Start of validity. */
  readonly validFrom: Date;
  /** End of validity. */
  readonly validTo: Date;
}
