/**
 * Handshake answers: `Sec-WebSocket-Accept` and the 101 response (RFC 6455
 * §4.2.2), and error responses (reference: WebSocketOpenRequest StatusCode
 * and ResponseHeaders).
 *
 * @module
 */

import { isFieldValue, isToken, latin1Bytes, REASONS } from "./_http.ts";
import { sha1 } from "./_sha1.ts";
import { type ExtensionOffer, formatExtensions } from "./extensions.ts";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const encoder = new TextEncoder();

/** Extra response headers: a `Headers`, a record, or name-value pairs. */
export type HeaderList = Headers | Record<string, string> | Iterable<readonly [string, string]>;

/** Options of {@linkcode buildAcceptResponse}. */
export interface AcceptResponseOptions {
  /** The request's `Sec-WebSocket-Key`. */
  key: string;
  /** The chosen subprotocol (one the client offered); omitted when undefined. */
  protocol?: string;
  /** The accepted extensions, as a header value or as offers; omitted when undefined or empty. */
  extensions?: string | readonly ExtensionOffer[];
  /** More headers (reference: ResponseHeaders), for example `Set-Cookie`. */
  headers?: HeaderList;
}

/** Options of {@linkcode buildErrorResponse}. */
export interface ErrorResponseOptions {
  /**
   * Headers to send (for example `WWW-Authenticate`, or a
   * {@linkcode WsHandshakeError}'s `headers`). `Content-Length` and
   * `Connection` are set by the builder; given ones are ignored.
   */
  headers?: HeaderList;
  /**
   * The body; a string is sent as UTF-8 with `Content-Type: text/plain;
   * charset=utf-8` unless a content type is given.
   * @default {""}
   */
  body?: string | Uint8Array;
}

/**
 * The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key`: base64 of the
 * SHA-1 of the key and the RFC 6455 GUID (§4.2.2), computed synchronously.
 *
 * @example The RFC 6455 §1.3 example
 * ```ts
 * import { acceptKey } from "@netstreams/netstreams/ws";
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
 * ```
 */
export function acceptKey(key: string): string {
  const digest = sha1(encoder.encode(key + GUID));
  return btoa(String.fromCharCode.apply(null, digest as unknown as number[]));
}

function pairs(action: string, headers: HeaderList | undefined): [string, string][] {
  if (headers === undefined) return [];
  const list: Iterable<readonly [string, string]> = headers instanceof Headers
    ? headers
    : Symbol.iterator in headers
    ? headers as Iterable<readonly [string, string]>
    : Object.entries(headers);
  const out: [string, string][] = [];
  for (const [name, value] of list) {
    if (typeof name !== "string" || !isToken(name)) {
      throw new TypeError(
        `Cannot ${action} as header names must be tokens: current value is ${JSON.stringify(name)}`,
      );
    }
    if (typeof value !== "string" || !isFieldValue(value)) {
      throw new TypeError(
        `Cannot ${action} as header ${name} must have a value without CR, LF or other controls: current value is ${
          JSON.stringify(value)
        }`,
      );
    }
    out.push([name, value]);
  }
  return out;
}

function head(status: number, headers: [string, string][]): string {
  let s = `HTTP/1.1 ${status} ${REASONS[status] ?? ""}\r\n`;
  for (const [name, value] of headers) s += `${name}: ${value}\r\n`;
  return s + "\r\n";
}

/**
 * The `101 Switching Protocols` response accepting a WebSocket upgrade, as
 * bytes: `Upgrade`, `Connection`, `Sec-WebSocket-Accept`, then the chosen
 * subprotocol and extensions, then extra headers. Throws `TypeError` for a
 * header that would break the response (CR, LF, a non-token name) or a
 * subprotocol that is not a token.
 *
 * @example Accepting with a subprotocol
 * ```ts
 * import { buildAcceptResponse } from "@netstreams/netstreams/ws";
 * import { strictEqual } from "node:assert/strict";
 *
 * const bytes = buildAcceptResponse({ key: "dGhlIHNhbXBsZSBub25jZQ==", protocol: "chat" });
 * strictEqual(
 *   new TextDecoder().decode(bytes),
 *   "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
 *     "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n",
 * );
 * ```
 */
export function buildAcceptResponse(options: AcceptResponseOptions): Uint8Array {
  const action = "build an accept response";
  const { key, protocol, extensions } = options;
  if (typeof key !== "string" || !/^[+/0-9A-Za-z]{22}==$/.test(key)) {
    throw new TypeError(
      `Cannot ${action} as key must be 16 bytes in base64: current value is ${JSON.stringify(key)}`,
    );
  }
  const headers: [string, string][] = [
    ["Upgrade", "websocket"],
    ["Connection", "Upgrade"],
    ["Sec-WebSocket-Accept", acceptKey(key)],
  ];
  if (protocol !== undefined) {
    if (typeof protocol !== "string" || !isToken(protocol)) {
      throw new TypeError(
        `Cannot ${action} as protocol must be a token: current value is ${
          JSON.stringify(protocol)
        }`,
      );
    }
    headers.push(["Sec-WebSocket-Protocol", protocol]);
  }
  const ext = typeof extensions === "string" ? extensions : formatExtensions(extensions ?? []);
  if (ext !== "") headers.push(["Sec-WebSocket-Extensions", ext]);
  return latin1Bytes(head(101, pairs(action, [...headers, ...pairs(action, options.headers)])));
}

/**
 * A complete non-101 response as bytes (reference: WebSocketOpenRequest
 * with a StatusCode such as 401), with `Content-Length` and
 * `Connection: close`: the caller sends it and closes. Throws `RangeError`
 * for a status outside 200-599 and `TypeError` for a header that would
 * break the response.
 *
 * @example Refusing with 401 and a challenge
 * ```ts
 * import { buildErrorResponse } from "@netstreams/netstreams/ws";
 * import { strictEqual } from "node:assert/strict";
 *
 * const bytes = buildErrorResponse(401, {
 *   headers: { "WWW-Authenticate": 'Basic realm="chat"' },
 *   body: "login first",
 * });
 * strictEqual(
 *   new TextDecoder().decode(bytes),
 *   'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="chat"\r\n' +
 *     "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 11\r\nConnection: close\r\n\r\n" +
 *     "login first",
 * );
 * ```
 */
export function buildErrorResponse(status: number, options: ErrorResponseOptions = {}): Uint8Array {
  const action = "build an error response";
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new RangeError(
      `Cannot ${action} as status must be an integer 200-599: current value is ${status}`,
    );
  }
  const headers = pairs(action, options.headers).filter(([name]) => {
    const lower = name.toLowerCase();
    return lower !== "content-length" && lower !== "connection";
  });
  const body = options.body ?? "";
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`Cannot ${action} as body must be a string or a Uint8Array`);
  }
  if (
    typeof body === "string" && body !== "" &&
    !headers.some(([n]) => n.toLowerCase() === "content-type")
  ) {
    headers.push(["Content-Type", "text/plain; charset=utf-8"]);
  }
  // No Content-Length on 204 (RFC 9110 §8.6); 204 and 304 carry no body.
  const noBody = status === 204 || status === 304;
  if (noBody && bytes.length > 0) {
    throw new RangeError(
      `Cannot ${action} as status ${status} has no body: current body is ${bytes.length} bytes`,
    );
  }
  if (status !== 204) headers.push(["Content-Length", String(bytes.length)]);
  headers.push(["Connection", "close"]);
  const text = latin1Bytes(head(status, headers));
  if (bytes.length === 0) return text;
  const out = new Uint8Array(text.length + bytes.length);
  out.set(text);
  out.set(bytes, text.length);
  return out;
}
