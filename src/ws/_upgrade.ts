/**
 * Internal: validation of a WebSocket opening handshake request (RFC 6455
 * §4.2.1, §4.4).
 *
 * @module
 */

import { hasToken, headerField, isToken, splitList } from "./_http.ts";
import { WsHandshakeError } from "./errors.ts";
import { parseExtensions } from "./extensions.ts";
import type { HttpRequest, WebSocketOffer } from "./handshake.ts";

const KEY = /^[+/0-9A-Za-z]{22}==$/;

function bad(code: ConstructorParameters<typeof WsHandshakeError>[0], message: string) {
  return new WsHandshakeError(code, 400, message);
}

/**
 * Returns the offer of a valid upgrade request, undefined when the request
 * does not ask for WebSocket (no `websocket` token in `Upgrade`), and
 * throws {@linkcode WsHandshakeError} for an invalid upgrade request.
 */
export function checkUpgrade(request: HttpRequest): WebSocketOffer | undefined {
  const raw = request.rawHeaders;
  const h = { get: (name: string) => headerField(raw, name) };
  if (!hasToken(h.get("upgrade"), "websocket")) return undefined;
  if (request.method !== "GET") {
    throw new WsHandshakeError(
      "WS_HANDSHAKE_METHOD",
      405,
      `Received a WebSocket upgrade with method ${request.method}; it must be GET`,
      [["Allow", "GET"]],
    );
  }
  if (request.httpVersion === "1.0") {
    throw bad(
      "WS_HANDSHAKE_HTTP_VERSION",
      "Received a WebSocket upgrade over HTTP/1.0; it needs HTTP/1.1",
    );
  }
  if (!hasToken(h.get("connection"), "upgrade")) {
    throw bad(
      "WS_HANDSHAKE_CONNECTION",
      "Received a WebSocket upgrade without Connection: Upgrade",
    );
  }
  const version = h.get("sec-websocket-version");
  if (version !== "13") {
    throw new WsHandshakeError(
      "WS_HANDSHAKE_VERSION",
      426,
      `Received Sec-WebSocket-Version ${JSON.stringify(version)}; only 13 is supported`,
      [["Sec-WebSocket-Version", "13"]],
    );
  }
  const key = h.get("sec-websocket-key");
  if (key === null || !KEY.test(key)) {
    throw bad(
      "WS_HANDSHAKE_KEY",
      `Received Sec-WebSocket-Key ${JSON.stringify(key)}; it must be 16 bytes in base64`,
    );
  }
  const protocols = [...new Set(splitList(h.get("sec-websocket-protocol")))];
  const invalid = protocols.find((p) => !isToken(p));
  if (invalid !== undefined) {
    throw bad(
      "WS_HANDSHAKE_PROTOCOL",
      `Received subprotocol ${JSON.stringify(invalid)}; subprotocols are tokens`,
    );
  }
  const offered = h.get("sec-websocket-extensions");
  const extensions = offered === null ? [] : parseExtensions(offered);
  if (extensions === undefined) {
    throw bad(
      "WS_HANDSHAKE_EXTENSIONS",
      `Received malformed Sec-WebSocket-Extensions ${JSON.stringify(offered)}`,
    );
  }
  return { key, version: 13, protocols, extensions };
}
