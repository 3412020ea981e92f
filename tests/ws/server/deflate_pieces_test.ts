/**
 * permessage-deflate for messages sent in pieces (sendFragment,
 * openMessage, sendFile; RFC 7692 §6.1: RSV1 on the first frame only, the
 * pieces' compressed data joined is the message's), the per-request choice
 * in the open-request hook, and the decline when no engine can be loaded.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zlibEngine } from "../../../src/runtime/zlib.ts";
import { NotSupportedError } from "../../../src/runtime/errors.ts";
import { setEngineProbe } from "../../../src/ws/_ws_deflate.ts";
import type { WebSocketConnection } from "../../../src/ws/ws_connection.ts";
import type { WebSocketServerOptions } from "../../../src/ws/ws_server_options.ts";
import { cat, openWs, type RawClient, type RawFrame } from "../_raw_client.ts";
import { type EchoServer, startEcho } from "./_echo.ts";

const engine = zlibEngine();
const enc = new TextEncoder();
const dec = new TextDecoder();

/** A raw client offering `offer`, and the inflater matching the answer. */
async function client(port: number, offer = "permessage-deflate") {
  const c = await openWs(port, { headers: { "Sec-WebSocket-Extensions": offer } });
  const ext = c.responseHeaders.get("sec-websocket-extensions") ?? "";
  const bits = Number(/server_max_window_bits=(\d+)/.exec(ext)?.[1] ?? 15);
  const inflater = engine.createInflater({
    windowBits: bits,
    noContextTakeover: ext.includes("server_no_context_takeover"),
  });
  return {
    c,
    ext,
    /** The next data message: its frames (pings skipped) and its inflated data. */
    async next(): Promise<{ frames: RawFrame[]; data: Uint8Array; compressed: boolean }> {
      const frames: RawFrame[] = [];
      let f: RawFrame;
      do {
        f = await c.nextFrame(20_000);
        if (f.opcode < 8) frames.push(f);
      } while (f.opcode >= 8 || !f.fin);
      const payload = cat(...frames.map((x) => x.payload));
      const compressed = frames[0].rsv1;
      assert.ok(frames.slice(1).every((x) => !x.rsv1), "RSV1 only on the first frame (§6.1)");
      return {
        frames,
        compressed,
        data: compressed ? inflater.inflate(payload, true, 1 << 28)! : payload,
      };
    },
    close() {
      inflater.close();
      c.close();
    },
  };
}

/** A server that runs `act` on the first connection's "go". */
function server(
  act: (ws: WebSocketConnection) => void | Promise<void>,
  options: WebSocketServerOptions = {},
) {
  return startEcho({
    onMessage(ws, data) {
      if (dec.decode(data) === "go") void Promise.resolve(act(ws)).catch((e) => console.error(e));
    },
    ...options,
  });
}

function go(c: RawClient): void {
  c.sendFrames({ opcode: 1, payload: "go" });
}

const words = (n: number, seed = 0) => {
  let s = "";
  for (let k = seed; s.length < n; k++) s += `{"seq":${k},"user":"alice","text":"hello again"} `;
  return s.slice(0, n);
};

