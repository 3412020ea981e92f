/**
 * The client-to-target hot path gathers the pieces of one client read
 * (several frames, or a frame cut by reads) into one write where it must
 * copy them, and corks where the runtime has writev. These tests check that
 * the bytes reach the target whole and in order however the client's
 * writes cut the frames, and that a close sent in the same write as the
 * data still lets every byte reach the target before its FIN.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { serveProxy, type WebSocketProxy } from "../../src/proxy/mod.ts";
import type { Socket } from "../../src/net/types.ts";
import { cat, frame, openWs, type RawClient } from "../ws/_raw_client.ts";
import { deadline, type TcpTarget, tcpTarget } from "./_helpers.ts";

/** Payload sizes across the 7-, 16- and 64-bit length encodings and the 16 KiB copy limit. */
const SIZES = [1, 125, 126, 1000, 16384, 16385, 70000, 3, 65535, 0, 4096];

function payloads(seed: number): Uint8Array[] {
  return SIZES.map((n, k) => {
    const p = new Uint8Array(n);
    for (let i = 0; i < n; i++) p[i] = (i * 7 + k * 31 + seed) & 255;
    return p;
  });
}

/** Masked binary frames for `parts`, then a close frame (1000). */
function framesWithClose(parts: Uint8Array[]): Uint8Array {
  const close = frame({ opcode: 8, payload: new Uint8Array([0x03, 0xe8]) });
  return cat(...parts.map((payload) => frame({ opcode: 2, payload })), close);
}

describe("WebSocketProxy client-to-target batching", () => {
  let target: TcpTarget;
  let proxy: WebSocketProxy;
  /** What each target connection received up to its FIN, in accept order. */
  const received: Promise<Uint8Array>[] = [];
  let connected: (() => void) | undefined;

  before(async () => {
    target = await tcpTarget((socket: Socket) => {
      const chunks: Uint8Array[] = [];
      received.push(
        new Promise((resolve) => {
          socket.start({
            data: (c) => chunks.push(socket.sharedChunks ? c.slice() : c),
            end: () => {
              resolve(cat(...chunks));
              socket.close();
            },
            drain: () => {},
            close: () => resolve(cat(...chunks)),
          });
        }),
      );
    });
    proxy = await serveProxy({
      hostname: "127.0.0.1",
      port: 0,
      target: `127.0.0.1:${target.port}`,
      onConnect: () => connected?.(),
    });
  });
  after(async () => {
    await proxy.shutdown();
    await target.close();
  });

  async function open(): Promise<RawClient> {
    const up = new Promise<void>((r) => (connected = r));
    const ws = await openWs(proxy.addr.port, { protocols: ["binary"] });
    await deadline(up, 5000, "target connected");
    return ws;
  }

  it("delivers every frame of one client write, and a close in the same write, in order before the FIN", async () => {
    const n = received.length;
    const ws = await open();
    const parts = payloads(1);
    ws.send(framesWithClose(parts));
    const got = await deadline(received[n]!, 10000, "target FIN");
    assert.equal(got.length, parts.reduce((s, p) => s + p.length, 0));
    assert.deepEqual(got, cat(...parts));
    const close = await ws.closeFrame(5000);
    assert.equal(close.code, 1000);
    ws.close();
  });

  it("delivers frames cut across reads at odd offsets whole and in order", async () => {
    const n = received.length;
    const ws = await open();
    const parts = payloads(2);
    // 777-byte writes with a pause every write: headers and payloads split across reads.
    await ws.sendChopped(framesWithClose(parts), 777, 1);
    const got = await deadline(received[n]!, 20000, "target FIN");
    assert.deepEqual(got, cat(...parts));
    ws.close();
  });

  it("keeps the bytes of back-to-back client reads apart (read buffers are reused while bytes wait)", async () => {
    const n = received.length;
    const ws = await open();
    const all: Uint8Array[] = [];
    // Many writes of several frames each, back to back: reused read buffers must not leak into
    // bytes still queued for the target.
    for (let round = 0; round < 40; round++) {
      const parts = payloads(round + 3);
      all.push(...parts);
      ws.send(cat(...parts.map((payload) => frame({ opcode: 2, payload }))));
    }
    ws.send(frame({ opcode: 8, payload: new Uint8Array([0x03, 0xe8]) }));
    const got = await deadline(received[n]!, 30000, "target FIN");
    const want = cat(...all);
    assert.equal(got.length, want.length);
    assert.ok(got.every((b, i) => b === want[i]), "bytes differ");
    ws.close();
  });
});
