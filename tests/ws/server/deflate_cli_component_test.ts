/**
 * permessage-deflate through the `ws-echo` CLI (`--deflate`, `--no-deflate`,
 * `--deflate-threshold`, `--deflate-window-bits`) and the WsServer
 * component's config settings (EnablePermessageDeflate and friends).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { runCli, startCli } from "../../_cli.ts";
import { openWs } from "../_raw_client.ts";
import { expectMessage } from "./_autobahn.ts";
import { WsServer } from "../../../src/components/ws_server.ts";
import { zlibEngine } from "../../../src/runtime/zlib.ts";

const LOCAL = ["--hostname", "127.0.0.1", "--port", "0"];
const OFFER = { "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits" };
const enc = new TextEncoder();

describe("netstreams ws-echo with permessage-deflate", () => {
  it("ws-echo --deflate negotiates, inflates a compressed message and echoes it compressed", async () => {
    const s = await startCli([
      "ws-echo",
      ...LOCAL,
      "--deflate",
      "--deflate-threshold",
      "0",
      "--deflate-window-bits",
      "15",
    ]);
    try {
      const c = await openWs(s.addrs[0]!.port, { headers: OFFER });
      assert.equal(c.responseHeaders.get("sec-websocket-extensions"), "permessage-deflate");
      const engine = zlibEngine();
      const d = engine.createDeflater({
        windowBits: 15,
        memLevel: 8,
        level: 6,
        noContextTakeover: false,
      });
      const i = engine.createInflater({ windowBits: 15, noContextTakeover: false });
      const msg = "compress me, compress me, compress me";
      c.sendFrames({ opcode: 1, payload: d.deflate(enc.encode(msg)), rsv: 4 });
      const f = await c.nextFrame();
      assert.equal(f.rsv1, true);
      assert.equal(new TextDecoder().decode(i.inflate(f.payload, true, 1000)), msg);
      d.close();
      i.close();
      c.close();
    } finally {
      await s.stop();
    }
  });

  it("ws-echo --no-deflate declines the offer and echoes uncompressed", async () => {
    const s = await startCli(["ws-echo", ...LOCAL, "--no-deflate"]);
    try {
      const c = await openWs(s.addrs[0]!.port, { headers: OFFER });
      assert.equal(c.responseHeaders.get("sec-websocket-extensions"), null);
      c.sendFrames({ opcode: 1, payload: "x".repeat(500) });
      await expectMessage(c, 1, "x".repeat(500));
      c.close();
    } finally {
      await s.stop();
    }
  });

  it("ws-echo --help documents the deflate options; a bad window size exits with 2", async () => {
    const help = await runCli(["ws-echo", "--help"]);
    assert.match(help.stdout, /--no-deflate/);
    assert.match(help.stdout, /--deflate-window-bits N/);
    const bad = await runCli(["ws-echo", "--deflate-window-bits", "8"]);
    assert.equal(bad.code, 2);
  });
});

describe("WsServer permessage-deflate config", () => {
  it("WsServer EnablePermessageDeflate, PermessageDeflateThreshold and PermessageDeflateWindowBits apply to new connections", async () => {
    const server = new WsServer({ localHost: "127.0.0.1", localPort: 0 });
    server.on("DataIn", (e) => void server.sendText(e.connectionId, e.text));
    await server.startListening();
    try {
      assert.equal(await server.config("EnablePermessageDeflate"), "true");
      assert.equal(await server.config("PermessageDeflateThreshold"), "auto");
      await server.config("PermessageDeflateThreshold=300");
      assert.equal(await server.config("PermessageDeflateThreshold"), "300");
      await server.config("PermessageDeflateThreshold=auto");
      assert.equal(await server.config("PermessageDeflateThreshold"), "auto");
      await server.config("PermessageDeflateWindowBits=10");
      assert.equal(await server.config("PermessageDeflateWindowBits"), "10");
      const a = await openWs(server.localPort, { headers: OFFER });
      assert.equal(
        a.responseHeaders.get("sec-websocket-extensions"),
        "permessage-deflate; server_max_window_bits=10; client_max_window_bits=10",
      );
      a.close();
      await server.config("EnablePermessageDeflate=false");
      assert.equal(await server.config("EnablePermessageDeflate"), "false");
      const b = await openWs(server.localPort, { headers: OFFER });
      assert.equal(b.responseHeaders.get("sec-websocket-extensions"), null);
      b.close();
      await assert.rejects(server.config("PermessageDeflateWindowBits=16"), RangeError);
    } finally {
      await server.shutdown();
    }
  });
});

describe("WsServer WebSocketOpenRequest and permessage-deflate", () => {
  it("WsServer WebSocketOpenRequest enablePermessageDeflate false declines compression for one client", async () => {
    const server = new WsServer({ localHost: "127.0.0.1", localPort: 0 });
    server.on("WebSocketOpenRequest", (e) => {
      if (e.requestURI === "/plain") e.enablePermessageDeflate = false;
    });
    await server.startListening();
    try {
      const plain = await openWs(server.localPort, { path: "/plain", headers: OFFER });
      assert.equal(plain.responseHeaders.get("sec-websocket-extensions"), null);
      plain.close();
      const other = await openWs(server.localPort, { path: "/other", headers: OFFER });
      assert.match(other.responseHeaders.get("sec-websocket-extensions") ?? "", /^permessage-deflate/);
      other.close();
    } finally {
      await server.shutdown();
    }
  });
});
