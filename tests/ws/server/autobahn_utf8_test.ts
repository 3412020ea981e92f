/**
 * Conformance, modelled on Autobahn TestSuite cases 6.x (UTF-8 handling,
 * RFC 6455 §8.1, §5.6): valid text is echoed, whole or fragmented anywhere
 * (even inside a code point); invalid text fails with 1007, fast: before
 * the rest of the message arrives (6.4.x), with nothing echoed. The
 * sequence tables follow Markus Kuhn's UTF-8 decoder stress test, which
 * the Autobahn cases 6.5-6.23 use.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type EchoServer, startEcho } from "./_echo.ts";
import { cat, frame, hex } from "../_raw_client.ts";
import { closeNormally, expectFail, expectMessage, open, sendAs, textFrame } from "./_autobahn.ts";

let server: EchoServer;
const KOSME = hex("ce ba e1 bd b9 cf 83 ce bc ce b5"); // κόσμε
const HELLO = "Hello-µ@ßöäüàá-UTF-8!!";

/** [case, hex bytes, valid] from the stress test. */
const TABLE: [string, string, boolean][] = [
  ["6.5.1 κόσμε", "ce ba e1 bd b9 cf 83 ce bc ce b5", true],
  ["6.6.1 truncated κ", "ce", false],
  ["6.6.2 κ", "ce ba", true],
  ["6.6.3 κ + lead", "ce ba e1", false],
  ["6.6.4 κ + lead + cont", "ce ba e1 bd", false],
  ["6.6.5 κό", "ce ba e1 bd b9", true],
  ["6.6.8 κόσ + lead", "ce ba e1 bd b9 cf 83 ce", false],
  ["6.7.1 U+0000", "00", true],
  ["6.7.2 U+0080", "c2 80", true],
  ["6.7.3 U+0800", "e0 a0 80", true],
  ["6.7.4 U+10000", "f0 90 80 80", true],
  ["6.8.1 5-byte U+200000", "f8 88 80 80 80", false],
  ["6.8.2 6-byte U+4000000", "fc 84 80 80 80 80", false],
  ["6.9.1 U+007F", "7f", true],
  ["6.9.2 U+07FF", "df bf", true],
  ["6.9.3 U+FFFF", "ef bf bf", true],
  ["6.9.4 U+10FFFF", "f4 8f bf bf", true],
  ["6.10.1 4-byte U+1FFFFF", "f7 bf bf bf", false],
  ["6.10.2 5-byte U+3FFFFFF", "fb bf bf bf bf", false],
  ["6.10.3 6-byte U+7FFFFFFF", "fd bf bf bf bf bf", false],
  ["6.11.1 U+D7FF", "ed 9f bf", true],
  ["6.11.2 U+E000", "ee 80 80", true],
  ["6.11.3 U+FFFD", "ef bf bd", true],
  ["6.11.4 U+10FFFF", "f4 8f bf bf", true],
  ["6.11.5 U+110000", "f4 90 80 80", false],
  ["6.12.1 first continuation byte", "80", false],
  ["6.12.2 last continuation byte", "bf", false],
  ["6.12.3 2 continuation bytes", "80 bf", false],
  ["6.12.4 3 continuation bytes", "80 bf 80", false],
  ["6.12.8 all 64 continuation bytes", Array.from({ length: 64 }, (_, i) => (0x80 + i).toString(16)).join(""), false],
  ["6.13.1 lonely 2-byte starts", Array.from({ length: 32 }, (_, i) => (0xc0 + i).toString(16) + "20").join(""), false],
  ["6.13.2 lonely 3-byte starts", Array.from({ length: 16 }, (_, i) => (0xe0 + i).toString(16) + "20").join(""), false],
  ["6.13.3 lonely 4-byte starts", Array.from({ length: 8 }, (_, i) => (0xf0 + i).toString(16) + "20").join(""), false],
  ["6.13.4 lonely 5-byte starts", "f8 20 f9 20 fa 20 fb 20", false],
  ["6.13.5 lonely 6-byte starts", "fc 20 fd 20", false],
  ["6.14.1 2-byte missing last", "c0", false],
  ["6.14.2 3-byte missing last", "e0 80", false],
  ["6.14.3 4-byte missing last", "f0 80 80", false],
  ["6.14.6 U+07FF missing last", "df", false],
  ["6.14.7 U+FFFF missing last", "ef bf", false],
  ["6.14.8 U+1FFFFF missing last", "f7 bf bf", false],
  ["6.15.1 concatenated incomplete", "c0 e0 80 f0 80 80 f8 80 80 80 fc 80 80 80 80 df ef bf f7 bf bf fb bf bf bf fd bf bf bf bf", false],
  ["6.16.1 fe", "fe", false],
  ["6.16.2 ff", "ff", false],
  ["6.16.3 fe fe ff ff", "fe fe ff ff", false],
  ["6.17.1 overlong / 2 bytes", "c0 af", false],
  ["6.17.2 overlong / 3 bytes", "e0 80 af", false],
  ["6.17.3 overlong / 4 bytes", "f0 80 80 af", false],
  ["6.17.4 overlong / 5 bytes", "f8 80 80 80 af", false],
  ["6.17.5 overlong / 6 bytes", "fc 80 80 80 80 af", false],
  ["6.18.1 max overlong 2 bytes", "c1 bf", false],
  ["6.18.2 max overlong 3 bytes", "e0 9f bf", false],
  ["6.18.3 max overlong 4 bytes", "f0 8f bf bf", false],
  ["6.19.1 overlong NUL 2 bytes", "c0 80", false],
  ["6.19.2 overlong NUL 3 bytes", "e0 80 80", false],
  ["6.19.3 overlong NUL 4 bytes", "f0 80 80 80", false],
  ["6.20.1 U+D800", "ed a0 80", false],
  ["6.20.2 U+DB7F", "ed ad bf", false],
  ["6.20.3 U+DB80", "ed ae 80", false],
  ["6.20.4 U+DBFF", "ed af bf", false],
  ["6.20.5 U+DC00", "ed b0 80", false],
  ["6.20.6 U+DF80", "ed be 80", false],
  ["6.20.7 U+DFFF", "ed bf bf", false],
  ["6.21.1 U+D800 U+DC00", "ed a0 80 ed b0 80", false],
  ["6.21.8 U+DBFF U+DFFF", "ed af bf ed bf bf", false],
  ["6.22.1 U+FFFE", "ef bf be", true],
  ["6.22.2 U+FFFF", "ef bf bf", true],
  ["6.22.3 U+1FFFE", "f0 9f bf be", true],
  ["6.22.34 U+10FFFF", "f4 8f bf bf", true],
  ["6.22.x U+FDD0", "ef b7 90", true],
  ["6.23.1 BOM U+FEFF", "ef bb bf", true],
  ["6.23.7 U+FFFD", "ef bf bd", true],
];

