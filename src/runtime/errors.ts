/**
 * Errors the runtime adapters raise themselves.
 *
 * @module
 */

/**
 * A feature the current runtime cannot provide (for example `ipv6Only` on
 * Deno). `code` is always `"ENOTSUP"`; `runtime` and `feature` say which.
 *
 * @example Recognising the error
 * ```ts
 * import { NotSupportedError } from "./errors.ts";
 *
 * const error = new NotSupportedError("deno", "ipv6Only", "ipv6Only is not supported on Deno");
 * if (error.code !== "ENOTSUP" || error.feature !== "ipv6Only") throw new Error("unexpected");
 * ```
 */
export class NotSupportedError extends Error {
  /** Always `"ENOTSUP"`. */
  readonly code = "ENOTSUP";
  /** The runtime that lacks the feature: "deno", "bun" or "node". */
  readonly runtime: string;
  /** The option or operation that is not available, e.g. `"ipv6Only"`. */
  readonly feature: string;

  /**
   * Creates the error.
   *
   * @param runtime The runtime that lacks the feature.
   * @param feature The option or operation asked for.
   * @param message What is missing and what to do instead.
   */
  constructor(runtime: string, feature: string, message: string) {
    super(message);
    this.name = "NotSupportedError";
    this.runtime = runtime;
    this.feature = feature;
  }
}

/** Stable codes of {@linkcode TlsError}. */
export type TlsErrorCode =
  | "ERR_TLS_HANDSHAKE"
  | "ERR_TLS_HANDSHAKE_TIMEOUT"
  | "ERR_TLS_CLIENT_CERT"
  | "ERR_TLS_ALREADY_STARTED"
  | "ERR_TLS_NOT_CONFIGURED"
  | "ERR_TLS_PIPELINED"
  | "ERR_TLS_CERT";

/** The reference documents' number for each {@linkcode TlsErrorCode} (TCPServer "SSL Errors"). */
export const TLS_STATUS: Readonly<Record<TlsErrorCode, number>> = {
  ERR_TLS_HANDSHAKE: 276,
  ERR_TLS_HANDSHAKE_TIMEOUT: 276,
  ERR_TLS_CLIENT_CERT: 280,
  ERR_TLS_ALREADY_STARTED: 276,
  ERR_TLS_NOT_CONFIGURED: 273,
  ERR_TLS_PIPELINED: 276,
  ERR_TLS_CERT: 273,
};

/**
 * A TLS failure: a handshake that failed or timed out, a refused client
 * certificate, STARTTLS asked twice, or unusable certificate material.
 * `code` is stable; `status` is the reference documents' number (276 "Error
 * during handshake", 280 "Error verifying certificate", 273 "Cannot acquire
 * security credentials"). `file` names the file that could not be used, and
 * `reason` carries the TLS library's own code (`"CERT_HAS_EXPIRED"`, ...).
 *
 * @example Recognising a handshake timeout
 * ```ts
 * import { TlsError } from "./errors.ts";
 *
 * const error = new TlsError("ERR_TLS_HANDSHAKE_TIMEOUT", "TLS handshake not done within 10000 ms");
 * if (error.status !== 276 || error.code !== "ERR_TLS_HANDSHAKE_TIMEOUT") throw new Error("unexpected");
 * ```
 */
export class TlsError extends Error {
  /** What failed, e.g. `"ERR_TLS_HANDSHAKE"`. */
  readonly code: TlsErrorCode;
  /** The reference documents' error number for `code`. */
  readonly status: number;
  /** The certificate, key or CA file concerned, when there is one. */
  readonly file: string | undefined;
  /** The TLS library's code or the verification error, when known. */
  readonly reason: string | undefined;

  /**
   * Creates the error.
   *
   * @param code What failed.
   * @param message What happened and what to do.
   * @param details The file concerned, the library's reason, and the cause.
   */
  constructor(
    code: TlsErrorCode,
    message: string,
    details: { file?: string; reason?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "TlsError";
    this.code = code;
    this.status = TLS_STATUS[code];
    this.file = details.file;
    this.reason = details.reason;
  }
}
