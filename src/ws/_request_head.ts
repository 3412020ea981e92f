/**
 * Internal: parsing a complete HTTP/1.x request head (RFC 9112 §3, §5),
 * then the WebSocket upgrade checks.
 *
 * @module
 */

import { headerField, isFieldValue, isToken } from "./_http.ts";
import { checkUpgrade } from "./_upgrade.ts";
import { WsHandshakeError } from "./errors.ts";
import type { HttpRequest } from "./handshake.ts";

function malformed(what: string): WsHandshakeError {
  return new WsHandshakeError(
    "WS_HANDSHAKE_MALFORMED",
    400,
    `Received a malformed request: ${what}`,
  );
}

/**
 * Parses a complete head (latin1, ending with an empty line). Throws
 * {@linkcode WsHandshakeError}, with the request once it was read.
 */
export function parseHead(head: string): HttpRequest {
  const lines = head.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  while (lines[0] === "") lines.shift();
  lines.length -= 2; // the empty line and what follows its LF
  const requestLine = lines[0];
  const m = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e]+) HTTP\/(\d)\.(\d)$/.exec(requestLine);
  if (m === null) throw malformed(`request line ${JSON.stringify(requestLine.slice(0, 200))}`);
  const [, method, target, major, minor] = m;
  if (major !== "1") {
    throw new WsHandshakeError(
      "WS_HANDSHAKE_HTTP_VERSION",
      505,
      `Received HTTP/${major}.${minor}; only HTTP/1.x is served here`,
    );
  }
  const rawHeaders: [string, string][] = [];
  let hosts = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(":");
    const name = line.slice(0, colon);
    // No whitespace before the colon, no obsolete line folding (RFC 9112 §5.1, §5.2).
    if (colon <= 0 || !isToken(name)) {
      throw malformed(`header line ${JSON.stringify(line.slice(0, 200))}`);
    }
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    if (!isFieldValue(value)) throw malformed(`control character in header ${name}`);
    rawHeaders.push([name, value]);
    if (name.length === 4 && name.toLowerCase() === "host") hosts++;
  }
  let path = target;
  let query = "";
  if (!target.startsWith("/") && /^https?:\/\//i.test(target)) {
    try {
      const url = new URL(target);
      path = url.pathname;
      query = url.search.slice(1);
    } catch {
      throw malformed(`request target ${JSON.stringify(target.slice(0, 200))}`);
    }
  } else {
    const q = target.indexOf("?");
    if (q >= 0) path = target.slice(0, q), query = target.slice(q + 1);
  }
  // The Headers object is built only when asked for: most handshakes never
  // read it, and it is the largest part of a request's garbage.
  let headers: Headers | undefined;
  const request: HttpRequest = {
    method,
    target,
    path,
    query,
    httpVersion: `${major}.${minor}`,
    get headers(): Headers {
      return headers ??= toHeaders(rawHeaders);
    },
    rawHeaders,
    host: headerField(rawHeaders, "host") ?? undefined,
    origin: headerField(rawHeaders, "origin") ?? undefined,
    webSocket: undefined,
  };
  // HTTP/1.1 needs exactly one Host (RFC 9112 §3.2).
  if (minor !== "0" && hosts !== 1) {
    throw withRequest(
      new WsHandshakeError(
        "WS_HANDSHAKE_HOST",
        400,
        `Received ${hosts} Host headers; HTTP/1.1 needs exactly one`,
      ),
      request,
    );
  }
  try {
    request.webSocket = checkUpgrade(request);
  } catch (err) {
    throw err instanceof WsHandshakeError ? withRequest(err, request) : err;
  }
  return request;
}

function withRequest(err: WsHandshakeError, request: HttpRequest): WsHandshakeError {
  err.request = request;
  return err;
}

function toHeaders(rawHeaders: [string, string][]): Headers {
  const headers = new Headers();
  for (const [name, value] of rawHeaders) headers.append(name, value);
  return headers;
}
