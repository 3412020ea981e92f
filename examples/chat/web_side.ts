/**
 * The browser side of the chat: one WebSocket server (src/ws) that serves
 * the page over plain HTTP (`onRequest`) and the room over WebSocket at
 * `/chat`, with JSON events in text messages.
 *
 * @module
 */

import { type WebSocketConnection, WebSocketServer } from "../../src/ws/mod.ts";
import type { ChatEvent, ChatRoom, Member } from "./room.ts";
import { parseClientMessage } from "./web_messages.ts";
import { securityHeaders, staticResponse } from "./static_files.ts";

/** What the page is told in `/config.json`. */
export interface PageConfig {
  /** The TCP line port, for the `nc` command shown on the page. */
  tcpPort: number;
  /** The WS→TCP proxy's port, or null when no proxy runs. */
  proxyPort: number | null;
}

/** Options of {@linkcode serveWebChat}. */
export interface WebChatOptions {
  /** Address to listen on. @default "127.0.0.1" */
  hostname?: string;
  /** HTTP and WebSocket port, 0 = any free port. @default 8080 */
  port?: number;
  /** Most browser connections (page loads included) at once. @default 200 */
  maxConnections?: number;
  /** The ports the page shows and uses; read on each request (they are known after listening). */
  config: () => PageConfig;
}

const decoder = new TextDecoder();

/** Sends the event as JSON; a page too slow to take it (1 MiB queued) is dropped. */
function deliver(ws: WebSocketConnection, event: ChatEvent): void {
  if (ws.readyState !== 1) return;
  try {
    ws.send(JSON.stringify(event));
  } catch (error) {
    void ws.abort(); // ServerError 135: the page does not read
    throw error; // the room removes the member
  }
}

/** True when a browser page from another site is asking (a cross-site WebSocket). */
function foreignOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return false; // not a browser: terminals and tests
  try {
    return new URL(origin).host !== host;
  } catch {
    return true;
  }
}

/** Starts the HTTP + WebSocket server of the chat on `room`. */
export function serveWebChat(room: ChatRoom, options: WebChatOptions): Promise<WebSocketServer> {
  const server = new WebSocketServer({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 8080,
    maxConnections: options.maxConnections ?? 200,
    maxPayload: 16 * 1024,
    maxWriteBuffer: 1024 * 1024,
    closeTimeout: 2000,
    async onRequest(request) {
      const url = new URL(request.url);
      const proxyPort = options.config().proxyPort;
      const headers = securityHeaders(
        proxyPort === null ? [] : [`ws://${url.hostname}:${proxyPort}`],
      );
      if (request.method !== "GET" && request.method !== "HEAD") {
        return new Response("Method Not Allowed\n", {
          status: 405,
          headers: { ...headers, allow: "GET, HEAD" },
        });
      }
      if (url.pathname === "/config.json") return Response.json(options.config(), { headers });
      return await staticResponse(url.pathname, headers) ??
        new Response("Not Found\n", {
          status: 404,
          headers: { ...headers, "content-type": "text/plain" },
        });
    },
    onOpenRequest(request) {
      if (request.path !== "/chat") return request.reject(404, { body: "The chat is at /chat\n" });
      if (foreignOrigin(request.origin, request.host)) {
        return request.reject(403, { body: "Pages from other sites may not join this chat\n" });
      }
    },
    onOpen(ws) {
      ws.data = room.join("web", (event) => deliver(ws, event));
    },
    onMessage(ws, data, text) {
      const member = ws.data as Member;
      if (!text) return room.reject(member, "bad message: send JSON in text messages");
      const message = parseClientMessage(decoder.decode(data));
      if ("error" in message) return room.reject(member, message.error);
      if (message.type === "nick") room.rename(member, message.nick);
      else if (message.type === "who") room.input(member, "/who");
      else if (room.input(member, message.text) === "quit") void ws.close(1000, "bye");
    },
    onClose(ws) {
      if (ws.data !== undefined) room.leave(ws.data as Member);
    },
    onError() {
      // A page that breaks the protocol is closed with its close code; nothing to log in a demo.
    },
  });
  return server.listen();
}
