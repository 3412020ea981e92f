/**
 * Close frame payloads: a 2-byte code and a UTF-8 reason (RFC 6455 §5.5.1,
 * §7.4).
 *
 * @module
 */

import { CloseCode, isValidCloseCode } from "./close_codes.ts";
import { WsProtocolError } from "./errors.ts";
import { isValidUtf8 } from "./utf8_validator.ts";

/**
 * Longest close reason in UTF-8 bytes (125 payload bytes minus the code).
 *
 * @example Checking a reason before closing
 * ```ts
 * import { MAX_CLOSE_REASON_BYTES } from "@netstreams/netstreams/ws";
 * import { ok } from "node:assert/strict";
 *
 * ok(new TextEncoder().encode("server restarting").length <= MAX_CLOSE_REASON_BYTES);
 * ```
 */
export const MAX_CLOSE_REASON_BYTES = 123;

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** A received close frame's code and reason. */
export interface CloseInfo {
  /** The close code; 1005 (no status) when the payload was empty. */
  code: number;
  /** The reason, possibly empty. */
  reason: string;
}

/**
 * Parses and validates a received close frame payload: empty (code 1005,
 * "no status received"), or a code that may be sent (see
 * {@linkcode isValidCloseCode}) and a UTF-8 reason. Returns the
 * {@linkcode WsProtocolError} to report otherwise: `WS_INVALID_CLOSE_PAYLOAD`
 * for a 1-byte payload and `WS_INVALID_CLOSE_CODE` (both 1002),
 * `WS_INVALID_CLOSE_REASON` (1007).
 *
 * @example A normal close, and one with code 1005 on the wire
 * ```ts
 * import { parseClosePayload, WsProtocolError } from "@netstreams/netstreams/ws";
 * import { deepStrictEqual, ok } from "node:assert/strict";
 *
 * deepStrictEqual(parseClosePayload(new Uint8Array([0x03, 0xe8, 0x62, 0x79, 0x65])), {
 *   code: 1000,
 *   reason: "bye",
 * });
 * const err = parseClosePayload(new Uint8Array([0x03, 0xed]));
 * ok(err instanceof WsProtocolError && err.code === "WS_INVALID_CLOSE_CODE");
 * ```
 */
export function parseClosePayload(payload: Uint8Array): CloseInfo | WsProtocolError {
  if (payload.length === 0) return { code: CloseCode.NoStatus, reason: "" };
  if (payload.length === 1) {
    return new WsProtocolError(
      "WS_INVALID_CLOSE_PAYLOAD",
      "Received a close frame with a 1-byte payload; a code takes 2 bytes (RFC 6455 §5.5.1)",
    );
  }
  const code = (payload[0] << 8) | payload[1];
  if (!isValidCloseCode(code)) {
    return new WsProtocolError(
      "WS_INVALID_CLOSE_CODE",
      `Received close code ${code}, which may not be sent (RFC 6455 §7.4)`,
    );
  }
  const reason = payload.subarray(2);
  if (!isValidUtf8(reason)) {
    return new WsProtocolError(
      "WS_INVALID_CLOSE_REASON",
      "Received a close reason that is not valid UTF-8 (RFC 6455 §5.5.1)",
    );
  }
  return { code, reason: reason.length === 0 ? "" : decoder.decode(reason) };
}

/**
 * Builds a close frame payload. With no code the payload is empty (the peer
 * sees 1005). Throws `RangeError` for a code that may not be sent or a
 * reason over 123 UTF-8 bytes, and `TypeError` for a reason without a code.
 *
 * @example Going away with a reason
 * ```ts
 * import { encodeClosePayload } from "@netstreams/netstreams/ws";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * deepStrictEqual([...encodeClosePayload(1001, "bye")], [0x03, 0xe9, 0x62, 0x79, 0x65]);
 * ```
 */
export function encodeClosePayload(code?: number, reason = ""): Uint8Array {
  if (code === undefined) {
    if (reason !== "") {
      throw new TypeError(
        `Cannot encode a close payload as a reason needs a code: current reason is ${
          JSON.stringify(reason)
        }`,
      );
    }
    return new Uint8Array(0);
  }
  if (!isValidCloseCode(code)) {
    throw new RangeError(
      `Cannot encode a close payload as code must be 1000-1003, 1007-1014 or 3000-4999: current value is ${code}`,
    );
  }
  const text = encoder.encode(reason);
  if (text.length > MAX_CLOSE_REASON_BYTES) {
    throw new RangeError(
      `Cannot encode a close payload as reason must be at most ${MAX_CLOSE_REASON_BYTES} UTF-8 bytes: current length is ${text.length}`,
    );
  }
  const out = new Uint8Array(2 + text.length);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}
