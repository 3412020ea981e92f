// ws_echo_node.mjs: the `ws` WebSocket echo server that scripts/bench_ws.ts
// measures the library against on Node (the "peer" to beat there).
//
// `ws`'s WebSocketServer as its README shows it, with permessage-deflate off
// (the default for the server) and a 64 MiB maxPayload: every message is sent
// back with its type (`isBinary`), the Buffer unchanged.
//
// Run: node scripts/bench/ws_echo_node.mjs --port 0 [--hostname 127.0.0.1]
// The first stdout line is "listening on HOST:PORT". SIGINT/SIGTERM exit.
import { WebSocketServer } from "ws";
import process from "node:process";

const args = parseArgs(process.argv.slice(2));
const wss = new WebSocketServer({
  host: args.hostname,
  port: args.port,
  backlog: 4096,
  perMessageDeflate: false,
  maxPayload: 64 * 1024 * 1024,
});
wss.on("error", (err) => {
  console.error(err);
  process.exit(1);
});
wss.on("listening", () => {
  const { address, port } = wss.address();
  console.log(`listening on ${address.includes(":") ? `[${address}]` : address}:${port}`);
});
wss.on("connection", (ws) => {
  ws.on("error", () => {});
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(0));

function parseArgs(argv) {
  const out = { port: 0, hostname: "127.0.0.1" };
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (key === "--port") out.port = Number(value);
    else if (key === "--hostname") out.hostname = value;
    else {
      console.error("usage: ws_echo_node.mjs --port N [--hostname H]");
      process.exit(2);
    }
  }
  return out;
}
