/**
 * WebSocketConnection: sending (fragmentation at maxFrameSize, pieces,
 * files), ping and heartbeat, idle timeout, the closing handshake and its
 * timeout, line mode, unbuffered parts, the streams face, failures in
 * callbacks, and shutdown with 1001.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serveWs } from "../../../src/ws/ws_server.ts";
import type { WebSocketServerOptions } from "../../../src/ws/ws_server_options.ts";
import type { WebSocketCloseInfo, WebSocketConnection } from "../../../src/ws/ws_connection.ts";
import { expectClose, openWs, type RawClient, text, withTimeout } from "../_raw_client.ts";
import { closeNormally, expectMessage } from "./_autobahn.ts";
import { until } from "../../_client.ts";

const enc = new TextEncoder();

/** A server whose open connections and close infos the test can see. */
async function start(options: WebSocketServerOptions = {}) {
  const opened: WebSocketConnection[] = [];
  const closes: WebSocketCloseInfo[] = [];
  const errors: Error[] = [];
  const server = await serveWs({
    hostname: "127.0.0.1",
    port: 0,
    onError: (e) => void errors.push(e),
    ...options,
    onOpen(ws) {
      opened.push(ws);
      return options.onOpen?.(ws);
    },
    onClose(ws, info) {
      closes.push(info);
      options.onClose?.(ws, info);
    },
  });
  const connect = async (): Promise<[RawClient, WebSocketConnection]> => {
    const c = await openWs(server.addr.port);
    await until(() => opened.length > 0 && opened.at(-1)!.readyState === 1, 2000, "onOpen");
    return [c, opened.at(-1)!];
  };
  return { server, opened, closes, errors, connect };
}