describe("WebSocketConnection permessage-deflate in pieces", () => {
  it("WebSocketConnection.sendFragment compresses a message piece by piece with RSV1 on the first frame only", async () => {
    const s = await server((ws) => {
      ws.sendFragment(words(300), false);
      ws.sendFragment(words(300, 1), false);
      ws.sendFragment("", false);
      ws.sendFragment(words(500, 2), true);
      ws.sendFragment(enc.encode(words(200, 3)), false, false); // binary, then an empty last piece
      ws.sendFragment(new Uint8Array(0), true, false);
    });
    try {
      const d = await client(s.port);
      go(d.c);
      const m = await d.next();
      assert.equal(m.compressed, true);
      assert.equal(m.frames.length, 4);
      assert.equal(m.frames[0].opcode, 1);
      assert.ok(m.frames.slice(1).every((f) => f.opcode === 0));
      assert.equal(dec.decode(m.data), words(300) + words(300, 1) + words(500, 2));
      const total = m.frames.reduce((n, f) => n + f.payload.length, 0);
      assert.ok(total < 600, `compressed ${total} bytes`);
      const b = await d.next();
      assert.equal(b.compressed, true);
      assert.equal(b.frames[0].opcode, 2);
      assert.equal(
        b.frames.at(-1)!.payload.length,
        0,
        "the empty last piece: the held tail is dropped",
      );
      assert.equal(dec.decode(b.data), words(200, 3));
      d.close();
    } finally {
      await s.shutdown();
    }
  });

  it("WebSocketConnection.sendFragment sends uncompressed when the first piece is under threshold or compress is false", async () => {
    const s = await server((ws) => {
      ws.sendFragment("tiny", false); // under the threshold: the whole message goes plain
      ws.sendFragment(words(2000), true);
      ws.sendFragment(words(2000), false, true, { compress: false });
      ws.sendFragment(words(2000), true);
    }, { perMessageDeflate: { threshold: 100 } });
    try {
      const d = await client(s.port);
      go(d.c);
      const a = await d.next();
      assert.equal(a.compressed, false);
      assert.equal(dec.decode(a.data), "tiny" + words(2000));
      const b = await d.next();
      assert.equal(b.compressed, false);
      assert.equal(b.data.length, 4000);
      d.close();
    } finally {
      await s.shutdown();
    }
  });

  it("WebSocketConnection.openMessage compresses its pieces; pings go between frames and held sends follow in order", async () => {
    const s = await server(async (ws) => {
      const w = ws.openMessage({ text: true }).getWriter();
      await w.write(words(400));
      void ws.ping("between").catch(() => {});
      ws.send(words(300, 9)); // held, compressed after the open message
      ws.send("plain " + words(300, 7), true, { compress: false });
      await w.write(words(400, 1));
      await w.close();
      ws.send(words(300, 9)); // context takeover: refers back
    });
    try {
      const d = await client(s.port);
      go(d.c);
      const m = await d.next();
      assert.equal(m.compressed, true);
      assert.equal(dec.decode(m.data), words(400) + words(400, 1));
      assert.ok(d.c.frames.some((f) => f.opcode === 9), "the ping went out");
      const held = await d.next();
      assert.equal(held.compressed, true);
      assert.equal(dec.decode(held.data), words(300, 9));
      const plain = await d.next();
      assert.equal(plain.compressed, false);
      assert.equal(dec.decode(plain.data), "plain " + words(300, 7));
      const again = await d.next();
      assert.equal(dec.decode(again.data), words(300, 9));
      assert.ok(
        again.frames[0].payload.length < held.frames[0].payload.length / 2,
        "the context was kept",
      );
      d.close();
    } finally {
      await s.shutdown();
    }
  });

  it("WebSocketConnection.writable compresses each chunk as a whole message", async () => {
    const s = await server(async (ws) => {
      const w = ws.writable.getWriter();
      await w.write(words(400));
      await w.write(enc.encode(words(400, 1)));
      w.releaseLock();
    });
    try {
      const d = await client(s.port);
      go(d.c);
      const a = await d.next();
      assert.equal(a.compressed, true);
      assert.equal(a.frames[0].opcode, 1);
      assert.equal(dec.decode(a.data), words(400));
      const b = await d.next();
      assert.equal(b.compressed, true);
      assert.equal(b.frames[0].opcode, 2);
      assert.equal(dec.decode(b.data), words(400, 1));
      d.close();
    } finally {
      await s.shutdown();
    }
  });

  describe("WebSocketConnection.sendFile with permessage-deflate", () => {
    let dir: string;
    let file: string;
    let data: Uint8Array<ArrayBuffer>;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), "ns-deflate-"));
      file = join(dir, "random.bin");
      // Incompressible: the compressed message is as large as the file, so backpressure shows.
      data = new Uint8Array(8 * 1024 * 1024);
      for (let at = 0; at < data.length; at += 65536) {
        crypto.getRandomValues(data.subarray(at, at + 65536));
      }
      writeFileSync(file, data);
      writeFileSync(join(dir, "text.txt"), words(1_000_000));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("WebSocketConnection.sendFile compresses a file as one message and keeps backpressure", async () => {
      let sent: Promise<number> | undefined;
      let conn: WebSocketConnection | undefined;
      const s = await server((ws) => {
        conn = ws;
        sent = ws.sendFile(file);
      });
      try {
        const d = await client(s.port);
        d.c.socket.pause(); // the client stops reading
        go(d.c);
        let peak = 0;
        let done = false;
        for (let k = 0; k < 40; k++) {
          await new Promise((r) => setTimeout(r, 25));
          if (conn !== undefined) peak = Math.max(peak, conn.bufferedAmount);
        }
        void sent?.then(() => (done = true));
        await new Promise((r) => setTimeout(r, 10));
        assert.equal(done, false, "the file is not sent while the client does not read");
        assert.ok(peak > 0 && peak < 2 * 1024 * 1024, `queued at most ${peak} bytes`);
        d.c.socket.resume();
        const m = await d.next();
        assert.equal(await sent, data.length);
        assert.equal(m.compressed, true);
        assert.ok(m.frames.length > 1);
        assert.equal(m.data.length, data.length);
        assert.ok(m.data.every((b, i) => b === data[i]));
        d.close();
      } finally {
        await s.shutdown();
      }
    });

    it("WebSocketConnection.sendFile compresses text files well and honours compress false", async () => {
      const s = await server(async (ws) => {
        await ws.sendFile(join(dir, "text.txt"), { text: true });
        await ws.sendFile(join(dir, "text.txt"), { text: true, compress: false });
      });
      try {
        const d = await client(s.port);
        go(d.c);
        const a = await d.next();
        assert.equal(a.compressed, true);
        assert.equal(dec.decode(a.data), words(1_000_000));
        const wire = a.frames.reduce((n, f) => n + f.payload.length, 0);
        assert.ok(wire < 100_000, `${wire} bytes on the wire for 1 MB of JSON lines`);
        const b = await d.next();
        assert.equal(b.compressed, false);
        assert.equal(b.data.length, 1_000_000);
        d.close();
      } finally {
        await s.shutdown();
      }
    });
  });

  it("WebSocketConnection pieces without context takeover use a deflater of their own while other connections send", async () => {
    const conns: WebSocketConnection[] = [];
    const s = await startEcho({
      perMessageDeflate: { serverNoContextTakeover: true, threshold: 0 },
      onOpen: (ws) => void conns.push(ws),
    });
    try {
      const a = await client(s.port);
      const b = await client(s.port);
      assert.match(a.ext, /server_no_context_takeover/);
      for (let round = 0; round < 3; round++) {
        conns[0].sendFragment(words(200, round), false);
        conns[1].sendFragment(words(200, round + 10), false);
        conns[0].send(words(100, 50)); // held: compressed after the message
        conns[1].sendFragment(words(200, round + 20), true);
        conns[0].sendFragment(words(200, round + 30), true);
        conns[1].send(words(100, 60)); // the shared deflater, between the lent ones
        assert.equal(dec.decode((await a.next()).data), words(200, round) + words(200, round + 30));
        assert.equal(dec.decode((await a.next()).data), words(100, 50));
        assert.equal(
          dec.decode((await b.next()).data),
          words(200, round + 10) + words(200, round + 20),
        );
        assert.equal(dec.decode((await b.next()).data), words(100, 60));
      }
      a.close();
      b.close();
    } finally {
      await s.shutdown();
    }
  });

  it("WebSocketConnection closed in the middle of a compressed message does not lend its deflater on", async () => {
    const conns: WebSocketConnection[] = [];
    const s = await startEcho({
      perMessageDeflate: { serverNoContextTakeover: true, threshold: 0 },
      onOpen: (ws) => void conns.push(ws),
    });
    try {
      for (let k = 0; k < 3; k++) {
        const a = await client(s.port);
        conns.at(-1)!.sendFragment(words(500, k), false); // a lent deflater, mid-message
        await conns.at(-1)!.close(1000, "", { wait: false });
        a.close();
      }
      const b = await client(s.port);
      const ws = conns.at(-1)!;
      ws.sendFragment(words(300, 5), false);
      ws.sendFragment(words(300, 6), true);
      const m = await b.next();
      assert.equal(dec.decode(m.data), words(300, 5) + words(300, 6));
      b.close();
    } finally {
      await s.shutdown();
    }
  });
});

