/**
 * Conformance, modelled on Autobahn TestSuite cases 7.x (close handling,
 * RFC 6455 §5.5.1, §7): the server answers a close frame (echoing its
 * code) and then closes TCP itself; nothing received after a close is
 * processed; close payloads are validated (1-byte payload, codes that may
 * not be sent, reasons over 123 bytes: 1002; a reason that is not UTF-8: 1007).
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type EchoServer, startEcho } from "./_echo.ts";
import { expectClose } from "../_raw_client.ts";
import { expectFail, expectMessage, open, sendAs, textFrame } from "./_autobahn.ts";

let server: EchoServer;

function closePayload(code: number, reason: Uint8Array | string = ""): Uint8Array {
  const r = typeof reason === "string" ? new TextEncoder().encode(reason) : reason;
  const out = new Uint8Array(2 + r.length);
  out[0] = code >>> 8;
  out[1] = code & 255;
  out.set(r, 2);
  return out;
}

describe("Autobahn 7 close handling", () => {
  before(async () => {
    server = await startEcho();
  });
  after(async () => {
    await server.shutdown();
  });

  it("Autobahn 7.1.1: WebSocketServer echoes a message, then answers a close with 1000 and closes TCP", async () => {
    const c = await open(server.port);
    c.sendFrames(textFrame("Hello World!"), { opcode: 8, payload: closePayload(1000) });
    await expectMessage(c, 1, "Hello World!");
    await expectClose(c, [1000]);
  });

  it("Autobahn 7.1.2: WebSocketServer answers the first of two close frames only", async () => {
    const c = await open(server.port);
    c.sendFrames({ opcode: 8, payload: closePayload(1000) }, { opcode: 8, payload: closePayload(1000) });
    await expectClose(c, [1000]);
    assert.equal(c.frames.filter((f) => f.opcode === 8).length, 1);
  });

  it("Autobahn 7.1.3: WebSocketServer does not answer a ping after a close", async () => {
    const c = await open(server.port);
    c.sendFrames({ opcode: 8, payload: closePayload(1000) }, { opcode: 9, payload: "ping" });
    await expectClose(c, [1000]);
    assert.equal(c.frames.length, 1);
  });

  it("Autobahn 7.1.4: WebSocketServer does not echo a message after a close", async () => {
    const c = await open(server.port);
    c.sendFrames({ opcode: 8, payload: closePayload(1000) }, textFrame("Hello World!"));
    await expectClose(c, [1000]);
    assert.equal(c.frames.length, 1);
  });

  it("Autobahn 7.1.5: WebSocketServer drops a message whose last fragment follows a close", async () => {
    const c = await open(server.port);
    await sendAs(
      c,
      "frames",
      textFrame("fragment1", false),
      { opcode: 8, payload: closePayload(1000) },
      textFrame("fragment2", true, 0),
    );
    await expectClose(c, [1000]);
    assert.equal(c.frames.length, 1);
  });

  it("Autobahn 7.1.6: WebSocketServer echoes a 256 KiB message sent right before a close and a ping, then closes", async () => {
    const c = await open(server.port);
    const big = "BAsd7&jh23".repeat(26215).slice(0, 256 * 1024);
    c.sendFrames(textFrame(big), { opcode: 8, payload: closePayload(1000) }, { opcode: 9, payload: "ping" });
    await expectMessage(c, 1, big);
    await expectClose(c, [1000]);
    assert.ok(c.frames.every((f) => f.opcode !== 10), "no pong after the close");
  });

  it("Autobahn 7.3.1: WebSocketServer answers an empty close payload with an empty (or 1000) close", async () => {
    const c = await open(server.port);
    c.sendFrames({ opcode: 8 });
    await expectClose(c, [undefined, 1000]);
  });

  it("Autobahn 7.3.2: WebSocketServer fails a close with a 1-byte payload (1002)", async () => {
    const c = await open(server.port);
    c.sendFrames({ opcode: 8, payload: "a" });
    await expectFail(c, 1002);
  });

  for (const [name, reason] of [["7.3.3", ""], ["7.3.4", "Hello World!"], ["7.3.5", "*".repeat(123)]] as const) {
    it(`Autobahn ${name}: WebSocketServer answers a close with 1000 and a ${reason.length}-byte reason with 1000`, async () => {
      const c = await open(server.port);
      c.sendFrames({ opcode: 8, payload: closePayload(1000, reason) });
      await expectClose(c, [1000]);
    });
  }

  it("Autobahn 7.3.6: WebSocketServer fails a close with a 124-byte reason (126-byte payload, 1002)", async () => {
    const c = await open(server.port);
    c.sendFrames({ opcode: 8, payload: closePayload(1000, "*".repeat(124)) });
    await expectFail(c, 1002);
  });

  it("Autobahn 7.5.1: WebSocketServer fails a close reason that is not UTF-8 (1007)", async () => {
    const c = await open(server.port);
    const reason = Uint8Array.from([0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65, 0x64]);
    c.sendFrames({ opcode: 8, payload: closePayload(1000, reason) });
    await expectFail(c, 1007);
  });

  for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999]) {
    it(`Autobahn 7.7.x: WebSocketServer answers valid close code ${code} with the same code`, async () => {
      const c = await open(server.port);
      c.sendFrames({ opcode: 8, payload: closePayload(code) });
      await expectClose(c, [code]);
    });
  }

  for (const code of [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999, 5000, 65535]) {
    it(`Autobahn ${code >= 5000 ? "7.13.x" : "7.9.x"}: WebSocketServer fails invalid close code ${code} with 1002`, async () => {
      const c = await open(server.port);
      c.sendFrames({ opcode: 8, payload: closePayload(code) });
      await expectFail(c, 1002);
    });
  }
});
