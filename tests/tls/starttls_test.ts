import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { serve } from "../../src/net/server.ts";
import type { CloseInfo, Connection } from "../../src/net/connection.ts";
import type { ServerOptions } from "../../src/net/server_options.ts";
import { TlsError } from "../../src/runtime/errors.ts";
import { connectClient, until } from "../_client.ts";
import { testCerts } from "./_certs.ts";
import { NO_PEERS, pyTls } from "./_peers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const READY = "220 Ready to start TLS\r\n";

function tlsOption(): ServerOptions["tls"] {
  const c = testCerts();
  return {
    mode: "explicit",
    cert: c.server.certPath,
    key: c.server.keyPath,
    handshakeTimeout: 3000,
  };
}

/** A line server: STARTTLS upgrades (a second one answers 454 with the error code), other lines echo. */
function starttlsServer(extra: Partial<ServerOptions> = {}, log: string[] = []) {
  return serve({
    hostname: "127.0.0.1",
    singleLineMode: true,
    tls: tlsOption(),
    onData(conn, bytes) {
      const line = dec.decode(bytes);
      log.push(`${conn.id}:${conn.tls ? "tls" : "plain"}:${line}`);
      if (line !== "STARTTLS") {
        conn.write(enc.encode(`echo:${line}\r\n`));
        return;
      }
      if (conn.tls) {
        conn.startTls().catch((e: TlsError) => conn.write(enc.encode(`454 ${e.code}\r\n`)));
        return;
      }
      conn.write(enc.encode(READY));
      conn.startTls().catch(() => {});
    },
    ...extra,
  });
}

