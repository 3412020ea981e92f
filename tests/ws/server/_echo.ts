/**
 * An in-process echo server with the `ws-echo` CLI's semantics (every
 * message back with its type, reading paused while the send queue is
 * full), for the conformance and bad-input suites.
 */

import { serveWs, type WebSocketServer } from "../../../src/ws/ws_server.ts";
import type { WebSocketServerOptions } from "../../../src/ws/ws_server_options.ts";

/** Errors reported by the server, for assertions. */
export interface EchoServer extends WebSocketServer {
  port: number;
  errors: Error[];
}

/** Starts an echo server on 127.0.0.1 and a free port. */
export async function startEcho(options: WebSocketServerOptions = {}): Promise<EchoServer> {
  const errors: Error[] = [];
  const server = await serveWs({
    hostname: "127.0.0.1",
    port: 0,
    maxWriteBuffer: 64 * 1024 * 1024,
    onMessage(ws, data, text) {
      if (ws.readyState === 1 && !ws.send(data, text)) ws.pause();
    },
    onDrain: (ws) => ws.resume(),
    onError: (error) => void errors.push(error),
    ...options,
  }) as EchoServer;
  server.port = server.addr.port;
  server.errors = errors;
  return server;
}
