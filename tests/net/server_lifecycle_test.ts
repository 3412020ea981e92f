import { describe, it } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { serve, type Server } from "../../src/net/server.ts";
import type { CloseInfo, Connection } from "../../src/net/connection.ts";
import { codeOf, statusOf } from "../../src/net/errors.ts";
import { runtimeName } from "../../src/runtime/mod.ts";
import { connectClient, delay, type TestClient, until } from "../_client.ts";

const DENO = runtimeName() === "deno";
const NODE = runtimeName() === "node";
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Distinct bytes per `seed`, so a mix-up between connections shows. */
function pattern(n: number, seed: number): Uint8Array {
  return new Uint8Array(n).map((_v, i) => (i * 31 + seed) & 0xff);
}

/** Connects and waits until the server has registered the connection (accept order = label order). */
async function connectNth(server: Server, n: number): Promise<TestClient> {
  const c = await connectClient(server.addr.port);
  await until(() => server.connections.size === n, 3000, `connection ${n}`);
  return c;
}

/** A `node:net` client: the peer side resets with `resetAndDestroy()` (RST) on every runtime. */
async function rawClient(port: number): Promise<net.Socket> {
  const sock = net.connect({ host: "127.0.0.1", port });
  sock.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    sock.once("connect", resolve);
    sock.once("error", reject);
  });
  return sock;
}

/** Starts a shutdown with a slow (non-reading) and a fine (reading) client, queued bytes for both. */
async function shutdownWithStraggler(engine: "native" | "node", timeout: number) {
  const FINE = 2 * 1024 * 1024;
  // Far more than the kernel's send and receive buffers hold on loopback.
  const SLOW = 16 * 1024 * 1024;
  const infos = new Map<string, CloseInfo & { at: number }>();
  const server = await serve({
    hostname: "127.0.0.1",
    engine,
    maxWriteBuffer: 32 * 1024 * 1024,
    onConnection: (conn) => {
      const label = server.connections.size === 1 ? "slow" : "fine";
      conn.data = label;
      const data = pattern(label === "slow" ? SLOW : FINE, label === "slow" ? 1 : 2);
      for (let o = 0; o < data.length; o += 65536) conn.write(data.subarray(o, o + 65536));
    },
    onDisconnect: (conn, info) => void infos.set(conn.data as string, { ...info, at: Date.now() }),
  });
  const slow = await connectNth(server, 1);
  slow.socket.pause();
  const fine = await connectNth(server, 2);
  const t0 = Date.now();
  await server.shutdown({ timeout });
  return { server, slow, fine, infos, t0, took: Date.now() - t0, FINE, SLOW };
}

