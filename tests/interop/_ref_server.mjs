// _ref_server.mjs: the interop fixture contract served by the `ws` package on
// Node, to check the interop suite itself against a server everyone trusts:
//
//   NETSTREAMS_INTEROP_SERVER="node tests/interop/_ref_server.mjs" deno test -A tests/interop/
//
// The contract (tests/interop/_servers.ts implements it with our library):
//   /private                 refused: 401, `WWW-Authenticate: Bearer realm="netstreams-interop"`
//   /close?code=C&reason=R   accepted, then closed by the server with C and R
//   /last-close?code=C       sends `{code, reason}` (JSON) of the latest close frame with
//                            code C a client sent (waits 2 s for it), or `null`
//   subprotocols             the first offered of chat.v1 / chat.v2 is selected
//   anything else            every message is echoed with the same type
//
// Run: node tests/interop/_ref_server.mjs --port 0 [--hostname 127.0.0.1]
// The first stdout line is "listening on HOST:PORT". SIGINT/SIGTERM exit.
import { WebSocketServer } from "ws";
import process from "node:process";

const args = { port: 0, hostname: "127.0.0.1" };
for (let i = 2; i < process.argv.length; i += 2) {
  const [k, v] = [process.argv[i], process.argv[i + 1]];
  if (k === "--port") args.port = Number(v);
  else if (k === "--hostname") args.hostname = v;
  else {
    console.error("usage: _ref_server.mjs --port P [--hostname H]");
    process.exit(2);
  }
}

const SUPPORTED = ["chat.v1", "chat.v2"];
const closes = [];
const wss = new WebSocketServer({
  host: args.hostname,
  port: args.port,
  perMessageDeflate: false,
  maxPayload: 64 * 1024 * 1024,
  handleProtocols: (offered) => [...offered].find((p) => SUPPORTED.includes(p)) ?? false,
  verifyClient: (info, done) => {
    if (new URL(info.req.url, "http://x").pathname === "/private") {
      done(false, 401, "Unauthorized", { "WWW-Authenticate": 'Bearer realm="netstreams-interop"' });
    } else done(true);
  },
});
wss.on("listening", () => {
  const { address, port } = wss.address();
  console.log(`listening on ${address}:${port}`);
});
wss.on("connection", (ws, req) => {
  const url = new URL(req.url, "http://x");
  if (url.pathname === "/close") {
    ws.close(Number(url.searchParams.get("code")), url.searchParams.get("reason") ?? "");
    return;
  }
  if (url.pathname === "/last-close") {
    const code = Number(url.searchParams.get("code"));
    const find = () => closes.findLast((c) => c.code === code);
    let tries = 0;
    const send = () =>
      find() || ++tries >= 40 ? ws.send(JSON.stringify(find() ?? null)) : setTimeout(send, 50);
    send();
    return;
  }
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on("close", (code, reason) => closes.push({ code, reason: reason.toString() }));
  ws.on("error", () => {});
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(0));
