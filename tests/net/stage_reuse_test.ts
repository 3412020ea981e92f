import { describe, it } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { reuseStage, STAGES } from "../../src/net/_connection_stage.ts";
import type { BufferHolder } from "../../src/runtime/buffer_pool.ts";

const lendStage = (buf: Uint8Array, holder: BufferHolder): void => STAGES.lend(buf, holder);
import { serve } from "../../src/net/server.ts";
import type { Connection } from "../../src/net/connection.ts";

const CRLF = new Uint8Array([13, 10]);

/** Empties the shared pool so each case starts from nothing lent. */
function drainPool(): void {
  while (reuseStage() !== undefined) { /* taken */ }
}

describe("gather buffer reuse", () => {
  it("gives a buffer back only once its socket's queue is empty", () => {
    drainPool();
    const holder = { writableLength: 10 };
    const buf = new Uint8Array(2048);
    lendStage(buf, holder);
    assert.equal(reuseStage(), undefined, "still queued: not reusable");
    holder.writableLength = 0;
    assert.equal(reuseStage(), buf);
    assert.equal(reuseStage(), undefined, "handed out once");
  });

  it("skips busy sockets and finds a written one behind them", () => {
    drainPool();
    const busy = { writableLength: 1 };
    const idle = { writableLength: 0 };
    const a = new Uint8Array(2048), b = new Uint8Array(4096);
    lendStage(a, busy);
    lendStage(b, idle);
    assert.equal(reuseStage(), b);
    assert.equal(reuseStage(), undefined);
    busy.writableLength = 0;
    assert.equal(reuseStage(), a);
  });

  it("keeps at most 256 lent buffers and none above 16 KiB", () => {
    drainPool();
    const idle = { writableLength: 0 };
    lendStage(new Uint8Array(32768), idle);
    assert.equal(reuseStage(), undefined, "a large buffer is left to the collector");
    // Lent while still queued (a buffer free at once would take the pool's one free slot).
    const busy = { writableLength: 1 };
    const bufs = Array.from({ length: 300 }, () => new Uint8Array(2048));
    for (const b of bufs) lendStage(b, busy);
    busy.writableLength = 0;
    const back = new Set<Uint8Array>();
    for (let b; (b = reuseStage()) !== undefined;) back.add(b);
    assert.equal(back.size, 256);
    for (const b of bufs.slice(44)) assert.ok(back.has(b), "the newest 256 are kept");
  });
});

/** Numbered lines: "<tag><n padded> " + filler to `size` bytes, then LF. */
function lines(tag: string, count: number, size: number): string {
  let s = "";
  for (let i = 0; i < count; i++) {
    const head = `${tag}${String(i).padStart(6, "0")} `;
    s += head + String.fromCharCode(97 + (i % 26)).repeat(size - head.length) + "\n";
  }
  return s;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => resolve(s));
    s.once("error", reject);
  });
}

/** Reads until `bytes` bytes came (or the deadline); returns them as text. */
function readAll(s: net.Socket, bytes: number, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let n = 0;
    const timer = setTimeout(() => reject(new Error(`timed out after ${n} of ${bytes} bytes`)), ms);
    s.on("data", (d: Buffer) => {
      parts.push(d);
      n += d.length;
      if (n >= bytes) {
        clearTimeout(timer);
        resolve(Buffer.concat(parts).toString("latin1"));
      }
    });
    s.resume();
  });
}

describe("gather buffer reuse on a live server", () => {
  it("a stalled reader's queued replies stay intact while other connections reuse buffers", async () => {
    await using server = await serve({
      hostname: "127.0.0.1",
      singleLineMode: true,
      onData: (conn: Connection, bytes: Uint8Array) => {
        if (!conn.connected) return;
        conn.write(bytes);
        if (!conn.write(CRLF)) conn.pause();
      },
      onDrain: (conn: Connection) => conn.resume(),
    });
    const port = server.addr.port;
    // A stops reading: its replies pile up in the server's queue (and stage buffers with them).
    const a = await connect(port);
    a.pause();
    const aText = lines("A", 20000, 100);
    a.write(aText);
    // Meanwhile others echo busily, taking gather buffers from the shared pool.
    const others = await Promise.all([1, 2, 3, 4].map(() => connect(port)));
    const otherTexts = others.map((_, i) => lines(`B${i}`, 5000, 60));
    const echoed = others.map((s, i) => {
      const want = otherTexts[i]!.replaceAll("\n", "\r\n");
      const got = readAll(s, want.length, 20000);
      s.write(otherTexts[i]!);
      return got.then((t) => assert.equal(t, want, `client B${i} got its lines back intact`));
    });
    await Promise.all(echoed);
    const want = aText.replaceAll("\n", "\r\n");
    const got = await readAll(a, want.length, 20000);
    assert.equal(got.length, want.length);
    assert.ok(got === want, "the stalled client got every reply intact and in order");
    for (const s of [a, ...others]) s.destroy();
  });
});
