/**
 * Pooled write buffers in the proxy: frames queued for a client that stopped
 * reading keep their buffers (the pool reuses a buffer only once the socket
 * holding it has written it) while another proxied connection moves data
 * through the same pool.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { serveProxy } from "../../src/proxy/mod.ts";
import { openWs } from "../ws/_raw_client.ts";
import { pattern as noise } from "../runtime/_helpers.ts";
import { client, deadline, echo, sleep, tcpTarget } from "./_helpers.ts";

const MiB = 1024 * 1024;

const digest = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

describe("WebSocketProxy pooled buffers", () => {
  it("a stalled client's queued frames stay intact while another connection reuses the pool", async () => {
    const A_BYTES = 24 * MiB;
    const aData = noise(A_BYTES, 0x1234567);
    // Target of A: pushes A_BYTES in 64 KiB writes as fast as the proxy takes them.
    const pusher = await tcpTarget((socket) => {
      let at = 0;
      const pump = () => {
        while (at < A_BYTES) {
          const piece = aData.subarray(at, at + 65536);
          at += piece.length;
          if (!socket.write(piece)) return;
        }
      };
      socket.start({ data: () => {}, drain: pump, end: () => {}, close: () => {} });
      pump();
    });
    const echoT = await tcpTarget(echo);
    await using proxy = await serveProxy({
      hostname: "127.0.0.1",
      port: 0,
      resolveTarget: (req) =>
        req.url.startsWith("/a") ? `127.0.0.1:${pusher.port}` : `127.0.0.1:${echoT.port}`,
    });
    const base = `ws://127.0.0.1:${proxy.addr.port}`;
    const a = await openWs(proxy.addr.port, { path: "/a", protocols: ["binary"] });
    a.socket.pause(); // A stops reading: the proxy queues frames for it
    await sleep(300);
    // B streams 16 MiB through the echo meanwhile (reusing pooled buffers).
    const b = client(`${base}/b`, ["binary"]);
    await b.opened;
    const bData = noise(16 * MiB, 0x7654321);
    for (let at = 0; at < bData.length; at += 65536) {
      b.ws.send(bData.subarray(at, at + 65536));
      while (b.ws.bufferedAmount > 2 * MiB) await sleep(2);
    }
    await b.waitFor((_t, n) => n >= bData.length, 30_000, "B's echo");
    assert.equal(digest(b.received()), digest(bData), "B's echo is intact");
    a.socket.resume();
    const got = () => a.frames.reduce((n, f) => n + f.payload.length, 0);
    await deadline(
      (async () => {
        while (got() < A_BYTES && !a.isClosed()) await sleep(5);
      })(),
      30_000,
      "A's data",
    );
    const all = new Uint8Array(got());
    let at = 0;
    for (const f of a.frames) {
      all.set(f.payload, at);
      at += f.payload.length;
    }
    assert.equal(all.length, A_BYTES);
    assert.ok(digest(all) === digest(aData), "A got every byte intact after stalling");
    a.abort();
    b.ws.close();
    await deadline(b.closed, 5000, "B closes");
    await pusher.close();
    await echoT.close();
  });
});
