/**
 * Volume and backpressure through the proxy: 100 MB each way with a
 * SHA-256 over what was sent and what arrived, a target that stops
 * reading (the proxy's queue stays bounded and the client is slowed), and
 * a client that stops reading (the target's writes stall).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { type ProxyCloseInfo, serveProxy } from "../../src/proxy/mod.ts";
import type { Socket } from "../../src/net/types.ts";
import { openWs } from "../ws/_raw_client.ts";
import { client, deadline, echo, sleep, tcpTarget } from "./_helpers.ts";

const MiB = 1024 * 1024;
const TOTAL = 100 * MiB;
const CHUNK = 64 * 1024;

/** 1 MiB of pseudo-random bytes; chunk i is a window at a varying offset. */
const POOL = (() => {
  const out = new Uint8Array(MiB + CHUNK);
  let x = 0x2545f491;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
})();
const piece = (i: number, size = CHUNK): Uint8Array =>
  POOL.subarray((i * 7919) % MiB, ((i * 7919) % MiB) + size);

function sha(): { update(b: Uint8Array): void; digest(): string } {
  const h = createHash("sha256");
  return { update: (b) => h.update(b), digest: () => h.digest("hex") };
}

describe("WebSocketProxy volume", () => {
  it("WebSocketProxy carries 100 MB client to target and back through an echo with equal checksums", async () => {
    const target = await tcpTarget(echo);
    await using proxy = await serveProxy({
      hostname: "127.0.0.1",
      port: 0,
      target: `127.0.0.1:${target.port}`,
    });
    const c = client(`ws://127.0.0.1:${proxy.addr.port}/`, ["binary"]);
    await c.opened;
    const sent = sha();
    const got = sha();
    let received = 0;
    let wake: (() => void) | undefined;
    c.ws.removeAllListeners("message");
    c.ws.on("message", (data: Uint8Array) => {
      got.update(data);
      received += data.length;
      wake?.();
    });
    const started = Date.now();
    for (let i = 0, at = 0; at < TOTAL; i++) {
      const p = piece(i, Math.min(CHUNK, TOTAL - at));
      sent.update(p);
      c.ws.send(p);
      at += p.length;
      // Keep at most 4 MiB in flight so the client does not buffer it all.
      while (c.ws.bufferedAmount > 2 * MiB || at - received > 4 * MiB) {
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 5);
        });
      }
    }
    await deadline(
      (async () => {
        while (received < TOTAL) await sleep(5);
      })(),
      60_000,
      `echo of ${TOTAL} bytes (got ${received})`,
    );
    assert.equal(received, TOTAL);
    assert.equal(got.digest(), sent.digest());
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `  100 MB round trip in ${seconds.toFixed(1)} s (${
        (2 * TOTAL / MiB / seconds).toFixed(0)
      } MiB/s both ways)`,
    );
    c.ws.close();
    await c.closed;
    await target.close();
  });

  it("WebSocketProxy carries 100 MB target to client, then closes with 1000 after the last byte", async () => {
    const sent = sha();
    const target = await tcpTarget((socket, t) => {
      let i = 0;
      let at = 0;
      const pump = () => {
        while (at < TOTAL) {
          const p = piece(i++, Math.min(CHUNK, TOTAL - at));
          sent.update(p);
          at += p.length;
          if (!socket.write(p)) return; // wait for drain
        }
        socket.close(); // flush, then FIN
      };
      socket.start({ data() {}, end() {}, drain: pump, close: () => t.sockets.delete(socket) });
      pump();
    });
    await using proxy = await serveProxy({
      hostname: "127.0.0.1",
      port: 0,
      target: `127.0.0.1:${target.port}`,
    });
    const c = client(`ws://127.0.0.1:${proxy.addr.port}/`);
    const got = sha();
    let received = 0;
    c.ws.removeAllListeners("message");
    c.ws.on("message", (data: Uint8Array) => {
      got.update(data);
      received += data.length;
    });
    const info = await deadline(c.closed, 60_000, "close after 100 MB");
    assert.equal(info.code, 1000);
    assert.equal(received, TOTAL);
    assert.equal(got.digest(), sent.digest());
    await target.close();
  });
});

