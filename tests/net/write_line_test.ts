import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { serve } from "../../src/net/server.ts";
import { ConnectionError } from "../../src/net/errors.ts";
import type { Connection } from "../../src/net/connection.ts";
import { connectClient } from "../_client.ts";

const enc = new TextEncoder();

describe("Connection.writeLine", () => {
  it("adds CRLF to bytes and strings, in order with other writes, inside and outside a data callback", async () => {
    let conn: Connection | undefined;
    await using server = await serve({
      hostname: "127.0.0.1",
      singleLineMode: true,
      onConnection: (c) => {
        conn = c;
        c.writeLine("hello"); // outside a read batch
      },
      onData: (c, bytes) => {
        c.write(enc.encode("<"));
        c.writeLine(bytes);
        c.writeLine("x".repeat(5000)); // longer than a gather step
        c.writeLine(new Uint8Array(0));
        c.writeLine(bytes.subarray(0, 3)); // short: copied byte by byte
      },
    });
    const c = await connectClient(server.addr.port);
    c.send("abcdef\n");
    const want = `hello\r\n<abcdef\r\n${"x".repeat(5000)}\r\n\r\nabc\r\n`;
    await c.waitFor((t) => t.length >= want.length);
    assert.equal(c.text(), want);
    assert.equal(conn!.bytesSent, want.length, "bytesSent counts the line ends");
    c.close();
    await c.closed;
  });

  it("throws EPIPE once the connection is closing, like write", async () => {
    let seen: unknown;
    await using server = await serve({
      hostname: "127.0.0.1",
      onConnection: (c) => {
        void c.close();
        try {
          c.writeLine("late");
        } catch (error) {
          seen = error;
        }
      },
    });
    const c = await connectClient(server.addr.port);
    await c.closed;
    assert.ok(seen instanceof ConnectionError);
    assert.equal((seen as ConnectionError).code, "EPIPE");
  });

  it("answers by the marks line by line inside a batch: true below writeHighWaterMark, 135 past maxWriteBuffer", async () => {
    const seen: [boolean, number][] = [];
    let thrown: unknown;
    const line = new Uint8Array(100).fill(0x61);
    await using server = await serve({
      hostname: "127.0.0.1",
      singleLineMode: true,
      writeHighWaterMark: 1000,
      maxWriteBuffer: 1500,
      onData: (c) => {
        try {
          for (let i = 0; i < 20; i++) seen.push([c.writeLine(line), c.desiredSize]);
        } catch (error) {
          thrown = error;
        }
      },
    });
    const c = await connectClient(server.addr.port);
    c.send("go\n");
    await c.waitFor((t) => t.length >= 14 * 102);
    assert.equal(seen.length, 14, "the 15th line would pass maxWriteBuffer");
    for (const [i, [ok, desired]] of seen.entries()) {
      assert.equal(desired, 1000 - 102 * (i + 1));
      assert.equal(ok, desired > 0, `line ${i + 1}`);
    }
    assert.equal((thrown as { code?: unknown }).code, 135);
    assert.equal(c.text(), `${"a".repeat(100)}\r\n`.repeat(14));
    c.close();
    await c.closed;
  });

  it("throws EPIPE after close() inside the same batch, and sends what came before", async () => {
    let seen: unknown;
    await using server = await serve({
      hostname: "127.0.0.1",
      singleLineMode: true,
      onData: (c, bytes) => {
        if (!c.connected) return; // "two" still comes, after the close
        c.writeLine(bytes);
        void c.close();
        try {
          c.writeLine(bytes);
        } catch (error) {
          seen = error;
        }
      },
    });
    const c = await connectClient(server.addr.port);
    c.send("one\ntwo\n");
    await c.closed;
    assert.equal(c.text(), "one\r\n");
    assert.equal((seen as ConnectionError).code, "EPIPE");
  });
});
