/**
 * Typed errors of the WebSocket layer. Each carries a stable string `code`;
 * protocol errors also carry the close code to send (RFC 6455 §7.4.1) and
 * handshake errors the HTTP status to answer with.
 *
 * @module
 */

import type { HttpRequest } from "./handshake.ts";

/**
 * Stable codes of {@linkcode WsProtocolError}, each with the close code it
 * implies. 1006 means "no close frame can be sent": the input ended early.
 *
 * @example The close code for a code name
 * ```ts
 * import { WsProtocolErrorCode } from "@netstreams/netstreams/ws";
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(WsProtocolErrorCode.WS_TOO_MANY_FRAGMENTS, 1009);
 * ```
 */
export const WsProtocolErrorCode = {
  /** RSV1-3 set without an extension that defines them (§5.2). */
  WS_RESERVED_BITS: 1002,
  /** Opcode 3-7 or 11-15 (§5.2). */
  WS_RESERVED_OPCODE: 1002,
  /** A control frame with FIN clear (§5.5). */
  WS_FRAGMENTED_CONTROL: 1002,
  /** A client frame without a mask (§5.1). */
  WS_UNMASKED_FRAME: 1002,
  /** A control frame payload over 125 bytes (§5.5). */
  WS_CONTROL_TOO_LONG: 1002,
  /** A 64-bit length with its most significant bit set (§5.2). */
  WS_LENGTH_OVERFLOW: 1002,
  /** A length not in its shortest form, when strict lengths are on (§5.2). */
  WS_NON_MINIMAL_LENGTH: 1002,
  /** A frame payload over `maxFrameSize`. */
  WS_FRAME_TOO_BIG: 1009,
  /** A continuation frame with no message open (§5.4). */
  WS_UNEXPECTED_CONTINUATION: 1002,
  /** A text or binary frame while a message is still open (§5.4). */
  WS_EXPECTED_CONTINUATION: 1002,
  /** A message over `maxPayload` bytes. */
  WS_MESSAGE_TOO_BIG: 1009,
  /** A message of more than `maxFragments` frames. */
  WS_TOO_MANY_FRAGMENTS: 1009,
  /** Text that is not UTF-8 (§8.1). */
  WS_INVALID_UTF8: 1007,
  /** permessage-deflate data that cannot be inflated (RFC 7692 §8; 1007 as `ws` sends). */
  WS_INVALID_COMPRESSED_DATA: 1007,
  /** A close frame with a 1-byte payload (§5.5.1). */
  WS_INVALID_CLOSE_PAYLOAD: 1002,
  /** A close frame with a code that may not be sent (§7.4). */
  WS_INVALID_CLOSE_CODE: 1002,
  /** A close reason that is not UTF-8 (§5.5.1). */
  WS_INVALID_CLOSE_REASON: 1007,
  /** The input ended inside a frame. */
  WS_TRUNCATED_FRAME: 1006,
  /** The input ended inside a fragmented message. */
  WS_UNFINISHED_MESSAGE: 1006,
} as const;

/** One of the keys of {@linkcode WsProtocolErrorCode}. */
export type WsProtocolErrorCodeName = keyof typeof WsProtocolErrorCode;

/**
 * A peer broke RFC 6455. The decoders report it and stop; the caller decides
 * what to do, usually to send a close frame with `closeCode` (unless it is
 * 1006) and drop the connection.
 *
 * @example Code and close code
 * ```ts
 * import { WsProtocolError } from "@netstreams/netstreams/ws";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const err = new WsProtocolError("WS_UNMASKED_FRAME", "Received an unmasked frame");
 * deepStrictEqual([err.name, err.code, err.closeCode], ["WsProtocolError", "WS_UNMASKED_FRAME", 1002]);
 * ```
 */
export class WsProtocolError extends Error {
  /** Stable code naming the violation, for example `WS_UNMASKED_FRAME`. */
  readonly code: WsProtocolErrorCodeName;
  /** Close code to send: 1002, 1007 or 1009 (1006: input ended, nothing to send). */
  readonly closeCode: number;

  /** Creates an error; the close code follows from `code`. */
  constructor(code: WsProtocolErrorCodeName, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "WsProtocolError";
    this.code = code;
    this.closeCode = WsProtocolErrorCode[code];
  }
}

/** Stable codes of {@linkcode WsHandshakeError}. */
export type WsHandshakeErrorCode =
  | "WS_HANDSHAKE_REQUEST_LINE_TOO_LONG"
  | "WS_HANDSHAKE_HEADERS_TOO_LARGE"
  | "WS_HANDSHAKE_TOO_MANY_HEADERS"
  | "WS_HANDSHAKE_MALFORMED"
  | "WS_HANDSHAKE_HTTP_VERSION"
  | "WS_HANDSHAKE_METHOD"
  | "WS_HANDSHAKE_CONNECTION"
  | "WS_HANDSHAKE_HOST"
  | "WS_HANDSHAKE_KEY"
  | "WS_HANDSHAKE_VERSION"
  | "WS_HANDSHAKE_PROTOCOL"
  | "WS_HANDSHAKE_EXTENSIONS"
  | "WS_HANDSHAKE_TRUNCATED";

/**
 * An HTTP request or WebSocket upgrade request the server must refuse. The
 * caller answers with `status` and `headers` (for example 426 with
 * `Sec-WebSocket-Version: 13`) and closes the connection.
 *
 * @example Answering a bad version
 * ```ts
 * import { WsHandshakeError } from "@netstreams/netstreams/ws";
 * import { strictEqual } from "node:assert/strict";
 *
 * const err = new WsHandshakeError("WS_HANDSHAKE_VERSION", 426, "Unsupported version", [
 *   ["Sec-WebSocket-Version", "13"],
 * ]);
 * strictEqual(err.status, 426);
 * ```
 */
export class WsHandshakeError extends Error {
  /** Stable code naming the problem. */
  readonly code: WsHandshakeErrorCode;
  /** HTTP status to answer with (400, 405, 414, 426, 431, 505). */
  readonly status: number;
  /** Headers the answer must carry, as name-value pairs. */
  readonly headers: [string, string][];
  /** The request, when its head was read (a WebSocket upgrade that failed validation). */
  request: HttpRequest | undefined = undefined;

  /** Creates an error with a code, an HTTP status and the headers to answer with. */
  constructor(
    code: WsHandshakeErrorCode,
    status: number,
    message: string,
    headers: [string, string][] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "WsHandshakeError";
    this.code = code;
    this.status = status;
    this.headers = headers;
  }
}
