/**
 * The server's frame writing: payloads above 4 KiB go as a header chunk and
 * the payload itself (no copy per frame), bytes borrowed from a read buffer
 * stay intact however the reads and writes interleave, whether echoed to the
 * same connection or forwarded to another one.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { openWs, type RawClient, withTimeout } from "../_raw_client.ts";
import { cat, frame } from "../_frames.ts";
import { startEcho } from "./_echo.ts";
import { serveWs } from "../../../src/ws/ws_server.ts";
import type { WebSocketConnection } from "../../../src/ws/ws_connection.ts";

/** A payload whose every byte says which message and offset it is. */
function payload(seed: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (seed * 31 + i * 7) & 255;
  return out;
}

/** Reads `n` data frames and checks each against `payload(seeds[i], sizes[i])`. */
async function expectPayloads(client: RawClient, seeds: number[], sizes: number[]): Promise<void> {
  for (let i = 0; i < seeds.length; i++) {
    const f = await client.nextFrame(10_000);
    assert.equal(f.opcode, 2, `frame ${i} opcode`);
    assert.equal(f.fin, true);
    assert.equal(f.payload.length, sizes[i], `frame ${i} size`);
    const want = payload(seeds[i], sizes[i]);
    const bad = f.payload.findIndex((b, at) => b !== want[at]);
    assert.equal(bad, -1, `frame ${i} (${sizes[i]} bytes) differs at byte ${bad}`);
  }
}

// Around the one-chunk limit (4096) and the 16-bit length limit; 70000 has a 64-bit length.
const SIZES = [1, 125, 126, 4095, 4096, 4097, 16 * 1024, 65535, 65536, 70000];

describe("WebSocketServer send path", () => {
  it("WebSocketServer echoes pipelined binary messages of every header size intact", async () => {
    await using server = await startEcho();
    const client = await openWs(server.port);
    try {
      // Rounds of all sizes sent in one write, so several frames share a read buffer.
      for (let round = 0; round < 3; round++) {
        const seeds = SIZES.map((_, i) => round * 100 + i);
        client.send(cat(...SIZES.map((size, i) => frame({ opcode: 2, payload: payload(seeds[i], size) }))));
        await expectPayloads(client, seeds, SIZES);
      }
      assert.deepEqual(server.errors, []);
    } finally {
      client.close();
    }
  });

  it("WebSocketServer forwards bytes borrowed from one connection's read buffer to another intact", async () => {
    const peers: WebSocketConnection[] = [];
    await using server = await serveWs({
      hostname: "127.0.0.1",
      port: 0,
      maxWriteBuffer: 64 * 1024 * 1024,
      onOpen: (ws) => void peers.push(ws),
      // Each message goes to the OTHER connection (a relay), during the callback.
      onMessage(ws, data) {
        const other = peers.find((p) => p !== ws);
        other?.send(data, false);
      },
    });
    const a = await openWs(server.addr.port);
    const b = await openWs(server.addr.port);
    try {
      await withTimeout((async () => {
        while (peers.length < 2) await new Promise((r) => setTimeout(r, 5));
      })(), 5000, "both open");
      // Many frames per write: the sender's read buffer is reused while the
      // receiver's queue may still hold what was forwarded.
      const sizes = [5000, 16 * 1024, 4097, 9000, 16 * 1024, 6000, 12000, 20000];
      for (let round = 0; round < 4; round++) {
        const seeds = sizes.map((_, i) => round * 50 + i);
        a.send(cat(...sizes.map((size, i) => frame({ opcode: 2, payload: payload(seeds[i], size) }))));
        await expectPayloads(b, seeds, sizes);
      }
    } finally {
      a.close();
      b.close();
    }
  });
});