describe("WebSocketProxy backpressure", () => {
  it("WebSocketProxy stops reading the client while the target does not read, with a bounded queue", async () => {
    const sockets: Socket[] = [];
    const got = sha();
    let targetBytes = 0;
    const target = await tcpTarget((socket, t) => {
      sockets.push(socket);
      socket.start({
        data: (chunk) => {
          got.update(chunk);
          targetBytes += chunk.length;
        },
        end: () => socket.closeWrite(),
        drain() {},
        close: () => t.sockets.delete(socket),
      });
      socket.pause(); // the target reads nothing for now
    });
    await using proxy = await serveProxy({
      hostname: "127.0.0.1",
      port: 0,
      target: `127.0.0.1:${target.port}`,
    });
    const c = client(`ws://127.0.0.1:${proxy.addr.port}/`);
    await c.opened;
    const total = 48 * MiB;
    const sent = sha();
    for (let i = 0, at = 0; at < total; i++, at += CHUNK) {
      const p = piece(i);
      sent.update(p);
      c.ws.send(p);
    }
    await sleep(1500);
    const session = [...proxy.sessions.values()][0]!;
    const passed = session.bytesFromClient;
    // Kernel buffers on both hops hold a few MiB; the proxy's own queue stays near its 64 KiB mark.
    assert.ok(
      session.targetBufferedAmount <= 1 * MiB,
      `proxy queue ${session.targetBufferedAmount}`,
    );
    assert.ok(
      passed < 24 * MiB,
      `proxy read ${passed} of ${total} bytes while the target was not reading`,
    );
    assert.ok(c.ws.bufferedAmount > 16 * MiB, `client still holds ${c.ws.bufferedAmount} bytes`);
    await sleep(300);
    assert.ok(session.bytesFromClient - passed < MiB, "the proxy stays stalled");
    for (const s of sockets) s.resume();
    await deadline(
      (async () => {
        while (targetBytes < total) await sleep(10);
      })(),
      30_000,
      `target reads everything (${targetBytes})`,
    );
    assert.equal(got.digest(), sent.digest());
    c.ws.close();
    await c.closed;
    await target.close();
  });

  it("WebSocketProxy stops reading the target while the client does not read", async () => {
    let written = 0;
    let stop = false;
    const target = await tcpTarget((socket, t) => {
      const pump = () => {
        while (!stop) {
          written += CHUNK;
          if (!socket.write(piece(written / CHUNK))) return;
        }
      };
      socket.start({ data() {}, end() {}, drain: pump, close: () => t.sockets.delete(socket) });
      pump();
    });
    await using proxy = await serveProxy({
      hostname: "127.0.0.1",
      port: 0,
      target: `127.0.0.1:${target.port}`,
    });
    const raw = await openWs(proxy.addr.port);
    raw.socket.pause(); // the client reads nothing
    await sleep(1500);
    const stalled = written;
    await sleep(500);
    const session = [...proxy.sessions.values()][0]!;
    assert.ok(written - stalled <= 2 * CHUNK, `target kept writing: ${stalled} -> ${written}`);
    assert.ok(written < 32 * MiB, `target wrote ${written} bytes into a stalled path`);
    assert.ok(
      session.clientBufferedAmount <= 1 * MiB,
      `proxy queue to the client ${session.clientBufferedAmount}`,
    );
    stop = true;
    raw.socket.abort();
    await target.close();
  });
});

describe("WebSocketProxy close with a stalled target", () => {
  it("WebSocketProxy drops a client it cannot read (paused by a stalled target) at the heartbeat deadline, then the target after closeTimeout", async () => {
    const target = await tcpTarget((socket, t) => {
      socket.start({ data() {}, end() {}, drain() {}, close: () => t.sockets.delete(socket) });
      socket.pause(); // never reads: the proxy's queue to it stays full
    });
    let info: ProxyCloseInfo | undefined;
    await using proxy = await serveProxy({
      hostname: "127.0.0.1",
      port: 0,
      target: `127.0.0.1:${target.port}`,
      pingInterval: 300,
      pongTimeout: 300,
      closeTimeout: 500,
      onDisconnect: (_s, i) => (info = i),
      onError: () => {},
    });
    const c = client(`ws://127.0.0.1:${proxy.addr.port}/`);
    await c.opened;
    for (let i = 0; i < 256; i++) c.ws.send(piece(i)); // 16 MiB: more than the kernel buffers take
    const started = Date.now();
    await deadline((async () => {
      while (info === undefined) await sleep(20);
    })(), 8000, "session finished");
    assert.equal(info!.code, 1006); // no pong could be read: dropped
    assert.ok(info!.bytesFromClient < 16 * MiB);
    assert.ok(Date.now() - started < 6000);
    assert.equal(proxy.sessions.size, 0);
    c.ws.terminate();
    await target.close();
  });
});
