/**
 * WebSocket close codes (RFC 6455 §7.4.1 and the IANA "WebSocket Close Code
 * Number Registry") and the rule for which ones may appear on the wire.
 *
 * @module
 */

/**
 * Named close codes (reference: DisconnectStatusCode, Disconnected
 * `StatusCode`).
 *
 * @example Closing after a bad text message
 * ```ts
 * import { CloseCode } from "@netstreams/netstreams/ws";
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(CloseCode.InvalidPayload, 1007);
 * ```
 */
export const CloseCode = {
  /** 1000: normal closure. */
  Normal: 1000,
  /** 1001: the endpoint is going away (server shutdown, page navigation). */
  GoingAway: 1001,
  /** 1002: protocol error. */
  ProtocolError: 1002,
  /** 1003: a data type the endpoint cannot accept (binary where only text is handled). */
  UnsupportedData: 1003,
  /** 1005: no status code was present; never sent on the wire. */
  NoStatus: 1005,
  /** 1006: the connection dropped without a close frame; never sent on the wire. */
  Abnormal: 1006,
  /** 1007: payload inconsistent with the message type (invalid UTF-8 in text). */
  InvalidPayload: 1007,
  /** 1008: a message violates the endpoint's policy. */
  PolicyViolation: 1008,
  /** 1009: a message or frame is too big to process. */
  MessageTooBig: 1009,
  /** 1010: the client needs an extension the server did not negotiate. */
  MandatoryExtension: 1010,
  /** 1011: the server met an unexpected condition. */
  InternalError: 1011,
  /** 1012: the service is restarting (IANA registry). */
  ServiceRestart: 1012,
  /** 1013: try again later (IANA registry). */
  TryAgainLater: 1013,
  /** 1014: a gateway received an invalid response (IANA registry). */
  BadGateway: 1014,
  /** 1015: TLS handshake failure; never sent on the wire. */
  TlsHandshake: 1015,
} as const;

/** One of the values of {@linkcode CloseCode}. */
export type CloseCodeValue = typeof CloseCode[keyof typeof CloseCode];

/**
 * Whether `code` may appear in a close frame: 1000-1003, 1007-1014 and the
 * application range 3000-4999 (RFC 6455 §7.4.1-§7.4.2, IANA registry).
 * 1004, 1005, 1006 and 1015 are reserved or local-only; anything else below
 * 3000 is unassigned. A received close frame with another code is a
 * protocol error (1002); sending one is refused.
 *
 * @example Codes a peer may send, and codes it may not
 * ```ts
 * import { isValidCloseCode } from "@netstreams/netstreams/ws";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * deepStrictEqual([1000, 1005, 1014, 2999, 4000].map(isValidCloseCode), [
 *   true, false, true, false, true,
 * ]);
 * ```
 */
export function isValidCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999);
}