describe("Connection.startTls (STARTTLS)", { skip: NO_PEERS }, () => {
  for (const pipelined of [false, true]) {
    it(`Connection.startTls upgrades a plaintext line connection, keeping its id (${pipelined ? "ClientHello pipelined after the command" : "client waits for 220"})`, async () => {
      const c = testCerts();
      const log: string[] = [];
      const secured: string[] = [];
      await using server = await starttlsServer({ onSecure: (conn) => secured.push(conn.id) }, log);
      const r = await pyTls(server.addr.port, {
        starttls: true,
        pipelined,
        ca: c.ca.certPath,
        servername: "localhost",
        send: "secret\r\n",
        expect: 13,
      });
      assert.equal(r.error, undefined);
      assert.equal(r.reply, READY.trim());
      assert.equal(r.echo, "echo:secret\r\n");
      assert.deepEqual(log, ["1:plain:STARTTLS", "1:tls:secret"]);
      assert.deepEqual(secured, ["1"]);
    });
  }

  it("Connection.startTls upgrades a connection that first echoed 2 MiB in plaintext (reads that fill the read buffer)", async () => {
    const c = testCerts();
    await using server = await starttlsServer({ maxLineLength: 4096 });
    const r = await pyTls(server.addr.port, {
      before: 2048,
      starttls: true,
      ca: c.ca.certPath,
      servername: "localhost",
      send: "secret\r\n",
      expect: 13,
      timeout: 20,
    });
    assert.equal(r.error, undefined);
    assert.equal(r.before, true, "the plaintext lines came back");
    assert.equal(r.reply, READY.trim());
    assert.equal(r.echo, "echo:secret\r\n");
  });

  it("Connection.startTls twice fails with ERR_TLS_ALREADY_STARTED, also over the wire", async () => {
    const c = testCerts();
    await using server = await starttlsServer();
    const r = await pyTls(server.addr.port, {
      starttls: true,
      ca: c.ca.certPath,
      servername: "localhost",
      send: "STARTTLS\r\n",
      expect: 29,
    });
    assert.equal(r.echo, "454 ERR_TLS_ALREADY_STARTED\r\n");

    const errors: unknown[] = [];
    await using direct = await serve({
      hostname: "127.0.0.1",
      tls: tlsOption(),
      onConnection(conn) {
        const first = conn.startTls();
        first.catch(() => {});
        conn.startTls().catch((e) => errors.push(e));
      },
    });
    const client = await connectClient(direct.addr.port);
    await until(() => errors.length === 1, 3000, "the second startTls to fail");
    assert.ok(errors[0] instanceof TlsError);
    assert.equal((errors[0] as TlsError).code, "ERR_TLS_ALREADY_STARTED");
    client.close();
  });

  it("Connection.startTls feeds plaintext pipelined after STARTTLS to the TLS layer, never to the application", async () => {
    const log: string[] = [];
    const closes: CloseInfo[] = [];
    await using server = await starttlsServer(
      { onDisconnect: (_c, info) => closes.push(info) },
      log,
    );
    const client = await connectClient(server.addr.port);
    client.send("STARTTLS\r\nQUIT\r\nRCPT TO:<evil>\r\n"); // CVE-2011-0411: command injection
    await client.closed;
    await until(() => closes.length === 1, 3000, "the failed handshake");
    assert.deepEqual(log, ["1:plain:STARTTLS"]);
    assert.ok(closes[0]!.error instanceof TlsError);
    assert.equal((closes[0]!.error as TlsError).code, "ERR_TLS_HANDSHAKE");
    // After the reply, at most a TLS alert record (0x15) follows; never an echo.
    assert.ok(client.text().startsWith(READY));
    const after = client.received().subarray(READY.length);
    assert.ok(after.length === 0 || after[0] === 0x15, `unexpected bytes ${after}`);
  });

  it("Connection.startTls sends writes made during the handshake over TLS", async () => {
    const c = testCerts();
    await using server = await serve({
      hostname: "127.0.0.1",
      singleLineMode: true,
      tls: tlsOption(),
      onData(conn, bytes) {
        if (dec.decode(bytes) !== "STARTTLS") return;
        conn.write(enc.encode(READY));
        conn.startTls().catch(() => {});
        conn.write(enc.encode("hello over tls\r\n"));
      },
    });
    const r = await pyTls(server.addr.port, {
      starttls: true,
      ca: c.ca.certPath,
      servername: "localhost",
      expect: 16,
    });
    assert.equal(r.echo, "hello over tls\r\n");
  });

  it("Connection.startTls takes initialData on an unframed connection", async () => {
    const c = testCerts();
    await using server = await serve({
      hostname: "127.0.0.1",
      tls: tlsOption(),
      onData(conn, chunk) {
        if (conn.tls) {
          conn.write(chunk.slice());
          return;
        }
        const text = dec.decode(chunk);
        const end = text.indexOf("\r\n");
        if (!text.startsWith("STARTTLS") || end < 0) return;
        conn.write(enc.encode(READY));
        conn.startTls({ initialData: chunk.subarray(end + 2) }).catch(() => {});
      },
    });
    const r = await pyTls(server.addr.port, {
      starttls: true,
      pipelined: true,
      ca: c.ca.certPath,
      servername: "localhost",
      send: "raw",
      expect: 3,
    });
    assert.equal(r.echo, "raw", r.error);
  });

  it("Connection.startTls works with conn.segments, and refuses queued pipelined bytes with ERR_TLS_PIPELINED", async () => {
    const c = testCerts();
    const errors: string[] = [];
    await using server = await serve({
      hostname: "127.0.0.1",
      singleLineMode: true,
      tls: tlsOption(),
      async onConnection(conn: Connection) {
        const reader = conn.segments.getReader();
        const first = await reader.read();
        if (first.done || dec.decode(first.value.bytes) !== "STARTTLS") return;
        conn.write(enc.encode(READY));
        try {
          await conn.startTls();
        } catch (e) {
          errors.push((e as TlsError).code);
          return;
        }
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          conn.write(enc.encode(`echo:${dec.decode(value.bytes)}\r\n`));
        }
      },
    });
    const ok = await pyTls(server.addr.port, {
      starttls: true,
      ca: c.ca.certPath,
      servername: "localhost",
      send: "s\n",
      expect: 8,
    });
    assert.equal(ok.echo, "echo:s\r\n", ok.error);
    const client = await connectClient(server.addr.port);
    client.send("STARTTLS\r\nEHLO\r\n");
    await client.closed;
    await until(() => errors.length === 1, 3000, "the refusal");
    assert.deepEqual(errors, ["ERR_TLS_PIPELINED"]);
  });

  it("Connection.startTls without the server's tls option fails with ERR_TLS_NOT_CONFIGURED and keeps the connection", async () => {
    const errors: unknown[] = [];
    await using server = await serve({
      hostname: "127.0.0.1",
      onConnection(conn) {
        conn.startTls().catch((e) => {
          errors.push(e);
          conn.write(enc.encode("454 TLS not available\r\n"));
        });
      },
      onData() {},
    });
    const client = await connectClient(server.addr.port);
    await client.waitFor((t) => t === "454 TLS not available\r\n");
    assert.equal((errors[0] as TlsError).code, "ERR_TLS_NOT_CONFIGURED");
    assert.equal(server.connections.size, 1);
    client.close();
  });
});
