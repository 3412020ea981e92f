// ws_deflate_echo_node.mjs: the `ws` echo server with permessage-deflate on
// (threshold 0, so every message is compressed; zlib level 1, 12-bit server
// window, memLevel 5 and concurrencyLimit 10 like its docs suggest), the Node
// peer of the deflate section of scripts/bench_ws.ts.
// Run: node scripts/bench/ws_deflate_echo_node.mjs --port 0 --hostname 127.0.0.1
import { WebSocketServer } from "ws";
import process from "node:process";

const argv = process.argv.slice(2);
const opt = (k, d) => (argv.includes(k) ? argv[argv.indexOf(k) + 1] : d);
const wss = new WebSocketServer({
  host: opt("--hostname", "127.0.0.1"),
  port: Number(opt("--port", "0")),
  backlog: 4096,
  maxPayload: 64 * 1024 * 1024,
  perMessageDeflate: {
    threshold: 0,
    serverMaxWindowBits: 12,
    zlibDeflateOptions: { level: 1, memLevel: 5 },
    concurrencyLimit: 10,
  },
});
wss.on("listening", () => {
  const { address, port } = wss.address();
  console.log(`listening on ${address}:${port}`);
});
wss.on("connection", (ws) => {
  ws.on("error", () => {});
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(0));
