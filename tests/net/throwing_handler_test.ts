import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { serve } from "../../src/net/server.ts";
import type { CloseInfo } from "../../src/net/_connection_types.ts";
import { connectClient, until } from "../_client.ts";

/** A server whose onData throws on the line "boom", with what it saw. */
async function throwingServer(framed: boolean) {
  const seen: string[] = [];
  const errors: [string, string | undefined][] = [];
  const closes: [string, CloseInfo][] = [];
  const dec = new TextDecoder();
  const server = await serve({
    hostname: "127.0.0.1",
    singleLineMode: framed,
    onData: (conn, bytes) => {
      const text = dec.decode(bytes);
      seen.push(`${conn.id}:${text}`);
      if (text.includes("boom")) throw new Error(`boom on ${conn.id}`);
      conn.writeLine(bytes);
    },
    onError: (error, conn) => errors.push([error.message, conn?.id]),
    onDisconnect: (conn, info) => closes.push([conn.id, info]),
  });
  return { server, seen, errors, closes };
}

describe("a throwing onData", () => {
  it("fails only its connection: lines after it in the same read are not delivered, the error is reported, others go on", async () => {
    const { server, seen, errors, closes } = await throwingServer(true);
    await using _ = server;
    const good = await connectClient(server.addr.port);
    const bad = await connectClient(server.addr.port);
    good.send("one\r\n");
    await good.waitFor((t) => t === "one\r\n");
    const badId = [...server.connections.keys()].find((id) => !seen.includes(`${id}:one`))!;
    // One write, so mostly one read: the lines after "boom" must not be seen.
    bad.send("a\r\nboom\r\nafter\r\nmore\r\n");
    await bad.closed;
    await until(() => closes.some(([id]) => id === badId), 3000, "the failed connection's close");
    assert.deepEqual(errors, [[`boom on ${badId}`, badId]]);
    assert.ok(!seen.includes(`${badId}:after`), `nothing after the throw: ${seen.join(", ")}`);
    const info = closes.find(([id]) => id === badId)![1];
    assert.equal(info.error?.message, `boom on ${badId}`, "the close reports the handler's error");
    // The server and the other connection are unharmed.
    good.send("two\r\n");
    await good.waitFor((t) => t === "one\r\ntwo\r\n");
    const again = await connectClient(server.addr.port);
    again.send("three\n");
    await again.waitFor((t) => t === "three\r\n");
    good.close();
    again.close();
    await Promise.all([good.closed, again.closed]);
  });

  it("is reported when it throws on the last unterminated line at the peer's FIN", async () => {
    const { server, errors, closes } = await throwingServer(true);
    await using _ = server;
    const c = await connectClient(server.addr.port);
    c.send("fine\r\nboom at the end");
    await c.waitFor((t) => t === "fine\r\n");
    c.close(); // FIN: the partial line is flushed to onData, which throws
    await until(() => closes.length === 1, 3000, "the close");
    assert.equal(errors.length, 1);
    assert.match(errors[0]![0], /^boom on /);
    await c.closed;
  });

  it("fails its connection without framing too, and a thrown non-Error becomes an Error", async () => {
    const errors: Error[] = [];
    let calls = 0;
    await using server = await serve({
      hostname: "127.0.0.1",
      onData: () => {
        calls++;
        throw "not an Error object";
      },
      onError: (error) => errors.push(error),
    });
    const c = await connectClient(server.addr.port);
    c.send("anything");
    await c.closed;
    await until(() => errors.length === 1, 3000, "the report");
    assert.ok(errors[0] instanceof Error);
    assert.equal(errors[0]!.message, "not an Error object");
    assert.equal(calls, 1);
  });
});
