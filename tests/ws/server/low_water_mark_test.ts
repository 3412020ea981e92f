import { describe, it } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { startEcho } from "./_echo.ts";

// A writeHighWaterMark below the socket's 64 KiB: small messages are framed
// in the read batch's gather buffer, and the echo that pauses on false must
// still get the drain that resumes it.
describe("WebSocket writeHighWaterMark below the socket's", () => {
  it("an echo that pauses on false and resumes on onDrain echoes every message", async () => {
    await using server = await startEcho({ writeHighWaterMark: 1024 });
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`);
    const count = 5000;
    const text = "y".repeat(100);
    const done = new Promise<number>((resolve, reject) => {
      let got = 0;
      const timer = setTimeout(() => reject(new Error(`stuck after ${got} messages`)), 20000);
      ws.on("message", () => {
        if (++got === count) {
          clearTimeout(timer);
          resolve(got);
        }
      });
      ws.on("error", reject);
    });
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    for (let i = 0; i < count; i++) ws.send(text);
    assert.equal(await done, count);
    ws.close();
    assert.deepEqual(server.errors, []);
  });
});
