/**
 * The WebSocket-to-TCP proxy of the demo (`serveProxy` from src/proxy) in
 * front of the chat's TCP line port: a WebSocket client (the page with
 * "via WS→TCP proxy" on, or any websockify client) becomes a terminal
 * user. Binary messages carry the line protocol's bytes both ways.
 *
 * @module
 */

import { serveProxy, type WebSocketProxy } from "../../src/proxy/mod.ts";

/** Options of {@linkcode serveChatProxy}. */
export interface ChatProxyOptions {
  /** Address to listen on. @default "127.0.0.1" */
  hostname?: string;
  /** WebSocket port, 0 = any free port. @default 8081 */
  port?: number;
  /** The TCP line server every client is joined to (the only target). */
  target: { hostname: string; port: number };
  /** The page's port: browsers may use the proxy only from the chat's own page. */
  webPort: () => number;
}

/** True when `origin` is the chat page on the host the client used to reach the proxy. */
function fromOwnPage(
  origin: string | undefined,
  host: string | undefined,
  webPort: number,
): boolean {
  if (origin === undefined) return true; // not a browser (websockify clients, tests)
  try {
    const page = new URL(origin);
    return page.hostname === new URL(`http://${host}`).hostname && page.port === String(webPort);
  } catch {
    return false;
  }
}

/** Starts the proxy to the chat's TCP port. */
export function serveChatProxy(options: ChatProxyOptions): Promise<WebSocketProxy> {
  return serveProxy({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 8081,
    target: options.target,
    maxConnections: 100,
    onOpenRequest(request) {
      if (!fromOwnPage(request.origin, request.host, options.webPort())) {
        request.reject(403, { body: "Only the chat page may use this proxy\n" });
      }
    },
    onRequest: () =>
      new Response(
        "This is the chat's WebSocket-to-TCP proxy: connect with a WebSocket client " +
          '(subprotocol "binary"); people open the chat page on the other port.\n',
        {
          status: 426,
          headers: { "content-type": "text/plain; charset=utf-8", upgrade: "websocket" },
        },
      ),
    onError() {
      // The page sees a refused or failed target as close code 1011/1014.
    },
  });
}
