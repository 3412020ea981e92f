/**
 * The interop fixture server: a few lines over the library API (`serveWs`)
 * with an open-request hook, run as a child process by the interop tests on
 * the runtime under test. Its contract (the same as _ref_server.mjs on `ws`):
 *
 * - `/private`: refused with 401 and `WWW-Authenticate: Bearer realm="netstreams-interop"`;
 * - `/close?code=C&reason=R`: accepted, then closed by the server with C and R;
 * - `/last-close?code=C`: sends one text message, the JSON `{code, reason}` of
 *   the latest close frame with code C that a client sent (waits 2 s for it),
 *   or `null`: how a test sees that the server got its close reason;
 * - subprotocols: the first offered of chat.v1 / chat.v2 (the client's
 *   order, chosen in the hook over the server's preselection);
 * - any other path: every message is echoed with the same type.
 *
 * Run: deno run -A tests/interop/_fixture_server.ts --hostname 127.0.0.1 --port 0
 * The first stdout line is "listening on HOST:PORT"; SIGTERM ends it.
 *
 * @module
 */

import process from "node:process";
import { serveWs } from "../../src/ws/mod.ts";

const SUPPORTED = ["chat.v1", "chat.v2"];
/** Close frames clients sent, newest last (for `/last-close`). */
const closes: { code: number; reason: string }[] = [];

type State = { close?: { code: number; reason: string }; probe?: number };

const args = { hostname: "127.0.0.1", port: 0 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  if (argv[i] === "--hostname") args.hostname = argv[i + 1]!;
  else if (argv[i] === "--port") args.port = Number(argv[i + 1]);
  else {
    console.error("usage: _fixture_server.ts [--hostname H] [--port P]");
    process.exit(2);
  }
}

const server = await serveWs({
  hostname: args.hostname,
  port: args.port,
  // Preselects the server's favourite (chat.v1); the hook overrides it below.
  protocols: SUPPORTED,
  onOpenRequest(req) {
    if (req.path === "/private") {
      req.reject(401, {
        headers: { "WWW-Authenticate": 'Bearer realm="netstreams-interop"' },
        body: "unauthorized\n",
      });
      return;
    }
    req.protocol = req.protocols.find((p) => SUPPORTED.includes(p));
    const q = new URLSearchParams(req.query);
    const state: State = {};
    if (req.path === "/close") {
      state.close = { code: Number(q.get("code")), reason: q.get("reason") ?? "" };
    }
    if (req.path === "/last-close") state.probe = Number(q.get("code"));
    req.connection.data = state;
  },
  async onOpen(ws) {
    const state = ws.data as State;
    if (state.close) void ws.close(state.close.code, state.close.reason);
    if (state.probe !== undefined) {
      const find = () => closes.findLast((c) => c.code === state.probe);
      for (let i = 0; i < 40 && !find(); i++) await new Promise((r) => setTimeout(r, 50));
      ws.send(JSON.stringify(find() ?? null));
    }
  },
  onClose(ws, info) {
    const state = ws.data as State;
    if (!state.close && state.probe === undefined) {
      closes.push({ code: info.code, reason: info.reason });
    }
  },
  onMessage(ws, data, text) {
    if (!ws.send(data, text)) ws.pause();
  },
  onDrain: (ws) => ws.resume(),
  onError: (error, ws) =>
    console.error(`fixture: error${ws ? ` on ${ws.id}` : ""}: ${error.message}`),
});
const { hostname, port } = server.addr;
console.log(`listening on ${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`);
