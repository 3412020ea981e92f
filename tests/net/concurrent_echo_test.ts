/**
 * Many connections at once through one server: every byte comes back to the
 * connection that sent it, unchanged. Sockets that read into a buffer shared
 * by all connections (Node) or reused per connection (Deno) must have every
 * view copied before the next read: a view kept too long shows here as
 * another connection's bytes.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { serve } from "../../src/net/server.ts";
import { connectClient, type TestClient } from "../_client.ts";
import { pattern } from "../runtime/_helpers.ts";

const CLIENTS = 24;
const BYTES = 384 * 1024;

/** Bytes of client `id`, different for every client. */
const bytesOf = (id: number, n: number): Uint8Array => pattern(n, (id + 1) * 0x9e3779b1);

/** Sends `data` in writes of 1 byte to 40 KiB, a few milliseconds apart now and then. */
async function sendInPieces(client: TestClient, data: Uint8Array, seed: number): Promise<void> {
  let at = 0;
  let x = seed * 2654435761 >>> 0 || 1;
  while (at < data.length) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const n = Math.min(data.length - at, 1 + ((x >>> 0) % 40960));
    client.send(data.slice(at, at + n));
    at += n;
    if ((x & 7) === 0) await new Promise((r) => setTimeout(r, 1));
  }
}

/** Lines of 0 to 255 printable bytes, each ended by CRLF, different for every client: at most `n` bytes. */
function linesOf(id: number, n: number): Uint8Array {
  const noise = bytesOf(id, n);
  const out = new Uint8Array(n);
  let o = 0, k = 0;
  for (;;) {
    const len = noise[k++ % n]!;
    if (o + len + 2 > n) break;
    for (let j = 0; j < len; j++) out[o++] = 32 + (noise[(k + j) % n]! % 95);
    k += len;
    out[o++] = 13;
    out[o++] = 10;
  }
  return out.subarray(0, o);
}

/**
 * `stallMs`: the clients read nothing for that long after sending, so the
 * server's writes queue (views kept past the read are then overwritten).
 * `make` gives each client's bytes (an echo gives them back unchanged).
 */
async function echoAll(
  server: { addr: { port: number } },
  count = CLIENTS,
  bytes = BYTES,
  stallMs = 0,
  make: (id: number, n: number) => Uint8Array = bytesOf,
): Promise<void> {
  const clients = await Promise.all(
    Array.from({ length: count }, () => connectClient(server.addr.port)),
  );
  try {
    const sent = clients.map((_, i) => make(i, bytes));
    if (stallMs > 0) { for (const c of clients) c.socket.pause(); }
    await Promise.all(clients.map((c, i) => sendInPieces(c, sent[i]!, i + 7)));
    if (stallMs > 0) {
      await new Promise((r) => setTimeout(r, stallMs));
      for (const c of clients) c.socket.resume();
    }
    await Promise.all(clients.map((c, i) => c.waitForBytes(sent[i]!.length, 20_000)));
    clients.forEach((c, i) => {
      const got = c.received();
      assert.equal(got.length, sent[i]!.length, `client ${i} length`);
      assert.ok(got.every((b, j) => b === sent[i]![j]), `client ${i}: its own bytes, in order`);
    });
  } finally {
    for (const c of clients) c.abort();
  }
}

describe("concurrent echo", () => {
  it(`echoes ${CLIENTS} connections at once through onData (conn.write of the borrowed bytes)`, async () => {
    await using server = await serve({
      hostname: "127.0.0.1",
      port: 0,
      onData(conn, bytes) {
        if (!conn.write(bytes)) conn.pause(); // no slice(): the connection copies what it keeps
      },
      onDrain: (conn) => conn.resume(),
    });
    await echoAll(server);
  });

  it("echoes 4 connections of 8 MiB whose clients stall: writes queue while reads go on", async () => {
    await using server = await serve({
      hostname: "127.0.0.1",
      port: 0,
      onData(conn, bytes) {
        conn.write(bytes); // backpressure ignored: reads go on while the writes wait
      },
    });
    await echoAll(server, 4, 8 * 1024 * 1024, 400);
  });

  it(`echoes ${CLIENTS} connections at once through conn.readable.pipeTo(conn.writable)`, async () => {
    await using server = await serve({
      hostname: "127.0.0.1",
      port: 0,
      onConnection(conn) {
        conn.readable.pipeTo(conn.writable).catch(() => {});
      },
    });
    await echoAll(server);
  });

  it(`echoes ${CLIENTS} connections at once line by line (LineCore, writeLine)`, async () => {
    await using server = await serve({
      hostname: "127.0.0.1",
      port: 0,
      singleLineMode: true,
      maxLineLength: 4096,
      onData(conn, bytes) {
        conn.writeLine(bytes); // the line without its CRLF, sent back with one
      },
    });
    await echoAll(server, CLIENTS, BYTES, 0, linesOf);
  });

  it("echoes lines of 8 connections whose clients stall: gather buffers come back while writes wait", async () => {
    await using server = await serve({
      hostname: "127.0.0.1",
      port: 0,
      singleLineMode: true,
      maxLineLength: 4096,
      writeHighWaterMark: 64 * 1024 * 1024,
      maxWriteBuffer: 64 * 1024 * 1024,
      onData(conn, bytes) {
        conn.writeLine(bytes); // backpressure ignored: reads go on while the writes wait
      },
    });
    await echoAll(server, 8, 2 * 1024 * 1024, 300, linesOf);
  });
});