describe("WebSocketOpenRequest.perMessageDeflate", () => {
  it("WebSocketOpenRequest.perMessageDeflate false declines the offer for one request", async () => {
    const s = await startEcho({
      onOpenRequest(req) {
        if (req.path === "/plain") req.perMessageDeflate = false;
      },
    });
    try {
      const plain = await openWs(s.port, {
        path: "/plain",
        headers: { "Sec-WebSocket-Extensions": "permessage-deflate" },
      });
      assert.equal(plain.responseHeaders.get("sec-websocket-extensions"), null);
      plain.sendFrames({ opcode: 1, payload: words(500) });
      const f = await plain.nextFrame();
      assert.equal(f.rsv1, false);
      assert.equal(f.payload.length, 500);
      plain.close();
      const d = await client(s.port);
      assert.match(d.ext, /^permessage-deflate/);
      d.close();
    } finally {
      await s.shutdown();
    }
  });

  it("WebSocketOpenRequest.perMessageDeflate options tune one request over the server's policy", async () => {
    const s = await startEcho({
      perMessageDeflate: { serverMaxWindowBits: 10 },
      onOpenRequest(req) {
        if (req.path === "/lean") {
          req.perMessageDeflate = { serverNoContextTakeover: true, threshold: 10_000 };
        }
        if (req.path === "/bad") req.perMessageDeflate = { serverMaxWindowBits: 99 };
      },
    });
    try {
      const lean = await client(s.port, "permessage-deflate");
      lean.c.close();
      const c = await openWs(s.port, {
        path: "/lean",
        headers: { "Sec-WebSocket-Extensions": "permessage-deflate" },
      });
      const ext = c.responseHeaders.get("sec-websocket-extensions") ?? "";
      assert.match(ext, /server_no_context_takeover/);
      assert.match(ext, /server_max_window_bits=10/, "the server's policy underneath");
      c.close();
      const bad = await openWs(s.port, {
        path: "/bad",
        status: 500,
        headers: { "Sec-WebSocket-Extensions": "permessage-deflate" },
      });
      assert.equal(bad.status, 500);
      bad.close();
      assert.ok(
        s.errors.some((e) => e instanceof RangeError && /serverMaxWindowBits/.test(e.message)),
      );
    } finally {
      await s.shutdown();
    }
  });

  it("WebSocketOpenRequest.perMessageDeflate options enable deflate on a server that has it off", async () => {
    const s = await startEcho({
      perMessageDeflate: false,
      onOpenRequest(req) {
        if (req.path === "/z") req.perMessageDeflate = { threshold: 0 };
      },
    });
    try {
      const off = await openWs(s.port, {
        headers: { "Sec-WebSocket-Extensions": "permessage-deflate" },
      });
      assert.equal(off.responseHeaders.get("sec-websocket-extensions"), null);
      off.close();
      const on = await openWs(s.port, {
        path: "/z",
        headers: { "Sec-WebSocket-Extensions": "permessage-deflate" },
      });
      assert.match(on.responseHeaders.get("sec-websocket-extensions") ?? "", /^permessage-deflate/);
      on.close();
    } finally {
      await s.shutdown();
    }
  });
});