describe("Server lifecycle", () => {
  it("Server shutdown drains a reading client to a clean EOF and resets a non-reading one at the deadline", async () => {
    const TIMEOUT = 600;
    for (const engine of ["native", "node"] as const) {
      const { server, slow, fine, infos, t0, took, FINE, SLOW } = await shutdownWithStraggler(
        engine,
        TIMEOUT,
      );
      assert.ok(
        took >= TIMEOUT - 50,
        `${engine}: shutdown resolved after ${took} ms, before the deadline`,
      );
      assert.ok(took < TIMEOUT + 2000, `${engine}: shutdown took ${took} ms`);
      assert.equal(server.listening, false);
      assert.equal(server.connections.size, 0);
      // The reading client gets every queued byte, then FIN (not RST).
      assert.equal(await fine.closed, undefined, `${engine}: the reading client was reset`);
      assert.equal(fine.received().length, FINE);
      assert.deepEqual(fine.received(), pattern(FINE, 2));
      const f = infos.get("fine");
      assert.ok(f, `${engine}: no close reported for the reading client`);
      assert.equal(f.code, 0);
      assert.equal(f.reason, "OK");
      assert.equal(f.error, undefined);
      assert.ok(f.at - t0 < TIMEOUT, `${engine}: graceful close reported after ${f.at - t0} ms`);
      // The other one is cut off once the deadline passes, its queue dropped.
      const s = infos.get("slow");
      assert.ok(s, `${engine}: no close reported for the non-reading client`);
      assert.ok(s.at - t0 >= TIMEOUT - 50, `${engine}: reset after ${s.at - t0} ms`);
      // Deno's native sockets cannot send RST: abort() closes with FIN (README, Runtimes).
      const resets = !(DENO && engine === "native");
      // On Node a paused socket that reads its last bytes after an RST reports EOF (libuv's
      // POLLHUP shortcut), where a write finds the reset; on Bun a failed write hides it.
      if (resets && NODE) slow.send("x");
      slow.socket.resume();
      assert.equal(await slow.closed, resets ? "ECONNRESET" : undefined, engine);
      assert.ok(slow.received().length < SLOW, `${engine}: ${slow.received().length} bytes`);
    }
  });

  it("Server shutdown reports a connection it resets at the deadline as timed out (10060)", async () => {
    const { slow, fine, infos } = await shutdownWithStraggler("node", 200);
    slow.abort();
    await Promise.all([slow.closed, fine.closed]);
    const s = infos.get("slow");
    assert.ok(s);
    assert.notEqual(s.code, 0, `reported ${JSON.stringify(s)}`);
    assert.ok(s.error, "no error given for the reset");
    assert.equal(statusOf(codeOf(s.error)), s.code);
    assert.equal(codeOf(s.error), "ETIMEDOUT");
    assert.equal(s.code, 10060);
  });

  it("Server framing set from onConnection cuts each connection's units by its own settings", async () => {
    const units = new Map<string, [string, boolean][]>();
    const framings = new Map<string, Connection["framing"]>();
    const closed: string[] = [];
    await using server = await serve({
      hostname: "127.0.0.1",
      singleLineMode: true,
      maxLineLength: 256,
      onConnection: (conn) => {
        const label = ["nul", "records", "default"][server.connections.size - 1]!;
        conn.data = label;
        units.set(label, []);
        if (label === "nul") {
          conn.setFraming({ singleLineMode: false, eol: "\0", maxLineLength: 1024 });
        }
        if (label === "records") conn.setFraming({ recordLength: 500 });
      },
      onData: (conn, bytes, eol) =>
        void units.get(conn.data as string)!.push([dec.decode(bytes), eol]),
      onDisconnect: (conn) => {
        framings.set(conn.data as string, conn.framing);
        closed.push(conn.data as string);
      },
    });
    const clients = [
      await connectNth(server, 1),
      await connectNth(server, 2),
      await connectNth(server, 3),
    ];
    const x600 = "x".repeat(600);
    const y1200 = "y".repeat(1200);
    const input = `ab\ncd\0${x600}\0${y1200}\0\n`;
    // Interleaved, in reads that split lines, records and the delimiter's neighbours.
    for (const [from, to] of [[0, 7], [7, 700], [700, 1300], [1300, input.length]]) {
      for (const c of clients) c.send(input.slice(from, to));
      await delay(10);
    }
    for (const c of clients) c.socket.closeWrite(); // FIN: what is left goes out with eol false
    await until(() => closed.length === 3, 3000, "three closes");

    assert.deepEqual(units.get("nul"), [
      ["ab\ncd", true],
      [x600, true],
      ["y".repeat(1024), false],
      ["y".repeat(176), true],
      ["\n", false],
    ]);
    assert.deepEqual(units.get("records"), [
      [input.slice(0, 500), true],
      [input.slice(500, 1000), true],
      [input.slice(1000, 1500), true],
      [input.slice(1500), false],
    ]);
    const long = `cd\0${x600}\0${y1200}\0`; // 1805 bytes: 7 cuts of 256, then 13
    const cuts: [string, boolean][] = [];
    for (let i = 0; i < 7; i++) cuts.push([long.slice(i * 256, (i + 1) * 256), false]);
    assert.deepEqual(units.get("default"), [["ab", true], ...cuts, [long.slice(1792), true]]);

    assert.deepEqual(framings.get("nul"), {
      eol: enc.encode("\0"),
      singleLineMode: false,
      maxLineLength: 1024,
      recordLength: 0,
    });
    assert.equal(framings.get("records")!.recordLength, 500);
    assert.deepEqual(framings.get("default"), server.framing);
    assert.deepEqual(server.framing, {
      eol: new Uint8Array(0),
      singleLineMode: true,
      maxLineLength: 256,
      recordLength: 0,
    });
    for (const c of clients) assert.equal(await c.closed, undefined);
  });

  it("Server reports a peer reset mid-line as 10054 ECONNRESET and keeps serving", async () => {
    const events: string[] = [];
    const errors: Error[] = [];
    let first: Connection | undefined;
    let info: CloseInfo | undefined;
    await using server = await serve({
      hostname: "127.0.0.1",
      singleLineMode: true,
      onConnection: (conn) => void (first ??= conn),
      onData: (conn, bytes, eol) => {
        events.push(`${dec.decode(bytes)}|${eol}`);
        if (conn.connected) conn.writeLine(`${dec.decode(bytes)}|${eol}`);
      },
      onDisconnect: (conn, i) => {
        events.push("closed");
        if (conn === first) info = i;
      },
      onError: (e) => void errors.push(e),
    });
    const raw = await rawClient(server.addr.port);
    raw.write("whole\nhalf a li");
    await until(() => first !== undefined && first.bytesReceived === 15, 3000, "the bytes read");
    raw.resetAndDestroy();
    await until(() => info !== undefined, 3000, "the close report");

    assert.equal(info!.code, 10054);
    assert.equal(codeOf(info!.error), "ECONNRESET");
    assert.equal(statusOf(codeOf(info!.error)), info!.code);
    assert.deepEqual(await first!.closed, info);
    assert.equal(first!.connected, false);
    // The partial line is end of input: delivered once, eol false, before the close (README, DataIn EOL).
    assert.deepEqual(events, ["whole|true", "half a li|false", "closed"]);
    assert.equal(server.connections.size, 0);

    const next = await connectClient(server.addr.port);
    next.send("next\n");
    await next.waitFor((t) => t === "next|true\r\n");
    next.close();
    assert.equal(await next.closed, undefined);
    assert.deepEqual(errors, []);
  });

  it("Server stopListening keeps live connections, refuses new ones and listens again on the port", async () => {
    await using server = await serve({
      hostname: "127.0.0.1",
      onData: (c, b) => c.write(b.slice()),
    });
    const port = server.addr.port;
    const a = await connectNth(server, 1);
    a.send("1");
    await a.waitFor((t) => t === "1");

    server.stopListening();
    assert.equal(server.listening, false);
    assert.throws(() => server.addr, TypeError);
    a.send("2");
    await a.waitFor((t) => t === "12");
    await assert.rejects(connectClient(port), (e: unknown) => codeOf(e) === "ECONNREFUSED");
    assert.equal(server.connections.size, 1);

    server.set({ port });
    await server.listen();
    assert.equal(server.addr.port, port);
    const b = await connectNth(server, 2);
    b.send("3");
    await b.waitFor((t) => t === "3");
    a.send("4");
    await a.waitFor((t) => t === "124");
    a.close();
    b.close();
    assert.deepEqual(await Promise.all([a.closed, b.closed]), [undefined, undefined]);
    await until(() => server.connections.size === 0);
  });
});
