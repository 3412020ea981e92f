/**
 * The whole demo as one object: the room, its TCP line server, its HTTP +
 * WebSocket server, and the WS→TCP proxy in front of the TCP server, all in
 * one process; `shutdown()` tells everyone and stops them in order.
 *
 * @module
 */

import type { Server } from "../../src/net/mod.ts";
import type { WebSocketServer } from "../../src/ws/mod.ts";
import type { WebSocketProxy } from "../../src/proxy/mod.ts";
import { ChatRoom } from "./room.ts";
import { serveTcpChat } from "./tcp_side.ts";
import { serveWebChat } from "./web_side.ts";
import { serveChatProxy } from "./proxy_side.ts";

/** Options of {@linkcode startChat}; ports 0 take any free port. */
export interface ChatOptions {
  /** Address every server listens on. @default "127.0.0.1" */
  hostname?: string;
  /** The page and its WebSocket. @default 8080 */
  webPort?: number;
  /** The TCP line port for nc/telnet/socat. @default 7000 */
  tcpPort?: number;
  /** The WS→TCP proxy in front of the TCP port. @default 8081 */
  proxyPort?: number;
}

/** A running chat. */
export interface ChatServer extends AsyncDisposable {
  /** The room (members, history). */
  room: ChatRoom;
  /** The HTTP + WebSocket server. */
  web: WebSocketServer;
  /** The TCP line server. */
  tcp: Server;
  /** The WebSocket-to-TCP proxy whose target is the TCP line server. */
  proxy: WebSocketProxy;
  /** `http://host:port/`, the page (on the loopback address when listening on all). */
  pageUrl: string;
  /** Host and port for nc. */
  tcpAddr: { hostname: string; port: number };
  /** `ws://host:port/`, the proxy. */
  proxyUrl: string;
  /** Tells everyone, then closes every connection and stops listening (2 s at most). */
  shutdown(): Promise<void>;
}

/** `[::1]` for IPv6 addresses in URLs, the address itself otherwise. */
function urlHost(hostname: string): string {
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}

/** Stops what started before a later server failed to listen. */
async function stopAll(
  started: { shutdown(o: { timeout: number }): Promise<void> }[],
): Promise<void> {
  await Promise.allSettled(started.map((s) => s.shutdown({ timeout: 0 })));
}

/** Starts the chat; rejects (with everything started so far stopped) when a port is taken. */
export async function startChat(options: ChatOptions = {}): Promise<ChatServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const room = new ChatRoom();
  const tcp = await serveTcpChat(room, { hostname, port: options.tcpPort ?? 7000 });
  const loopback = hostname === "0.0.0.0" ? "127.0.0.1" : hostname === "::" ? "::1" : hostname;
  const target = { hostname: loopback, port: tcp.addr.port };
  let web: WebSocketServer | undefined;
  let proxy: WebSocketProxy;
  try {
    proxy = await serveChatProxy({
      hostname,
      port: options.proxyPort ?? 8081,
      target,
      webPort: () => web?.addr.port ?? 0,
    });
  } catch (error) {
    await stopAll([tcp]);
    throw error;
  }
  try {
    web = await serveWebChat(room, {
      hostname,
      port: options.webPort ?? 8080,
      config: () => ({ tcpPort: tcp.addr.port, proxyPort: proxy.addr.port }),
    });
  } catch (error) {
    await stopAll([tcp, proxy]);
    throw error;
  }
  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    stopping ??= (async () => {
      room.notice("the server is shutting down, bye");
      await Promise.all([
        web.shutdown({ timeout: 2000 }),
        proxy.shutdown({ timeout: 2000 }),
        tcp.shutdown({ timeout: 2000 }),
      ]);
    })();
  return {
    room,
    web,
    tcp,
    proxy,
    pageUrl: `http://${urlHost(loopback)}:${web.addr.port}/`,
    tcpAddr: { hostname: loopback, port: tcp.addr.port },
    proxyUrl: `ws://${urlHost(loopback)}:${proxy.addr.port}/`,
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}
