/**
 * Conformance, modelled on Autobahn TestSuite cases 5.x (fragmentation,
 * RFC 6455 §5.4): fragmented messages are reassembled, control frames may
 * come between fragments, and every fragmentation error fails the
 * connection with 1002 without echoing anything after it.
 */

import { after, before, describe, it } from "node:test";
import { type EchoServer, startEcho } from "./_echo.ts";
import { type Chop, closeNormally, expectFail, expectMessage, expectPong, open, sendAs, textFrame } from "./_autobahn.ts";

let server: EchoServer;
const CHOPS: Chop[] = ["one", "frames", "octets"];
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("Autobahn 5 fragmentation", () => {
  before(async () => {
    server = await startEcho();
  });
  after(async () => {
    await server.shutdown();
  });

  it("Autobahn 5.1: WebSocketServer fails a ping in 2 fragments (1002)", async () => {
    const c = await open(server.port);
    c.sendFrames({ opcode: 9, payload: "fragment1", fin: false }, { opcode: 0, payload: "fragment2" });
    await expectFail(c, 1002);
  });

  it("Autobahn 5.2: WebSocketServer fails a pong in 2 fragments (1002)", async () => {
    const c = await open(server.port);
    c.sendFrames({ opcode: 10, payload: "fragment1", fin: false }, { opcode: 0, payload: "fragment2" });
    await expectFail(c, 1002);
  });

  CHOPS.forEach((chop, i) => {
    it(`Autobahn 5.${3 + i}: WebSocketServer reassembles a text message in 2 fragments, sent ${chop}`, async () => {
      const c = await open(server.port);
      await sendAs(c, chop, textFrame("fragment1", false), textFrame("fragment2", true, 0));
      await expectMessage(c, 1, "fragment1fragment2");
      await closeNormally(c);
    });

    it(`Autobahn 5.${6 + i}: WebSocketServer answers a ping between 2 fragments first, sent ${chop}`, async () => {
      const c = await open(server.port);
      await sendAs(
        c,
        chop,
        textFrame("fragment1", false),
        { opcode: 9, payload: "ping payload" },
        textFrame("fragment2", true, 0),
      );
      await expectPong(c, "ping payload");
      await expectMessage(c, 1, "fragment1fragment2");
      await closeNormally(c);
    });

    it(`Autobahn 5.${9 + i}: WebSocketServer fails a final continuation with nothing to continue, sent ${chop}`, async () => {
      const c = await open(server.port);
      await sendAs(c, chop, textFrame("non-continuation payload", true, 0), textFrame("Hello, world!"));
      await expectFail(c, 1002);
    });

    it(`Autobahn 5.${12 + i}: WebSocketServer fails a non-final continuation with nothing to continue, sent ${chop}`, async () => {
      const c = await open(server.port);
      await sendAs(c, chop, textFrame("non-continuation payload", false, 0), textFrame("Hello, world!"));
      await expectFail(c, 1002);
    });
  });

  it("Autobahn 5.15: WebSocketServer echoes the message before a stray continuation, then fails", async () => {
    const c = await open(server.port);
    c.sendFrames(
      textFrame("fragment1", false),
      textFrame("fragment2", true, 0),
      textFrame("fragment3", false, 0),
      textFrame("fragment4", true),
    );
    await expectMessage(c, 1, "fragment1fragment2");
    await expectFail(c, 1002);
  });

  for (const [name, first] of [["5.16", false], ["5.17", true]] as const) {
    it(`Autobahn ${name}: WebSocketServer fails a continuation (FIN ${first}) that starts the stream, repeated twice`, async () => {
      const c = await open(server.port);
      const round = [textFrame("fragment1", first, 0), textFrame("fragment2", false), textFrame("fragment3", true, 0)];
      c.sendFrames(...round, ...round);
      await expectFail(c, 1002);
    });
  }

  it("Autobahn 5.18: WebSocketServer fails a second text frame inside a message (1002)", async () => {
    const c = await open(server.port);
    c.sendFrames(textFrame("fragment1", false), textFrame("fragment2", true));
    await expectFail(c, 1002);
  });

  for (const chop of ["frames", "octets"] as const) {
    it(`Autobahn 5.${chop === "frames" ? 19 : 20}: WebSocketServer answers pings between 5 fragments sent over time (${chop})`, async () => {
      const c = await open(server.port);
      await sendAs(c, chop, textFrame("fragment1", false), textFrame("fragment2", false, 0), {
        opcode: 9,
        payload: "pongme 1!",
      });
      await expectPong(c, "pongme 1!");
      await delay(50);
      await sendAs(c, chop, textFrame("fragment3", false, 0), textFrame("fragment4", false, 0), {
        opcode: 9,
        payload: "pongme 2!",
      });
      await expectPong(c, "pongme 2!");
      await delay(50);
      await sendAs(c, chop, textFrame("fragment5", true, 0));
      await expectMessage(c, 1, "fragment1fragment2fragment3fragment4fragment5");
      await closeNormally(c);
    });
  }
});
