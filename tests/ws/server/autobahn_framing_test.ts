/**
 * Conformance, modelled on Autobahn TestSuite cases 1.x (framing), 2.x
 * (ping/pong), 3.x (reserved bits) and 4.x (opcodes), against an echo
 * server, with Autobahn's strict expectations (RFC 6455 §5).
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type EchoServer, startEcho } from "./_echo.ts";
import { frame as frameBytes } from "../_raw_client.ts";
import {
  closeNormally,
  expectFail,
  expectMessage,
  expectPong,
  open,
  sendAs,
  textFrame,
} from "./_autobahn.ts";

let server: EchoServer;
const SIZES = [0, 125, 126, 127, 128, 65535, 65536];

describe("Autobahn 1-4 framing, pings, reserved bits, opcodes", () => {
  before(async () => {
    server = await startEcho();
  });
  after(async () => {
    await server.shutdown();
  });

  SIZES.forEach((n, i) => {
    it(`Autobahn 1.1.${i + 1}: WebSocketServer echoes a ${n}-byte text message`, async () => {
      const c = await open(server.port);
      const s = "*".repeat(n);
      c.sendFrames(textFrame(s));
      await expectMessage(c, 1, s);
      await closeNormally(c);
    });
    it(`Autobahn 1.2.${i + 1}: WebSocketServer echoes a ${n}-byte binary message`, async () => {
      const c = await open(server.port);
      const b = new Uint8Array(n).fill(0xfe);
      c.sendFrames({ opcode: 2, payload: b });
      await expectMessage(c, 2, b);
      await closeNormally(c);
    });
  });

  it("Autobahn 1.1.8 / 1.2.8: WebSocketServer echoes 64 KiB messages sent in chops of 997 bytes", async () => {
    const c = await open(server.port);
    const s = "*".repeat(65536);
    await c.sendChopped(frameBytes(textFrame(s)), 997);
    await expectMessage(c, 1, s);
    const b = new Uint8Array(65536).fill(0xfe);
    await c.sendChopped(frameBytes({ opcode: 2, payload: b }), 997);
    await expectMessage(c, 2, b);
    await closeNormally(c);
  });

  it("Autobahn 2.1-2.4: WebSocketServer answers pings (empty, text, binary, 125 bytes) with the same payload", async () => {
    const c = await open(server.port);
    for (const p of ["", "Hello, world!", "\x00\xff\xfe\xfd\xfc\xfb\x00\xff", "*".repeat(125)]) {
      c.sendFrames({ opcode: 9, payload: p });
      await expectPong(c, latin(p));
    }
    await closeNormally(c);
  });

  it("Autobahn 2.5: WebSocketServer fails a ping with a 126-byte payload (1002, no pong)", async () => {
    const c = await open(server.port);
    c.sendFrames({ opcode: 9, payload: "*".repeat(126) });
    await expectFail(c, 1002);
  });

  it("Autobahn 2.6: WebSocketServer answers a 125-byte ping sent byte by byte", async () => {
    const c = await open(server.port);
    await sendAs(c, "octets", { opcode: 9, payload: "*".repeat(125) });
    await expectPong(c, "*".repeat(125));
    await closeNormally(c);
  });

  it("Autobahn 2.7-2.9: WebSocketServer ignores unsolicited pongs, then answers a ping", async () => {
    const c = await open(server.port);
    c.sendFrames({ opcode: 10 }, { opcode: 10, payload: "unsolicited pong payload" });
    c.sendFrames({ opcode: 9, payload: "ping payload" });
    await expectPong(c, "ping payload");
    await closeNormally(c);
  });

  for (const chop of ["one", "octets"] as const) {
    it(`Autobahn 2.10/2.11: WebSocketServer answers 10 pings sent ${chop === "one" ? "at once" : "byte by byte"}`, async () => {
      const c = await open(server.port);
      const pings = Array.from({ length: 10 }, (_, i) => ({ opcode: 9, payload: `payload-${i}` }));
      await sendAs(c, chop, ...pings);
      for (let i = 0; i < 10; i++) await expectPong(c, `payload-${i}`);
      await closeNormally(c);
    });
  }

  const rsvCases: [string, number, number][] = [
    ["3.1", 1, 1], // text, RSV=1
    ["3.2", 1, 2], // small text, then text with RSV=2, then ping
    ["3.3", 1, 3],
    ["3.4", 1, 4],
    ["3.5", 2, 5],
    ["3.6", 9, 6],
    ["3.7", 8, 7],
  ];
  for (const [name, opcode, rsv] of rsvCases) {
    for (const chop of ["one", "frames", "octets"] as const) {
      it(`Autobahn ${name}: WebSocketServer fails opcode ${opcode} with RSV=${rsv} (1002), sent ${chop}, after echoing what came before`, async () => {
        const c = await open(server.port);
        const payload = opcode === 8 ? "\x03\xe8" : "Hello, world!";
        await sendAs(c, chop, textFrame("Hello, world!"), { opcode, payload, rsv }, { opcode: 9 });
        await expectMessage(c, 1, "Hello, world!");
        await expectFail(c, 1002);
      });
    }
  }

  for (const opcode of [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]) {
    it(`Autobahn 4.${opcode < 8 ? 1 : 2}.x: WebSocketServer fails reserved opcode ${opcode} (1002) after echoing the text before it`, async () => {
      const c = await open(server.port);
      await sendAs(c, "frames", textFrame("Hello, world!"), { opcode, payload: "reserved" }, { opcode: 9 });
      await expectMessage(c, 1, "Hello, world!");
      await expectFail(c, 1002);
    });
  }

  it("Autobahn 4.1.1 / 4.2.1: WebSocketServer fails an empty frame with a reserved opcode as the first frame", async () => {
    for (const opcode of [3, 11]) {
      const c = await open(server.port);
      c.sendFrames({ opcode });
      await expectFail(c, 1002);
    }
    assert.ok(true);
  });
});

function latin(s: string): Uint8Array {
  return Uint8Array.from(s, (ch) => ch.charCodeAt(0));
}
