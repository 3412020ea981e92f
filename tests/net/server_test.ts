import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { serve, Server } from "../../src/net/server.ts";
import type { Connection } from "../../src/net/connection.ts";
import { ConnectionError, ErrorCode, ListenError, ServerError } from "../../src/net/errors.ts";
import { connectClient, delay, until } from "../_client.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const CRLF = enc.encode("\r\n");

function echoLine(conn: Connection, bytes: Uint8Array, eol: boolean): void {
  if (!conn.connected) return;
  conn.write(enc.encode(`${dec.decode(bytes)}|${eol ? 1 : 0}\r\n`));
}

describe("Server", () => {
  it("Server listens on port 0 and reports the bound port", async () => {
    await using server = await serve({ hostname: "127.0.0.1", port: 0 });
    assert.equal(server.listening, true);
    assert.ok(server.addr.port > 0);
    assert.equal(server.addr.hostname, "127.0.0.1");
  });

  it("Server echoes raw bytes on the hot path", async () => {
    await using server = await serve({
      hostname: "127.0.0.1",
      onData: (conn, bytes, eol) => {
        assert.equal(eol, true);
        conn.write(bytes.slice());
      },
    });
    const c = await connectClient(server.addr.port);
    c.send("hello\x00world");
    await c.waitFor((t) => t === "hello\x00world");
    c.close();
    await c.closed;
  });

  it("Server cuts lines in single-line mode and marks cut pieces", async () => {
    await using server = await serve({
      hostname: "127.0.0.1",
      singleLineMode: true,
      maxLineLength: 256,
      onData: echoLine,
    });
    const c = await connectClient(server.addr.port);
    c.send("a\r\nb\nc\r");
    c.send("\nd" + "x".repeat(300) + "\n");
    await c.waitFor((t) => t.split("\r\n").length >= 6);
    assert.deepEqual(c.text().split("\r\n"), [
      "a|1",
      "b|1",
      "c|1",
      "d" + "x".repeat(255) + "|0",
      "x".repeat(45) + "|1",
      "",
    ]);
    c.close();
  });

  it("Server uses a multi-byte EOL containing NUL", async () => {
    await using server = await serve({ hostname: "127.0.0.1", eol: "\0\n", onData: echoLine });
    const c = await connectClient(server.addr.port);
    c.send("one\0");
    await delay(20);
    c.send("\ntwo\0\nthree");
    await c.waitFor((t) => t.includes("two|1"));
    assert.equal(c.text(), "one|1\r\ntwo|1\r\n");
    c.close();
  });

  it("Server gives each connection a unique id, a registry entry and user data", async () => {
    const ids: string[] = [];
    await using server = await serve({
      hostname: "127.0.0.1",
      onConnection: (conn) => {
        ids.push(conn.id);
        conn.data = { n: ids.length };
      },
      onData: () => {},
    });
    const a = await connectClient(server.addr.port);
    const b = await connectClient(server.addr.port);
    await until(() => server.connections.size === 2);
    assert.equal(new Set(ids).size, 2);
    for (const id of ids) assert.equal(server.get(id).id, id);
    assert.deepEqual(server.get(ids[1]!).data, { n: 2 });
    assert.throws(
      () => server.get("nope"),
      (e: unknown) => e instanceof ServerError && e.code === 126,
    );
    a.close();
    b.close();
    await until(() => server.connections.size === 0);
  });

  it("Server sends the banner first and the too-busy banner past maxConnections", async () => {
    await using server = await serve({
      hostname: "127.0.0.1",
      maxConnections: 2,
      banner: "hello",
      tooBusyBanner: "busy",
      onData: (conn, b) => conn.write(b.slice()),
    });
    const a = await connectClient(server.addr.port);
    const b = await connectClient(server.addr.port);
    await a.waitFor((t) => t === "hello\r\n");
    await b.waitFor((t) => t === "hello\r\n");
    const refused = await Promise.all([1, 2, 3].map(() => connectClient(server.addr.port)));
    for (const r of refused) {
      await r.waitFor((t) => t === "busy\r\n");
      await r.closed;
    }
    assert.equal(server.connections.size, 2);
    a.send("still served");
    await a.waitFor((t) => t.endsWith("still served"));
    a.close();
    b.close();
  });

  it("Server refuses clients through the accept hook, sync and async", async () => {
    const seen: string[] = [];
    let n = 0;
    await using server = await serve({
      hostname: "127.0.0.1",
      banner: "hi",
      onConnectionRequest: (req) => {
        seen.push(req.remoteAddr.hostname);
        n++;
        if (n === 1) return false;
        if (n === 2) return Promise.resolve(false);
        return Promise.resolve(true);
      },
      onData: () => {},
    });
    const a = await connectClient(server.addr.port);
    await a.closed;
    const b = await connectClient(server.addr.port);
    await b.closed;
    const c = await connectClient(server.addr.port);
    await c.waitFor((t) => t === "hi\r\n");
    assert.equal(a.text(), "");
    assert.equal(b.text(), "");
    assert.ok(seen.every((h) => h.endsWith("127.0.0.1")));
    c.close();
  });

  it("Server applies allow and block lists, and the hook can overrule them", async () => {
    const verdicts: boolean[] = [];
    await using blocked = await serve({ hostname: "127.0.0.1", block: "127.0.0.0/8", banner: "x" });
    const a = await connectClient(blocked.addr.port);
    await a.closed;
    assert.equal(a.text(), "");
    await using notAllowed = await serve({
      hostname: "127.0.0.1",
      allow: "10.*, ::2",
      banner: "x",
      onConnectionRequest: (r) => void verdicts.push(r.accept),
    });
    const b = await connectClient(notAllowed.addr.port);
    await b.closed;
    assert.deepEqual(verdicts, [false]);
    await using overruled = await serve({
      hostname: "127.0.0.1",
      block: "127.*",
      banner: "in",
      onConnectionRequest: () => true,
    });
    const c = await connectClient(overruled.addr.port);
    await c.waitFor((t) => t === "in\r\n");
    c.close();
  });

  it("Server lets a connection change its framing inside the data callback", async () => {
    const got: string[] = [];
    await using server = await serve({
      hostname: "127.0.0.1",
      singleLineMode: true,
      onData: (conn, bytes, eol) => {
        const s = dec.decode(bytes);
        got.push(`${s}|${eol}`);
        if (s.startsWith("DATA ")) conn.recordLength = Number(s.slice(5));
        else if (conn.recordLength > 0) conn.setFraming({ recordLength: 0, singleLineMode: true });
      },
    });
    const c = await connectClient(server.addr.port);
    c.send("DATA 5\r\nabcdeafter\r\nDATA 3\nxyz");
    c.send("tail\n");
    await until(() => got.length >= 6);
    assert.deepEqual(got, [
      "DATA 5|true",
      "abcde|true",
      "after|true",
      "DATA 3|true",
      "xyz|true",
      "tail|true",
    ]);
    c.close();
  });

  it("Server changes the record length from inside DataIn for the next record", async () => {
    const got: string[] = [];
    await using server = await serve({
      hostname: "127.0.0.1",
      recordLength: 2,
      onData: (conn, bytes) => {
        got.push(dec.decode(bytes));
        conn.recordLength = got.length + 2;
      },
    });
    const c = await connectClient(server.addr.port);
    c.send("aabbbccccddddd");
    await until(() => got.length === 4);
    assert.deepEqual(got, ["aa", "bbb", "cccc", "ddddd"]);
    c.close();
  });

  it("Server pauses delivery and resumes without losing data", async () => {
    const got: string[] = [];
    let conn!: Connection;
    await using server = await serve({
      hostname: "127.0.0.1",
      singleLineMode: true,
      onData: (c, bytes) => {
        conn = c;
        got.push(dec.decode(bytes));
        if (got.length === 1) c.pause();
      },
    });
    const c = await connectClient(server.addr.port);
    c.send("1\n2\n3\n");
    await until(() => got.length === 1);
    await delay(50);
    c.send("4\n");
    await delay(50);
    assert.deepEqual(got, ["1"]);
    assert.equal(conn.paused, true);
    conn.resume();
    await until(() => got.length === 4);
    assert.deepEqual(got, ["1", "2", "3", "4"]);
    c.close();
  });

  it("Server closes idle connections after idleTimeout", async () => {
    const infos: number[] = [];
    await using server = await serve({
      hostname: "127.0.0.1",
      idleTimeout: 150,
      onData: (conn, b) => conn.write(b.slice()),
      onDisconnect: (_c, info) => infos.push(info.code),
    });
    const c = await connectClient(server.addr.port);
    const t0 = Date.now();
    for (let i = 0; i < 4; i++) {
      await delay(60);
      c.send("x");
    }
    assert.equal(c.ended(), false, "activity keeps the connection open");
    await c.closed;
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 240 + 150 - 20, `closed after ${elapsed} ms`);
    await until(() => infos.length === 1);
    assert.equal(infos[0], 10060);
  });

  it("Server per-connection idle timeout overrides the default", async () => {
    await using server = await serve({
      hostname: "127.0.0.1",
      idleTimeout: 60_000,
      onConnection: (conn) => void (conn.idleTimeout = 100),
      onData: () => {},
    });
    const c = await connectClient(server.addr.port);
    const t0 = Date.now();
    await c.closed;
    assert.ok(Date.now() - t0 < 2000);
  });

  it("Server fails a connection whose peer stops reading for writeTimeout", async () => {
    let info: { code: number; error?: Error } | undefined;
    await using server = await serve({
      hostname: "127.0.0.1",
      writeTimeout: 200,
      onConnection: async (conn) => {
        const block = new Uint8Array(64 * 1024);
        try {
          while (true) await conn.send(block);
        } catch (e) {
          assert.ok(e instanceof ConnectionError);
          assert.equal(e.code, "ETIMEDOUT");
        }
      },
      onDisconnect: (_c, i) => void (info = i),
    });
    const c = await connectClient(server.addr.port);
    c.socket.pause();
    await until(() => info !== undefined, 10_000, "write timeout");
    assert.equal(info!.code, 10060);
    assert.equal((info!.error as ConnectionError).code, "ETIMEDOUT");
    c.abort();
  });

  it("Server write() throws 135 when the queue is past maxWriteBuffer", async () => {
    let error: unknown;
    await using server = await serve({
      hostname: "127.0.0.1",
      maxWriteBuffer: 256 * 1024,
      writeHighWaterMark: 16 * 1024,
      onConnection: (conn) => {
        const block = new Uint8Array(64 * 1024);
        try {
          for (let i = 0; i < 10_000; i++) conn.write(block);
        } catch (e) {
          error = e;
        }
        assert.ok(conn.writableLength <= 256 * 1024 + 64 * 1024);
      },
    });
    const c = await connectClient(server.addr.port);
    c.socket.pause();
    await until(() => error !== undefined);
    assert.ok(error instanceof ServerError);
    assert.equal(error.code, ErrorCode.WouldBlock);
    c.abort();
  });

  it("Server sendText, sendLine and send deliver in order", async () => {
    await using server = await serve({
      hostname: "127.0.0.1",
      onConnection: async (conn) => {
        await conn.sendText("a");
        await conn.sendLine("b");
        await conn.send(enc.encode("c"));
        await conn.send("d");
        await conn.close();
      },
    });
    const c = await connectClient(server.addr.port);
    await c.closed;
    assert.equal(c.text(), "ab\r\ncd");
  });

  it("Server streams segments and raw bytes through web streams", async () => {
    await using lines = await serve({
      hostname: "127.0.0.1",
      eol: ";",
      onConnection: async (conn) => {
        const out = conn.writable.getWriter();
        for await (const seg of conn.segments) {
          await out.write(enc.encode(`[${dec.decode(seg.bytes)}:${seg.eol}]`));
        }
        await out.close();
      },
    });
    const a = await connectClient(lines.addr.port);
    a.send("x;yy;zzz");
    a.socket.closeWrite();
    await a.closed;
    assert.equal(a.text(), "[x:true][yy:true][zzz:false]");

    await using raw = await serve({
      hostname: "127.0.0.1",
      onConnection: (conn) => conn.readable.pipeTo(conn.writable),
    });
    const b = await connectClient(raw.addr.port);
    const big = new Uint8Array(3 * 1024 * 1024).map((_v, i) => i * 7);
    b.send(big);
    await b.waitFor((_t, n) => n === big.length, 10_000);
    assert.deepEqual(b.received(), big);
    b.socket.closeWrite();
    await b.closed;
  });

  it("Server disconnects one connection and stopListening keeps the others", async () => {
    const server = await serve({ hostname: "127.0.0.1", onData: (c, b) => c.write(b.slice()) });
    const a = await connectClient(server.addr.port);
    const b = await connectClient(server.addr.port);
    await until(() => server.connections.size === 2);
    const [ida] = [...server.connections.keys()];
    await server.get(ida!).disconnect();
    await a.closed;
    const port = server.addr.port;
    server.stopListening();
    assert.equal(server.listening, false);
    b.send("alive");
    await b.waitFor((t) => t === "alive");
    await assert.rejects(
      connectClient(port),
      (e: Error & { code?: string }) => e.code === "ECONNREFUSED",
    );
    await server.shutdown();
    await b.closed;
  });

  it("Server shutdown closes gracefully and resets stragglers after the deadline", async () => {
    const server = await serve({
      hostname: "127.0.0.1",
      onConnection: (conn) => {
        void conn.send(new Uint8Array(8 * 1024 * 1024)).catch(() => {});
      },
    });
    const slow = await connectClient(server.addr.port);
    slow.socket.pause();
    const fine = await connectClient(server.addr.port);
    await until(() => server.connections.size === 2);
    const t0 = Date.now();
    await server.shutdown({ timeout: 300 });
    const took = Date.now() - t0;
    assert.ok(took < 3000, `shutdown took ${took} ms`);
    assert.equal(server.connections.size, 0);
    await fine.closed;
    slow.abort();
  });

  it("Server raises 104, 106, 107, 108 with the reference codes", async () => {
    await using server = await serve({ hostname: "127.0.0.1" });
    const code = (n: number) => (e: unknown) => e instanceof ServerError && e.code === n;
    await assert.rejects(server.listen(), code(104));
    assert.throws(() => server.set({ port: 1 }), code(106));
    assert.throws(() => server.set({ hostname: "::1" }), code(107));
    assert.throws(() => server.set({ maxConnections: 5 }), code(108));
    server.stopListening();
    server.set({ maxConnections: 5 });
    assert.equal(server.options.maxConnections, 5);
  });

  it("Server resets a graceful close that a non-reading peer stalls past closeTimeout", async () => {
    let info: { code: number } | undefined;
    await using server = await serve({
      hostname: "127.0.0.1",
      closeTimeout: 200,
      onConnection: (conn) => {
        for (let i = 0; i < 64; i++) conn.write(new Uint8Array(64 * 1024));
        void conn.close();
      },
      onDisconnect: (_c, i) => void (info = i),
    });
    const c = await connectClient(server.addr.port);
    c.socket.pause();
    const t0 = Date.now();
    await until(() => info !== undefined, 5000, "close timeout");
    assert.ok(Date.now() - t0 < 3000);
    assert.equal(info!.code, 10060);
    c.abort();
  });

  it("Server rejects invalid options with RangeError and TypeError", () => {
    assert.throws(
      () => new Server({ port: 70000 }),
      /Cannot listen as port must be an integer 0-65535: current value is 70000/,
    );
    assert.throws(() => new Server({ maxConnections: 0 }), RangeError);
    assert.throws(() => new Server({ maxConnections: 100_001 }), RangeError);
    assert.throws(
      () => new Server({ maxLineLength: 10 }),
      /maxLineLength .* >= 256: current value is 10/,
    );
    assert.throws(() => new Server({ idleTimeout: -1 }), RangeError);
    assert.throws(() => new Server({ recordLength: 1.5 }), RangeError);
    assert.throws(() => new Server({ allow: "10.0.0.0/99" }), TypeError);
    assert.throws(() => new Server({ hostname: "" }), TypeError);
  });

  it("Server listens on 0.0.0.0 and dual-stack :: with port 0 (they cannot share a port)", async () => {
    await using server = await serve({ listen: [{ hostname: "0.0.0.0" }, { hostname: "::" }] });
    assert.equal(server.addrs.length, 2);
    for (const [i, host] of [[0, "127.0.0.1"], [1, "::1"]] as const) {
      const c = await connectClient(server.addrs[i]!.port, host);
      c.close();
    }
  });

  it("Server listens on several addresses and lists every failure", async () => {
    await using server = await serve({ listen: [{ hostname: "127.0.0.1" }, { hostname: "::1" }] });
    assert.equal(server.addrs.length, 2);
    assert.equal(server.addrs[1]!.port, server.addrs[0]!.port, "port 0 on both: one free port");
    const c6 = await connectClient(server.addrs[1]!.port, "::1");
    c6.close();
    const taken = server.addrs[0]!.port;
    const s2 = new Server({
      listen: [{ hostname: "127.0.0.1", port: taken }, { hostname: "127.0.0.1", port: taken }],
    });
    await assert.rejects(s2.listen(), (e: unknown) => {
      assert.ok(e instanceof ListenError);
      assert.equal(e.code, "EADDRINUSE");
      assert.equal(e.failures.length, 2, "both addresses are tried and reported");
      return true;
    });
    assert.equal(s2.listening, false);
  });

  it("Server survives a client that resets mid-line", async () => {
    const closes: number[] = [];
    await using server = await serve({
      hostname: "127.0.0.1",
      singleLineMode: true,
      onData: () => {},
      onDisconnect: (_c, i) => closes.push(i.code),
    });
    const c = await connectClient(server.addr.port);
    c.send("half a li");
    await delay(30);
    c.abort();
    await until(() => closes.length === 1);
    const d = await connectClient(server.addr.port);
    d.send("ok\n");
    d.close();
    await until(() => closes.length === 2);
  });

  it("Server sendFile streams a file and an abort keeps the connection", async () => {
    const { writeFile, rm, mkdtemp } = await import("node:fs/promises");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const dir = await mkdtemp(join(tmpdir(), "ns-"));
    const path = join(dir, "f.bin");
    const data = new Uint8Array(1024 * 1024).map((_v, i) => i % 251);
    await writeFile(path, data);
    let aborted: unknown;
    await using server = await serve({
      hostname: "127.0.0.1",
      onConnection: async (conn) => {
        const n = await conn.sendFile(path);
        assert.equal(n, data.length);
        const ctl = new AbortController();
        const p = conn.sendFile(path, { signal: ctl.signal });
        ctl.abort();
        await p.catch((e) => (aborted = e));
        await conn.sendLine("still here");
        await conn.close();
      },
    });
    const c = await connectClient(server.addr.port);
    await c.closed;
    const got = c.received();
    assert.deepEqual(got.subarray(0, data.length), data);
    assert.ok(dec.decode(got.subarray(got.length - 12)) === "still here\r\n");
    assert.equal((aborted as Error).name, "AbortError");
    await rm(dir, { recursive: true });
  });
});

void CRLF;
