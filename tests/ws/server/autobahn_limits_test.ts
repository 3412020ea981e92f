/**
 * Conformance, modelled on Autobahn TestSuite cases 9.x (limits and
 * performance) at sizes that keep CI fast, and 10.1.1 (fragmentation of
 * the echo): big messages whole, fragmented into many frames, sent in
 * small chops, and many messages one after the other.
 */

import { after, before, describe, it } from "node:test";
import { type EchoServer, startEcho } from "./_echo.ts";
import { cat, frame } from "../_raw_client.ts";
import { closeNormally, expectMessage, open } from "./_autobahn.ts";

let server: EchoServer;
const KiB = 1024;
const MiB = 1024 * KiB;

function text(n: number): string {
  return "*".repeat(n);
}
function binary(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31) & 255;
  return b;
}
function fragments(opcode: number, payload: Uint8Array, size: number): Uint8Array {
  const frames: Uint8Array[] = [];
  for (let at = 0; at < payload.length; at += size) {
    frames.push(frame({
      opcode: at === 0 ? opcode : 0,
      payload: payload.subarray(at, at + size),
      fin: at + size >= payload.length,
    }));
  }
  return cat(...frames);
}

describe("Autobahn 9 limits, 10 fragmentation", () => {
  before(async () => {
    server = await startEcho({ maxPayload: 16 * MiB });
  });
  after(async () => {
    await server.shutdown();
  });

  for (const [i, n] of [[1, 64 * KiB], [2, 256 * KiB], [3, MiB], [4, 4 * MiB], [6, 16 * MiB]] as const) {
    it(`Autobahn 9.1.${i}: WebSocketServer echoes a ${n / KiB} KiB text message`, async () => {
      const c = await open(server.port);
      const s = text(n);
      c.sendFrames({ opcode: 1, payload: new TextEncoder().encode(s) });
      await expectMessage(c, 1, s, 30_000);
      await closeNormally(c);
    });
  }

  for (const [i, n] of [[1, 64 * KiB], [3, MiB], [4, 4 * MiB]] as const) {
    it(`Autobahn 9.2.${i}: WebSocketServer echoes a ${n / KiB} KiB binary message`, async () => {
      const c = await open(server.port);
      const b = binary(n);
      c.sendFrames({ opcode: 2, payload: b });
      await expectMessage(c, 2, b, 30_000);
      await closeNormally(c);
    });
  }

  for (const [i, size] of [[1, 64], [2, 256], [3, KiB], [4, 4 * KiB], [5, 16 * KiB], [6, 64 * KiB], [9, 4 * MiB]] as const) {
    it(`Autobahn 9.3.${i}: WebSocketServer echoes a 4 MiB text message sent in ${size}-byte frames`, async () => {
      const c = await open(server.port);
      const payload = new TextEncoder().encode(text(4 * MiB));
      c.send(fragments(1, payload, size));
      await expectMessage(c, 1, text(4 * MiB), 30_000);
      await closeNormally(c);
    });
  }

  for (const [i, size] of [[1, 64], [5, 16 * KiB]] as const) {
    it(`Autobahn 9.4.${i}: WebSocketServer echoes a 1 MiB binary message sent in ${size}-byte frames`, async () => {
      const c = await open(server.port);
      const b = binary(MiB);
      c.send(fragments(2, b, size));
      await expectMessage(c, 2, b, 30_000);
      await closeNormally(c);
    });
  }

  for (const chop of [64, 128, 256, 512, 1024, 2048]) {
    it(`Autobahn 9.5/9.6: WebSocketServer echoes 256 KiB text and binary messages sent in chops of ${chop} bytes`, async () => {
      const c = await open(server.port);
      const s = text(256 * KiB);
      await c.sendChopped(frame({ opcode: 1, payload: new TextEncoder().encode(s) }), chop);
      await expectMessage(c, 1, s, 30_000);
      const b = binary(256 * KiB);
      await c.sendChopped(frame({ opcode: 2, payload: b }), chop);
      await expectMessage(c, 2, b, 30_000);
      await closeNormally(c);
    });
  }

  for (const size of [0, 16, 64, 256, 1024, 4096]) {
    it(`Autobahn 9.7/9.8: WebSocketServer round-trips 200 text and 200 binary messages of ${size} bytes one after the other`, async () => {
      const c = await open(server.port);
      const s = text(size);
      const b = binary(size);
      for (let i = 0; i < 200; i++) {
        c.sendFrames({ opcode: 1, payload: new TextEncoder().encode(s) });
        await expectMessage(c, 1, s);
        c.sendFrames({ opcode: 2, payload: b });
        await expectMessage(c, 2, b);
      }
      await closeNormally(c);
    });
  }

  it("Autobahn 10.1.1: WebSocketServer echoes a 64 KiB text message sent in 1300-byte fragments", async () => {
    const c = await open(server.port);
    const s = text(64 * KiB);
    c.send(fragments(1, new TextEncoder().encode(s), 1300));
    await expectMessage(c, 1, s);
    await closeNormally(c);
  });
});
