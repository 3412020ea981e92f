/**
 * A line-based chat room over TCP: every line a client sends is sent to all
 * other clients, prefixed with the sender's id. Shows the event-style
 * TcpServer (IPDaemon model): banner, single-line mode, max line length,
 * idle timeout, Connected / DataIn / Disconnected.
 *
 * Run:   deno run -A examples/tcp_line_server.ts [port]   (or: bun examples/tcp_line_server.ts)
 * Then:  nc 127.0.0.1 7000     (or telnet / socat - TCP:127.0.0.1:7000), in several terminals
 * Permissions: --allow-net (listen on 127.0.0.1).
 */

import { TcpServer } from "../mod.ts";
import { args, onTerminate } from "../src/runtime/process.ts";

const port = Number(args()[0] ?? 7000);
const server = new TcpServer({
  localHost: "127.0.0.1",
  localPort: port,
  defaultSingleLineMode: true,
  defaultMaxLineLength: 1024,
  defaultIdleTimeout: 600,
});
await server.config("MaxConnections=100");
server.server.set({
  banner: "Welcome to the netstreams line chat. Type a line and press Enter; /who lists users, /quit leaves.",
  tooBusyBanner: "Sorry, the room is full. Try again later.",
});

function broadcast(from: string, text: string): void {
  for (const id of server.connections.keys()) {
    if (id !== from) void server.sendLine(id, text).catch(() => {});
  }
}

server.on("Connected", (e) => {
  broadcast(e.connectionId, `* user${e.connectionId} joined`);
  console.log(`user${e.connectionId} connected`);
});
server.on("DataIn", (e) => {
  const text = e.text.trim();
  if (text === "") return;
  if (text === "/quit") {
    void server.sendLine(e.connectionId, "bye").then(() => server.disconnect(e.connectionId));
    return;
  }
  if (text === "/who") {
    const who = [...server.connections.keys()].map((id) => `user${id}`).join(", ");
    void server.sendLine(e.connectionId, `* here: ${who}`);
    return;
  }
  broadcast(e.connectionId, `user${e.connectionId}${e.EOL ? "" : " (cut)"}: ${text}`);
});
server.on("Disconnected", (e) => {
  broadcast(e.connectionId, `* user${e.connectionId} left`);
  console.log(`user${e.connectionId} disconnected (${e.statusCode} ${e.description})`);
});

await server.startListening();
console.log(`listening on ${server.localHost}:${server.localPort}`);
console.log(`connect with:  nc ${server.localHost} ${server.localPort}   (Ctrl-C here stops the server)`);

const off = onTerminate(async () => {
  off();
  broadcast("", "* server shutting down");
  await server.shutdown(2000);
  console.log("stopped");
});
