/**
 * permessage-deflate over a long run: 4000 connections, each negotiating
 * context takeover both ways, echoing a compressed message, receiving a
 * message compressed in pieces, and closing, with RSS sampled every 200
 * connections. Every connection holds about 150-270 KiB of zlib state while
 * open (README), so a leak of even one stream per connection would add
 * 45-400 MiB over the second half alone; the test asserts RSS grows less
 * than 16 MiB over it. Set DEFLATE_LONGRUN_LOG=1 to print the samples.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { zlibEngine } from "../../../src/runtime/zlib.ts";
import type { WebSocketConnection } from "../../../src/ws/ws_connection.ts";
import { cat, openWs, type RawFrame } from "../_raw_client.ts";
import { startEcho } from "./_echo.ts";

const engine = zlibEngine();
const enc = new TextEncoder();
const dec = new TextDecoder();
const proc = (globalThis as any).process;
const g = globalThis as any;

/** A full garbage collection where the runtime offers one (Node and Deno: through V8's flag). */
function collector(): () => void {
  if (typeof g.gc === "function") return () => g.gc();
  if (g.Bun !== undefined) return () => g.Bun.gc(true);
  try {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc");
    if (typeof gc === "function") return gc;
  } catch {
    // no collector: RSS then includes garbage, and the bound below still holds with margin
  }
  return () => {};
}

function line(k: number): string {
  return `{"seq":${k},"user":"alice","text":"hello again, the same words as before"} `.repeat(30);
}

describe("WebSocketServer permessage-deflate long run", () => {
  it("WebSocketServer keeps RSS flat over 4000 connect/compress/close cycles (context takeover, pieces)", async () => {
    const server = await startEcho({
      perMessageDeflate: { threshold: 0, maxContexts: 100_000 },
      onMessage(ws: WebSocketConnection, data: Uint8Array) {
        ws.send(data, true);
        ws.sendFragment(data.subarray(0, 700), false, true);
        ws.sendFragment(data.subarray(700), true, true);
      },
    });
    const samples: number[] = [];
    const gc = collector();
    const BATCH = 20;
    const ROUNDS = Number(proc.env?.DEFLATE_LONGRUN_ROUNDS ?? 200); // 4000 connections
    try {
      for (let round = 0; round < ROUNDS; round++) {
        await Promise.all(Array.from({ length: BATCH }, async (_, j) => {
          const k = round * BATCH + j;
          const c = await openWs(server.port, {
            headers: { "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits" },
          });
          assert.match(
            c.responseHeaders.get("sec-websocket-extensions") ?? "",
            /^permessage-deflate/,
          );
          const d = engine.createDeflater({
            windowBits: 12,
            memLevel: 8,
            level: 6,
            noContextTakeover: false,
          });
          const i = engine.createInflater({ windowBits: 12, noContextTakeover: false });
          try {
            const text = line(k);
            c.sendFrames({ opcode: 1, payload: d.deflate(enc.encode(text)), rsv: 4 });
            for (let m = 0; m < 2; m++) {
              const frames: RawFrame[] = [];
              let f: RawFrame;
              do frames.push(f = await c.nextFrame(20_000)); while (!f.fin);
              assert.equal(frames[0].rsv1, true);
              const got = i.inflate(cat(...frames.map((x) => x.payload)), true, 1 << 20)!;
              assert.equal(dec.decode(got), text);
            }
          } finally {
            d.close();
            i.close();
            c.close();
            await c.closed;
          }
        }));
        if (round % 10 === 9) {
          await new Promise((r) => setTimeout(r, 20));
          gc();
          samples.push(proc.memoryUsage().rss / 1048576);
        }
      }
      const mib = samples.map((s) => s.toFixed(1)).join(", ");
      if (proc.env?.DEFLATE_LONGRUN_LOG) console.log(`RSS MiB every 200 connections: ${mib}`);
      // Allocators and heaps size themselves over the first 1000-1600 connections
      // (measured: Node plateaus at about +34 MiB by 1600); after that RSS must stay flat.
      const mid = Math.max(
        ...samples.slice(Math.floor(samples.length / 2) - 2, Math.floor(samples.length / 2)),
      );
      const late = Math.max(...samples.slice(-2));
      assert.ok(
        late - mid < 16,
        `RSS grew ${(late - mid).toFixed(1)} MiB over the second half: ${mib}`,
      );
      assert.equal(server.size, 0);
    } finally {
      await server.shutdown();
    }
  });
});