describe("WebSocketServer without a deflate engine", () => {
  it("WebSocketServer declines permessage-deflate with a log line when the engine cannot be loaded", async () => {
    setEngineProbe(() => {
      throw new NotSupportedError("test", "permessage-deflate", "no sync zlib in this test");
    });
    const logs: string[] = [];
    let s: EchoServer | undefined;
    try {
      s = await startEcho({ onLog: (_level, message) => void logs.push(message) });
      const c = await openWs(s.port, {
        headers: { "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits" },
      });
      assert.equal(c.responseHeaders.get("sec-websocket-extensions"), null);
      c.sendFrames({ opcode: 1, payload: words(300) });
      const f = await c.nextFrame();
      assert.equal(f.rsv1, false);
      assert.equal(f.payload.length, 300);
      c.close();
      assert.ok(
        logs.some((l) =>
          /Declined permessage-deflate/.test(l) && /no sync zlib in this test/.test(l)
        ),
        logs.join("\n"),
      );
    } finally {
      setEngineProbe();
      await s?.shutdown();
    }
    // Restored: the next server negotiates again.
    const again = await startEcho();
    try {
      const d = await client(again.port);
      assert.match(d.ext, /^permessage-deflate/);
      d.close();
    } finally {
      await again.shutdown();
    }
  });
});

describe("PerMessageDeflateOptions.threshold", () => {
  it("WebSocketServer compresses from 128 B with context takeover and from 1024 B without when threshold is unset", async () => {
    const conns: WebSocketConnection[] = [];
    const s = await startEcho({ onOpen: (ws) => void conns.push(ws) });
    try {
      const on = await client(s.port);
      const off = await client(s.port, "permessage-deflate; server_no_context_takeover");
      assert.match(off.ext, /server_no_context_takeover/);
      for (
        const [d, ws, sizes] of [[on, conns[0], [127, 128, 1023, 1024]], [off, conns[1], [
          127,
          128,
          1023,
          1024,
        ]]] as const
      ) {
        for (const n of sizes) ws.send(words(n));
        const got = [];
        for (const n of sizes) {
          const m = await d.next();
          assert.equal(dec.decode(m.data), words(n));
          got.push(m.compressed);
        }
        assert.deepEqual(got, d === on ? [false, true, true, true] : [false, false, false, true]);
      }
      on.close();
      off.close();
    } finally {
      await s.shutdown();
    }
  });
});