describe("Autobahn 6 UTF-8", () => {
  before(async () => {
    server = await startEcho();
  });
  after(async () => {
    await server.shutdown();
  });

  it("Autobahn 6.1.1-6.1.3: WebSocketServer echoes empty text, empty fragments and empty-edged fragments", async () => {
    const c = await open(server.port);
    c.sendFrames(textFrame(""));
    await expectMessage(c, 1, "");
    c.sendFrames(textFrame("", false), textFrame("", false, 0), textFrame("", true, 0));
    await expectMessage(c, 1, "");
    c.sendFrames(textFrame("", false), textFrame("middle frame payload", false, 0), textFrame("", true, 0));
    await expectMessage(c, 1, "middle frame payload");
    await closeNormally(c);
  });

  it("Autobahn 6.2.1-6.2.4: WebSocketServer echoes valid UTF-8 whole, split at every byte, and in 1-byte fragments", async () => {
    const c = await open(server.port);
    const bytes = new TextEncoder().encode(HELLO);
    c.sendFrames({ opcode: 1, payload: bytes });
    await expectMessage(c, 1, HELLO);
    for (let i = 1; i < bytes.length; i++) {
      c.sendFrames({ opcode: 1, payload: bytes.subarray(0, i), fin: false }, { opcode: 0, payload: bytes.subarray(i) });
      await expectMessage(c, 1, HELLO);
    }
    await sendAs(c, "octets", { opcode: 1, payload: KOSME });
    await expectMessage(c, 1, new TextDecoder().decode(KOSME));
    const ones = [...KOSME].map((b, i) => ({ opcode: i === 0 ? 1 : 0, payload: new Uint8Array([b]), fin: i === KOSME.length - 1 }));
    c.sendFrames(...ones);
    await expectMessage(c, 1, new TextDecoder().decode(KOSME));
    await closeNormally(c);
  });

  for (const [chop, name] of [["one", "6.3.1"], ["octets", "6.3.2"]] as const) {
    it(`Autobahn ${name}: WebSocketServer fails invalid UTF-8 (a surrogate) with 1007, sent ${chop}`, async () => {
      const c = await open(server.port);
      const payload = cat(KOSME, hex("ed a0 80"), new TextEncoder().encode("edited"));
      await sendAs(c, chop, { opcode: 1, payload });
      await expectFail(c, 1007);
    });
  }

  it("Autobahn 6.4.1: WebSocketServer fails fast on an invalid fragment before the message ends", async () => {
    const c = await open(server.port);
    c.sendFrames({ opcode: 1, payload: KOSME, fin: false }, { opcode: 0, payload: hex("f4 90 80 80"), fin: false });
    await expectFail(c, 1007); // the third fragment was never sent
  });

  it("Autobahn 6.4.2: WebSocketServer fails fast when the fragment after a lead byte makes it invalid", async () => {
    const c = await open(server.port);
    c.sendFrames({ opcode: 1, payload: cat(KOSME, hex("f4")), fin: false });
    await new Promise((r) => setTimeout(r, 20));
    c.sendFrames({ opcode: 0, payload: hex("90"), fin: false });
    await expectFail(c, 1007); // the third fragment was never sent
  });

  for (const [name, size] of [["6.4.3", 0], ["6.4.4", 1]] as const) {
    it(`Autobahn ${name}: WebSocketServer fails fast inside one frame ${size ? "sent byte by byte" : "sent in chops"}, before the frame ends`, async () => {
      const c = await open(server.port);
      const tail = hex("80 80 65 64 69 74 65 64");
      const all = frame({ opcode: 1, payload: cat(KOSME, hex("f4 90"), tail) });
      const cut = all.length - tail.length; // up to the impossible byte 0x90
      if (size === 0) {
        c.send(all.slice(0, cut - 1));
        await new Promise((r) => setTimeout(r, 20));
        c.send(all.slice(cut - 1, cut));
      } else await c.sendChopped(all.slice(0, cut), 1, 1);
      await expectFail(c, 1007); // the rest of the frame was never sent
    });
  }

  for (const [name, bytes, valid] of TABLE) {
    it(`Autobahn ${name}: WebSocketServer ${valid ? "echoes" : "fails with 1007"} ${bytes}, whole and in 1-byte fragments`, async () => {
      const payload = hex(bytes);
      const c = await open(server.port);
      c.sendFrames({ opcode: 1, payload });
      if (valid) await expectMessage(c, 1, new TextDecoder().decode(payload));
      else return await expectFail(c, 1007);
      const ones = [...payload].map((b, i) => ({ opcode: i === 0 ? 1 : 0, payload: new Uint8Array([b]), fin: i === payload.length - 1 }));
      c.sendFrames(...ones);
      await expectMessage(c, 1, new TextDecoder().decode(payload));
      await closeNormally(c);
    });
    if (!valid && hex(bytes).length > 1) {
      it(`Autobahn ${name} (fragmented): WebSocketServer fails ${bytes} in 1-byte fragments with 1007`, async () => {
        const payload = hex(bytes);
        const c = await open(server.port);
        const ones = [...payload].map((b, i) => ({ opcode: i === 0 ? 1 : 0, payload: new Uint8Array([b]), fin: i === payload.length - 1 }));
        c.sendFrames(...ones);
        await expectFail(c, 1007);
      });
    }
  }

  it("Autobahn 6.x table agrees with a fatal TextDecoder", () => {
    for (const [name, bytes, valid] of TABLE) {
      let ok = true;
      try {
        new TextDecoder("utf-8", { fatal: true }).decode(hex(bytes));
      } catch {
        ok = false;
      }
      assert.equal(ok, valid, name);
    }
  });
});