describe("WebSocketConnection", () => {
  it("WebSocketConnection sends text, binary and UTF-8 bytes as text, fragmenting at maxFrameSize", async () => {
    const t = await start({ maxFrameSize: 100 });
    await using _ = t.server;
    const [c, ws] = await t.connect();
    assert.equal(ws.send("héllo"), true);
    ws.sendBinary(new Uint8Array(250).fill(7));
    ws.sendText(enc.encode("as text"));
    ws.send("x".repeat(50_000)); // encoded once, then split
    await expectMessage(c, 1, "héllo");
    const parts = [await c.nextFrame(), await c.nextFrame(), await c.nextFrame()];
    assert.deepEqual(parts.map((f) => [f.opcode, f.fin, f.payload.length]), [[2, false, 100], [0, false, 100], [0, true, 50]]);
    await expectMessage(c, 1, "as text");
    await expectMessage(c, 1, "x".repeat(50_000));
    assert.equal(c.frames.length, 1 + 3 + 1 + 500);
    await closeNormally(c);
  });

  it("WebSocketConnection sendFragment sends one message in pieces and holds other sends until it ends", async () => {
    const t = await start();
    await using _ = t.server;
    const [c, ws] = await t.connect();
    ws.sendFragment("ab", false);
    ws.send("held");
    ws.sendFragment(enc.encode("cd"), true, true);
    ws.sendFragment(new Uint8Array([1]), true); // a one-piece binary message
    const got = [await c.nextFrame(), await c.nextFrame(), await c.nextFrame(), await c.nextFrame()];
    assert.deepEqual(got.map((f) => [f.opcode, f.fin, text(f)]), [
      [1, false, "ab"],
      [0, true, "cd"],
      [1, true, "held"],
      [2, true, "\x01"],
    ]);
    await closeNormally(c);
  });

  it("WebSocketConnection.ping resolves with the round-trip time and rejects ETIMEDOUT without a pong", async () => {
    const t = await start();
    await using _ = t.server;
    const [c, ws] = await t.connect();
    const rtt = ws.ping("p1", { timeout: 2000 });
    const ping = await c.nextFrame();
    assert.deepEqual([ping.opcode, text(ping)], [9, "p1"]);
    c.sendFrames({ opcode: 10, payload: "p1" });
    const ms = await rtt;
    assert.ok(ms >= 0 && ms < 2000, String(ms));
    assert.equal(ws.rtt, ms);
    const auto = ws.ping(undefined, { timeout: 100 });
    assert.equal((await c.nextFrame()).payload.length, 4, "a unique 4-byte payload");
    await assert.rejects(auto, { code: "ETIMEDOUT" });
    assert.equal(ws.readyState, 1, "a missing pong does not close");
    assert.throws(() => ws.ping(new Uint8Array(126)), RangeError);
    await closeNormally(c);
  });

  it("WebSocketConnection heartbeat pings a silent peer, keeps one that answers, and drops one that does not (1006)", async () => {
    const t = await start({ pingInterval: 60, pongTimeout: 150 });
    await using _ = t.server;
    const [alive, wsAlive] = await t.connect();
    const [dead] = await t.connect();
    // The live peer answers every ping; the dead one never does.
    for (let i = 0; i < 3; i++) {
      const f = await alive.nextFrame(2000);
      assert.equal(f.opcode, 9);
      alive.sendFrames({ opcode: 10, payload: f.payload });
    }
    assert.equal((await dead.nextFrame(2000)).opcode, 9);
    await withTimeout(dead.closed, 3000, "the dead peer to be dropped");
    assert.ok(!dead.frames.some((f) => f.opcode === 8), "dropped without a close frame");
    await until(() => t.closes.length === 1, 2000, "onClose");
    assert.equal(t.closes[0]!.code, 1006);
    assert.equal((t.closes[0]!.error as { code?: string }).code, "ETIMEDOUT");
    assert.equal(wsAlive.readyState, 1);
    assert.ok(wsAlive.rtt !== undefined && wsAlive.rtt >= 0);
    await closeNormally(alive);
  });

  it("WebSocketConnection idleTimeout closes with 1001 when no message flows in either direction", async () => {
    const t = await start({ idleTimeout: 150, pingInterval: 0 });
    await using _ = t.server;
    const [c] = await t.connect();
    const started = Date.now();
    c.sendFrames({ opcode: 9, payload: "not a message" });
    const { code, reason } = await c.closeFrame(3000);
    assert.deepEqual([code, reason], [1001, "idle timeout"]);
    assert.ok(Date.now() - started >= 100);
    c.sendFrames({ opcode: 8, payload: "\x03\xe9" });
    await withTimeout(c.closed, 3000, "TCP close");
  });

  it("WebSocketConnection.close waits for the peer's close frame and reports its code", async () => {
    const t = await start();
    await using _ = t.server;
    const [c, ws] = await t.connect();
    const done = ws.close(4000, "bye");
    assert.equal(ws.readyState, 2);
    assert.throws(() => ws.send("late"), { code: "EPIPE" });
    const f = await c.closeFrame();
    assert.deepEqual([f.code, f.reason], [4000, "bye"]);
    assert.equal(c.isClosed(), false, "the server waits for our close frame");
    c.sendFrames({ opcode: 8, payload: "\x0f\xa0ok" });
    const info = await done;
    assert.deepEqual([info.code, info.reason, info.wasClean], [4000, "ok", true]);
    await withTimeout(c.closed, 3000, "TCP close");
    assert.equal((await ws.close()).code, 4000, "closing again resolves with the same info");
  });

  it("WebSocketConnection.close without waiting closes TCP at once; a silent peer is reset after closeTimeout", async () => {
    const t = await start({ closeTimeout: 200 });
    await using _ = t.server;
    const [a, wsA] = await t.connect();
    const infoA = await wsA.close(1000, "", { wait: false });
    assert.deepEqual([infoA.code, infoA.wasClean], [1000, false]);
    await expectClose(a, [1000]);
    const [b, wsB] = await t.connect();
    const started = Date.now();
    const infoB = await wsB.close(1001);
    assert.equal(infoB.code, 1006);
    assert.equal((infoB.error as { code?: string }).code, "ETIMEDOUT");
    assert.ok(Date.now() - started >= 150, "waited for closeTimeout");
    assert.equal((await b.closeFrame()).code, 1001);
  });

  it("WebSocketConnection reports the peer's close code and reason to onClose", async () => {
    const t = await start();
    await using _ = t.server;
    const [c] = await t.connect();
    c.sendFrames({ opcode: 8, payload: "\x0b\xb8going" });
    await expectClose(c, [3000]);
    await until(() => t.closes.length === 1);
    assert.deepEqual(t.closes[0], { code: 3000, reason: "going", wasClean: true });
  });

  it("WebSocketConnection line mode cuts lines across messages and cuts long lines at maxLineLength", async () => {
    const lines: [string, boolean][] = [];
    const t = await start({
      lineMode: true,
      maxLineLength: 256,
      onLine: (_ws, line, eol) => void lines.push([new TextDecoder().decode(line), eol]),
    });
    await using _ = t.server;
    const [c, ws] = await t.connect();
    assert.equal(ws.lineMode, true);
    c.sendFrames({ opcode: 1, payload: "a\nb" }, { opcode: 2, payload: "c\r\n" + "x".repeat(300) + "\n" });
    c.sendFrames({ opcode: 1, payload: "tail" });
    await until(() => lines.length === 4);
    ws.lineMode = false; // flushes the pending partial line
    assert.deepEqual(lines, [["a", true], ["bc", true], ["x".repeat(256), false], ["x".repeat(44), true], ["tail", false]]);
    assert.throws(() => (ws.maxLineLength = 10), RangeError);
    await closeNormally(c);
  });

  it("WebSocketConnection with bufferMessage false delivers parts as they arrive with eom on the last", async () => {
    const parts: [string, boolean, boolean][] = [];
    const t = await start({
      bufferMessage: false,
      onMessage: (_ws, data, isText, eom) => void parts.push([new TextDecoder().decode(data), isText, eom]),
    });
    await using _ = t.server;
    const [c] = await t.connect();
    c.sendFrames({ opcode: 1, payload: "ab", fin: false }, { opcode: 0, payload: "cd" }, { opcode: 2, payload: "z" });
    await until(() => parts.length === 3);
    assert.deepEqual(parts, [["ab", true, false], ["cd", true, true], ["z", false, true]]);
    await closeNormally(c);
  });

  it("WebSocketConnection.messages streams whole messages and writable sends one message per chunk", async () => {
    const t = await start({
      async onOpen(ws) {
        const writer = ws.writable.getWriter();
        for await (const m of ws.messages) {
          await writer.write(typeof m === "string" ? m.toUpperCase() : m.map((b) => b + 1));
        }
      },
    });
    await using _ = t.server;
    const [c] = await t.connect();
    c.sendFrames({ opcode: 1, payload: "hi" }, { opcode: 2, payload: new Uint8Array([1, 2]) });
    await expectMessage(c, 1, "HI");
    await expectMessage(c, 2, new Uint8Array([2, 3]));
    assert.throws(() => t.opened[0]!.messages, TypeError, "taken once");
    await closeNormally(c);
  });

  it("WebSocketConnection.fragments streams parts; openMessage sends one message from a WritableStream", async () => {
    const seen: [string, boolean, boolean][] = [];
    const t = await start({
      bufferMessage: false,
      async onOpen(ws) {
        const out = ws.openMessage({ text: true }).getWriter();
        await out.write("one ");
        await out.write(enc.encode("two"));
        await out.close();
        for await (const f of ws.fragments) seen.push([new TextDecoder().decode(f.data), f.text, f.eom]);
      },
    });
    await using _ = t.server;
    const [c] = await t.connect();
    const frames = [await c.nextFrame(), await c.nextFrame(), await c.nextFrame()];
    assert.deepEqual(frames.map((f) => [f.opcode, f.fin, text(f)]), [[1, false, "one "], [0, false, "two"], [0, true, ""]]);
    c.sendFrames({ opcode: 2, payload: "p", fin: false }, { opcode: 0, payload: "q" });
    await until(() => seen.length === 2);
    assert.deepEqual(seen, [["p", false, false], ["q", false, true]]);
    await closeNormally(c);
  });

  it("WebSocketConnection.sendFile sends a file as one message; aborting ends it early and keeps the connection", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ns-ws-"));
    try {
      const small = join(dir, "small.txt");
      writeFileSync(small, "file contents");
      const big = join(dir, "big.bin");
      writeFileSync(big, new Uint8Array(32 * 1024 * 1024).fill(9));
      const empty = join(dir, "empty");
      writeFileSync(empty, "");
      const t = await start();
      await using _ = t.server;
      const [c, ws] = await t.connect();
      assert.equal(await ws.sendFile(small, { text: true }), 13);
      await expectMessage(c, 1, "file contents");
      assert.equal(await ws.sendFile(empty), 0);
      await expectMessage(c, 2, new Uint8Array(0));
      // Stop reading so the send queue fills, then interrupt.
      c.socket.pause();
      const ac = new AbortController();
      const sending = ws.sendFile(big, { signal: ac.signal });
      await until(() => ws.desiredSize <= 0, 3000, "backpressure");
      ac.abort(new Error("interrupted"));
      await assert.rejects(sending, /interrupted/);
      ws.send("after");
      c.socket.resume();
      let total = 0;
      for (let f = await c.nextFrame(); ; f = await c.nextFrame()) {
        total += f.payload.length;
        if (f.fin) break;
      }
      assert.ok(total > 0 && total < 32 * 1024 * 1024, `a truncated message of ${total} bytes`);
      await expectMessage(c, 1, "after");
      await closeNormally(c);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("WebSocketConnection closes with 1011 when a callback throws, and reports the error", async () => {
    const t = await start({
      onMessage() {
        throw new Error("handler bug");
      },
    });
    await using _ = t.server;
    const [c] = await t.connect();
    c.sendFrames({ opcode: 1, payload: "x" }, { opcode: 1, payload: "y" });
    await expectClose(c, [1011]);
    assert.deepEqual(t.errors.map((e) => e.message), ["handler bug"]);
  });

  it("WebSocketServer.shutdown closes every WebSocket with 1001, waits for the handshake, resets the silent", async () => {
    const t = await start();
    const [polite] = await t.connect();
    const [silent] = await t.connect();
    const started = Date.now();
    const down = t.server.shutdown({ timeout: 300 });
    const f = await polite.closeFrame();
    assert.deepEqual([f.code, f.reason], [1001, "server shutdown"]);
    polite.sendFrames({ opcode: 8, payload: "\x03\xe9" });
    assert.equal((await silent.closeFrame()).code, 1001);
    await down;
    assert.ok(Date.now() - started >= 250, "waited for the silent peer");
    await withTimeout(Promise.all([polite.closed, silent.closed]), 3000, "both closed");
    await until(() => t.closes.length === 2);
    const codes = t.closes.map((i) => i.code).sort();
    assert.deepEqual(codes, [1001, 1006]);
    assert.equal(t.server.listening, false);
  });
});
