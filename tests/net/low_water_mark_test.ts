import { describe, it } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { serve } from "../../src/net/server.ts";
import type { Connection } from "../../src/net/connection.ts";

/** Connects, sends `out` and half-closes, then collects everything until the server's FIN. */
function exchange(port: number, out: Uint8Array, ms: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let n = 0;
    const s = net.connect(port, "127.0.0.1", () => s.end(out));
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`stuck after ${n} bytes`));
    }, ms);
    s.on("data", (d: Buffer) => {
      parts.push(d);
      n += d.length;
    });
    s.on("end", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(parts));
    });
    s.on("error", reject);
  });
}

// A writeHighWaterMark below the socket's own 64 KiB: the connection says
// "wait" before the socket would, and must still get the drain it waits for.
describe("writeHighWaterMark below the socket's", () => {
  it("send() in a loop finishes (each wait for ready ends)", async () => {
    await using server = await serve({
      hostname: "127.0.0.1",
      writeHighWaterMark: 4096,
      async onConnection(conn) {
        const block = new Uint8Array(8192).fill(120);
        for (let i = 0; i < 100; i++) await conn.send(block);
        await conn.close();
      },
    });
    const got = await exchange(server.addr.port, new Uint8Array(0), 10000);
    assert.equal(got.length, 819200);
  });

  it("an echo that pauses on false and resumes on onDrain echoes everything", async () => {
    let waits = 0;
    await using server = await serve({
      hostname: "127.0.0.1",
      singleLineMode: true,
      writeHighWaterMark: 1024,
      onData(conn: Connection, bytes: Uint8Array) {
        if (!conn.connected) return;
        if (!conn.writeLine(bytes)) {
          waits++;
          conn.pause();
        }
      },
      onDrain: (conn) => conn.resume(),
    });
    const line = "x".repeat(99) + "\n";
    const sent = new TextEncoder().encode(line.repeat(20000)); // 2 MB
    const got = await exchange(server.addr.port, sent, 20000);
    assert.equal(got.length, 20000 * 101);
    assert.ok(waits > 0, "the writes said false at least once");
  });

  it("write() outside a read batch says false once the queue reaches the mark, and a drain follows", async () => {
    const results: { ok: boolean; room: number }[] = [];
    let drains = 0;
    let drained!: () => void;
    const wasDrained = new Promise<void>((resolve) => (drained = resolve));
    await using server = await serve({
      hostname: "127.0.0.1",
      writeHighWaterMark: 1024,
      onConnection(conn) {
        // Not inside onData: nothing is being read, so no read batch gathers these.
        const block = new Uint8Array(2048).fill(121);
        for (let i = 0; i < 2048; i++) {
          const ok = conn.write(block);
          results.push({ ok, room: conn.desiredSize });
          if (!ok) break;
        }
        conn.closeWrite();
      },
      onDrain() {
        drains++;
        drained();
      },
    });
    const got = await exchange(server.addr.port, new Uint8Array(0), 10000);
    assert.ok(results.length > 0);
    for (const { ok, room } of results) assert.equal(ok, room > 0, JSON.stringify(results));
    assert.equal(results.at(-1)!.ok, false, "the writes said false before 4 MiB");
    assert.equal(got.length, results.length * 2048);
    await wasDrained;
    assert.equal(drains, 1);
  });
});
