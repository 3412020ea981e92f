/**
 * Internal: a plain HTTP/1.1 request on the WebSocket port, handed to the
 * application as a web `Request`, its `Response` serialised back with
 * `Content-Length` and `Connection: close` (RFC 9112 §6).
 *
 * @module
 */

import { latin1Bytes, REASONS } from "./_http.ts";
import type { HttpRequest } from "./handshake.ts";
import type { HttpRequestInfo, WsHost } from "./_ws_host.ts";

/** Response headers the serialiser sets itself. */
const OWN = new Set(["content-length", "connection", "transfer-encoding", "keep-alive"]);

/**
 * Reads the request's body length: the `Content-Length` (0 when absent),
 * or an HTTP status to refuse with (400 malformed, 411 chunked bodies are
 * not read, 413 over `max`).
 */
export function bodyLength(head: HttpRequest, max: number): number | { status: number } {
  if (head.headers.has("transfer-encoding")) return { status: 411 };
  const value = head.headers.get("content-length");
  if (value === null) return 0;
  if (!/^\d{1,15}$/.test(value)) return { status: 400 };
  const n = Number(value);
  return n > max ? { status: 413 } : n;
}

/** Builds the web `Request` for a head and its body. */
export function toRequest(head: HttpRequest, body: Uint8Array, tls: boolean): Request {
  const scheme = tls ? "https" : "http";
  const url = /^https?:\/\//i.test(head.target)
    ? head.target
    : `${scheme}://${head.host ?? "localhost"}${head.target.startsWith("/") ? head.target : "/"}`;
  const method = head.method;
  const hasBody = method !== "GET" && method !== "HEAD" && body.length > 0;
  return new Request(url, {
    method,
    headers: head.headers,
    body: hasBody ? body as Uint8Array<ArrayBuffer> : undefined,
  });
}

/** Serialises a response (its body read whole) as HTTP/1.1 bytes with `Connection: close`. */
export async function serialize(response: Response, head: boolean): Promise<Uint8Array> {
  const status = response.status;
  const body = status === 204 || status === 304 || head
    ? new Uint8Array(0)
    : new Uint8Array(await response.arrayBuffer());
  let text = `HTTP/1.1 ${status} ${response.statusText || REASONS[status] || ""}\r\n`;
  for (const [name, value] of response.headers) {
    if (!OWN.has(name)) text += `${name}: ${value}\r\n`;
  }
  if (status !== 204 && status !== 304) text += `content-length: ${body.length}\r\n`;
  text += "connection: close\r\n\r\n";
  const bytes = latin1Bytes(text);
  if (body.length === 0) return bytes;
  const out = new Uint8Array(bytes.length + body.length);
  out.set(bytes);
  out.set(body, bytes.length);
  return out;
}

/**
 * Runs `onRequest` and resolves with the response bytes: a 500 when the
 * handler throws or returns something else than a `Response`.
 */
export async function exchange(
  host: WsHost,
  head: HttpRequest,
  body: Uint8Array,
  info: HttpRequestInfo,
): Promise<Uint8Array> {
  try {
    const response = await host.onRequest!(toRequest(head, body, host.tls), info);
    if (!(response instanceof Response)) {
      throw new TypeError(
        `Cannot answer the HTTP request as onRequest must return a Response: current value is ${
          String(response)
        }`,
      );
    }
    if (response.status < 200) {
      throw new RangeError(
        `Cannot answer the HTTP request as the status must be 200-599: current value is ${response.status}`,
      );
    }
    return await serialize(response, head.method === "HEAD");
  } catch (error) {
    host.report(error);
    return await serialize(new Response("Internal Server Error", { status: 500 }), false);
  }
}
