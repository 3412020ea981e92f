/**
 * Hostile and broken peers: absurd lengths, unmasked frames, fragmented
 * control frames, floods of tiny fragments, invalid UTF-8 split across
 * fragments, forbidden close codes, a peer that never reads, and peers
 * that vanish mid-frame. The server must answer with the right close code,
 * buffer nothing it does not need, and keep serving others.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { serveWs } from "../../../src/ws/ws_server.ts";
import { WsProtocolError } from "../../../src/ws/errors.ts";
import { ServerError } from "../../../src/net/errors.ts";
import type { WebSocketCloseInfo, WebSocketConnection } from "../../../src/ws/ws_connection.ts";
import { cat, expectClose, frame, hex, openWs, withTimeout } from "../_raw_client.ts";
import { closeNormally, expectFail, expectMessage } from "./_autobahn.ts";
import { type EchoServer, startEcho } from "./_echo.ts";
import { until } from "../../_client.ts";

let server: EchoServer;

describe("WebSocketServer against bad input", () => {
  before(async () => {
    server = await startEcho({ maxPayload: 1024 * 1024 });
  });
  after(async () => {
    await server.shutdown();
  });

  it("WebSocketServer fails a 2^63 payload length with 1002 from the header alone", async () => {
    const c = await openWs(server.port);
    c.send(frame({ opcode: 2, claimLength: 2n ** 63n }));
    await expectFail(c, 1002);
    const err = server.errors.at(-1);
    assert.ok(err instanceof WsProtocolError && err.code === "WS_LENGTH_OVERFLOW");
  });

  it("WebSocketServer fails a length over maxPayload with 1009 before any payload is buffered", async () => {
    const c = await openWs(server.port);
    c.send(frame({ opcode: 2, claimLength: 2n ** 40n }).subarray(0, 14));
    await expectFail(c, 1009);
    const big = await openWs(server.port);
    big.sendFrames({ opcode: 2, payload: new Uint8Array(1024 * 1024 + 1) });
    await expectFail(big, 1009);
  });

  it("WebSocketServer fails an unmasked client frame with 1002", async () => {
    const c = await openWs(server.port);
    c.sendFrames({ opcode: 1, payload: "hello", mask: null });
    await expectFail(c, 1002);
    assert.equal((server.errors.at(-1) as WsProtocolError).code, "WS_UNMASKED_FRAME");
  });

  it("WebSocketServer fails fragmented control frames (close, ping) with 1002", async () => {
    for (const opcode of [8, 9]) {
      const c = await openWs(server.port);
      c.sendFrames({ opcode, payload: "\x03\xe8", fin: false });
      await expectFail(c, 1002);
    }
  });

  it("WebSocketServer refuses 100,000 one-byte fragments at maxFragments (1009) and echoes them under a raised limit", async () => {
    const ones = cat(...Array.from({ length: 100_000 }, (_, i) =>
      frame({ opcode: i === 0 ? 2 : 0, payload: new Uint8Array([i & 255]), fin: i === 99_999 })
    ));
    const c = await openWs(server.port);
    c.send(ones);
    await expectFail(c, 1009);
    assert.equal((server.errors.at(-1) as WsProtocolError).code, "WS_TOO_MANY_FRAGMENTS");
    await using roomy = await startEcho({ maxFragments: 100_000 });
    const d = await openWs(roomy.port);
    d.send(ones);
    await expectMessage(d, 2, Uint8Array.from({ length: 100_000 }, (_, i) => i & 255));
    await closeNormally(d);
  });

  it("WebSocketServer fails invalid UTF-8 split across fragments with 1007", async () => {
    // "€" is e2 82 ac; e2 82 28 is invalid, and its bytes arrive in two frames.
    const c = await openWs(server.port);
    c.sendFrames({ opcode: 1, payload: hex("61 e2"), fin: false }, { opcode: 0, payload: hex("82 28") });
    await expectFail(c, 1007);
    const ok = await openWs(server.port);
    ok.sendFrames({ opcode: 1, payload: hex("61 e2"), fin: false }, { opcode: 0, payload: hex("82 ac") });
    await expectMessage(ok, 1, "a€");
    await closeNormally(ok);
  });

  for (const [what, payload, code] of [
    ["1005", "\x03\xed", 1002],
    ["1006", "\x03\xee", 1002],
    ["999", "\x03\xe7", 1002],
    ["5000", "\x13\x88", 1002],
    ["a 1-byte payload", "\x03", 1002],
  ] as const) {
    it(`WebSocketServer fails a close frame with ${what} (${code})`, async () => {
      const c = await openWs(server.port);
      c.sendFrames({ opcode: 8, payload });
      await expectFail(c, code);
    });
  }

  it("WebSocketServer keeps memory bounded for a peer that never reads: sends report backpressure, then 135", async () => {
    let ws: WebSocketConnection | undefined;
    await using s = await serveWs({
      hostname: "127.0.0.1",
      port: 0,
      maxWriteBuffer: 1024 * 1024,
      onOpen: (w) => void (ws = w),
    });
    const c = await openWs(s.addr.port);
    c.socket.pause(); // never read: TCP flow control reaches the server
    await until(() => ws !== undefined);
    const chunk = new Uint8Array(64 * 1024);
    let accepted = 0;
    let firstFalse = -1;
    let refused: unknown;
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      try {
        if (!ws!.send(chunk) && firstFalse < 0) firstFalse = accepted;
        accepted++;
      } catch (error) {
        refused = error;
        break;
      }
      if (accepted % 16 === 0) await new Promise((r) => setTimeout(r, 1)); // let the kernel take what it can
    }
    assert.ok(firstFalse >= 0, "send returned false above the high-water mark");
    assert.ok(refused instanceof ServerError && refused.code === 135, String(refused));
    assert.ok(ws!.bufferedAmount < 1024 * 1024 + chunk.length, `queued ${ws!.bufferedAmount}`);
    assert.ok(ws!.desiredSize <= 0);
    const ready = ws!.ready;
    c.socket.resume();
    await withTimeout(ready, 5000, "the queue to drain once the peer reads");
    c.abort();
  });

  it("WebSocketServer stops answering pings of a peer that never reads once the queue is full", async () => {
    let ws: WebSocketConnection | undefined;
    await using s = await serveWs({
      hostname: "127.0.0.1",
      port: 0,
      maxWriteBuffer: 64 * 1024,
      onOpen: (w) => void (ws = w),
    });
    const c = await openWs(s.addr.port);
    c.socket.pause();
    const ping = frame({ opcode: 9, payload: "p".repeat(125) });
    const flood = cat(...Array.from({ length: 2000 }, () => ping));
    for (let i = 0; i < 60; i++) {
      c.send(flood); // 60 x 2000 pings, 15 MiB of pongs if all were answered
      await new Promise((r) => setTimeout(r, 5));
    }
    await until(() => ws !== undefined && ws.connection.bytesReceived >= 60 * flood.length, 10_000, "the flood to be read");
    assert.ok(ws!.bufferedAmount < 64 * 1024 + 200, `queued ${ws!.bufferedAmount}`);
    c.abort();
  });

  it("WebSocketServer survives a peer that resets mid-frame and one that half-closes mid-message (1006)", async () => {
    const closes: WebSocketCloseInfo[] = [];
    await using s = await startEcho({ onClose: (_ws, info) => void closes.push(info) });
    const a = await openWs(s.port);
    a.send(frame({ opcode: 2, payload: new Uint8Array(1000) }).subarray(0, 500));
    await new Promise((r) => setTimeout(r, 20));
    a.abort();
    const b = await openWs(s.port);
    b.sendFrames({ opcode: 1, payload: "part", fin: false });
    b.socket.closeWrite();
    await withTimeout(b.closed, 3000, "the server to close after the FIN");
    await until(() => closes.length === 2, 3000, "both closes");
    assert.deepEqual(closes.map((i) => [i.code, i.wasClean]), [[1006, false], [1006, false]]);
    const c = await openWs(s.port);
    c.sendFrames({ opcode: 1, payload: "still serving" });
    await expectMessage(c, 1, "still serving");
    await closeNormally(c);
  });

  it("WebSocketServer sends no frame after a protocol error even when more valid frames follow in the same read", async () => {
    const c = await openWs(server.port);
    c.send(cat(
      frame({ opcode: 1, payload: "before" }),
      frame({ opcode: 1, payload: "bad", rsv: 2 }),
      frame({ opcode: 1, payload: "after" }),
      frame({ opcode: 9, payload: "ping" }),
    ));
    await expectMessage(c, 1, "before");
    await expectClose(c, [1002]);
    assert.deepEqual(c.frames.map((f) => f.opcode), [1, 8]);
  });
});

describe("WebSocketServer options", () => {
  it("WebSocketServer rejects invalid options with TypeError and RangeError naming the value", async () => {
    assert.throws(() => serveWs({ maxPayload: -1 }), /maxPayload must be an integer >= 0: current value is -1/);
    assert.throws(() => serveWs({ maxLineLength: 10 }), RangeError);
    assert.throws(() => serveWs({ protocols: ["bad token"] }), TypeError);
    assert.throws(() => serveWs({ bufferMessage: "yes" as unknown as boolean }), TypeError);
    await using s = await serveWs({ hostname: "127.0.0.1", port: 0 });
    assert.equal(s.settings.maxPayload, 64 * 1024 * 1024);
    assert.equal(s.settings.maxFragments, 65536);
    assert.equal(s.settings.handshakeTimeout, 10_000);
    s.set({ maxPayload: 10, pingInterval: 0 });
    assert.deepEqual([s.settings.maxPayload, s.settings.pingInterval], [10, 0]);
    assert.throws(() => s.get("nope"), { code: 126 });
  });
});
