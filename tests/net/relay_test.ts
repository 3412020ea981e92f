import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { serve } from "../../src/net/server.ts";
import type { Connection } from "../../src/net/connection.ts";
import type { ServerOptions } from "../../src/net/server_options.ts";
import { connectClient, until } from "../_client.ts";

/** Distinct bytes per block, so a block overwritten by a later read shows. */
function block(i: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let k = 0; k < size; k++) b[k] = (i * 31 + k * 7) & 0xff;
  return b;
}

/**
 * A server whose first connection is the sink: what any other connection
 * delivers goes to it through `relay`, as delivered (no copy). The sink's
 * client does not read until `release()`, so the sink's queue keeps what it
 * was given while the source's later reads arrive.
 */
async function relayServer(
  options: Partial<ServerOptions>,
  relay: (sink: Connection, bytes: Uint8Array) => void,
) {
  let sink: Connection | undefined;
  const server = await serve({
    hostname: "127.0.0.1",
    maxWriteBuffer: 64 * 1024 * 1024,
    ...options,
    onConnection: (c) => {
      if (sink === undefined) sink = c;
    },
    onData: (c, bytes) => {
      if (c !== sink) relay(sink!, bytes);
    },
  });
  const dest = await connectClient(server.addr.port);
  await until(() => sink !== undefined, 3000, "the sink connection");
  dest.socket.pause();
  const src = await connectClient(server.addr.port);
  const release = async () => {
    await until(() => (sink?.writableLength ?? 0) > 1024 * 1024, 5000, "a queue on the sink");
    dest.socket.resume();
  };
  return { server, dest, src, release };
}

describe("relaying between connections", () => {
  it("bytes one connection read and another queued (its peer not reading) arrive intact after later reads", async () => {
    const { server, dest, src, release } = await relayServer({}, (sink, b) => sink.write(b));
    await using _ = server;
    const size = 16 * 1024;
    const count = 2048; // 32 MiB: well past the kernel's buffers
    const want = new Uint8Array(size * count);
    for (let i = 0; i < count; i++) {
      const b = block(i, size);
      want.set(b, i * size);
      src.send(b);
    }
    await release();
    await dest.waitForBytes(want.length, 10000);
    const got = dest.received().subarray(0, want.length);
    let first = -1;
    for (let k = 0; k < want.length; k++) {
      if (got[k] !== want[k]) {
        first = k;
        break;
      }
    }
    assert.equal(first, -1, `corrupted from byte ${first} (block ${Math.floor(first / size)})`);
    src.close();
    dest.close();
    await Promise.all([src.closed, dest.closed]);
  });

  it("lines broadcast with writeLine to a connection whose peer is not reading arrive intact", async () => {
    const { server, dest, src, release } = await relayServer(
      { singleLineMode: true, maxLineLength: 4096 },
      (sink, line) => sink.writeLine(line),
    );
    await using _ = server;
    const lines: string[] = [];
    for (let i = 0; i < 16384; i++) {
      lines.push(`${i}:` + String.fromCharCode(97 + (i % 26)).repeat(1000));
    }
    const enc = new TextEncoder();
    for (let i = 0; i < lines.length; i += 256) {
      src.send(enc.encode(lines.slice(i, i + 256).join("\n") + "\n"));
    }
    await release();
    const want = lines.join("\r\n") + "\r\n";
    await dest.waitForBytes(want.length, 10000);
    const got = new TextDecoder().decode(dest.received());
    const wrong = got.split("\r\n").findIndex((l, k) => k < lines.length && l !== lines[k]);
    assert.equal(wrong, -1, `line ${wrong} differs`);
    src.close();
    dest.close();
    await Promise.all([src.closed, dest.closed]);
  });
});
