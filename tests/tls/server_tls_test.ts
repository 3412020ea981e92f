import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { serve } from "../../src/net/server.ts";
import type { CloseInfo, Connection } from "../../src/net/connection.ts";
import type { ServerOptions } from "../../src/net/server_options.ts";
import { TlsError } from "../../src/runtime/errors.ts";
import { connectClient, until } from "../_client.ts";
import { testCerts } from "./_certs.ts";
import { NO_PEERS, pyTls, sClient } from "./_peers.ts";

const enc = new TextEncoder();

/** Options of an implicit-TLS line echo server on 127.0.0.1 with the test server certificate. */
function echoOptions(extra: Partial<ServerOptions> = {}): ServerOptions {
  const c = testCerts();
  return {
    hostname: "127.0.0.1",
    singleLineMode: true,
    tls: { cert: c.server.certPath, key: c.server.keyPath, handshakeTimeout: 3000 },
    onData(conn, line) {
      if (conn.connected) conn.write(enc.encode(`echo:${new TextDecoder().decode(line)}\r\n`));
    },
    ...extra,
  };
}

describe("Server with implicit TLS", { skip: NO_PEERS }, () => {
  it("Server with tls echoes lines to a Python ssl client that verifies the certificate", async () => {
    const c = testCerts();
    const secured: string[] = [];
    const events: string[] = [];
    await using server = await serve(echoOptions({
      onSecure: (conn) => {
        events.push("secure");
        secured.push(`${conn.tls?.protocol} ${conn.tls?.cipher} ${conn.tls?.servername}`);
      },
      onConnection: (conn) => {
        events.push(`connection ${conn.tls ? "tls" : "plain"}`);
      },
    }));
    const r = await pyTls(server.addr.port, {
      ca: c.ca.certPath,
      servername: "localhost",
      send: "hello\r\nworld\n",
      expect: "echo:hello\r\necho:world\r\n".length,
    });
    assert.equal(r.error, undefined);
    assert.equal(r.echo, "echo:hello\r\necho:world\r\n");
    assert.equal(r.subject, "localhost");
    assert.equal(r.version, "TLSv1.3");
    assert.deepEqual(events, ["secure", "connection tls"]);
    assert.match(secured[0]!, /^TLSv1\.3 TLS_\w+ localhost$/);
  });

  it("Server with tls sends the banner over TLS after the handshake", async () => {
    const c = testCerts();
    await using server = await serve(echoOptions({ banner: "220 welcome" }));
    const r = await pyTls(server.addr.port, {
      ca: c.ca.certPath,
      servername: "localhost",
      expect: 13,
    });
    assert.equal(r.echo, "220 welcome\r\n");
  });

  it("Server with tls serves openssl s_client and reports TLS 1.2 when the client caps it", async () => {
    const c = testCerts();
    await using server = await serve(echoOptions({
      onData(conn, line) {
        conn.write(
          enc.encode(`got ${new TextDecoder().decode(line)} over ${conn.tls?.protocol}\r\n`),
        );
        void conn.close();
      },
    }));
    const r = await sClient(server.addr.port, {
      ca: c.ca.certPath,
      servername: "localhost",
      input: "ping\n",
      extra: ["-tls1_2"],
    });
    assert.match(r.stdout, /got ping over TLSv1\.2/);
    assert.match(r.stderr, /Protocol version: TLSv1\.2/);
    assert.match(r.stderr, /Verification: OK/);
  });

  it("Server with tls refuses plaintext on the TLS port and frees the slot", async () => {
    const closes: CloseInfo[] = [];
    const status: string[] = [];
    await using server = await serve(echoOptions({
      maxConnections: 1,
      onDisconnect: (_conn, info) => closes.push(info),
      onTlsStatus: (m) => status.push(m),
    }));
    const plain = await connectClient(server.addr.port);
    plain.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await plain.closed;
    await until(() => closes.length === 1, 3000, "the failed handshake to close");
    assert.ok(closes[0]!.error instanceof TlsError);
    assert.equal((closes[0]!.error as TlsError).code, "ERR_TLS_HANDSHAKE");
    assert.ok(!plain.text().includes("echo"), "no application data in plaintext");
    assert.ok(status.some((m) => /handshake failed/.test(m)), status.join("\n"));
    assert.equal(server.connections.size, 0);
    const r = await pyTls(server.addr.port, {
      ca: testCerts().ca.certPath,
      servername: "localhost",
      send: "x\n",
      expect: 8,
    });
    assert.equal(r.echo, "echo:x\r\n");
  });

  it("Server with tls drops a truncated ClientHello after the handshake timeout and frees the slot", async () => {
    const closes: CloseInfo[] = [];
    await using server = await serve(echoOptions({
      maxConnections: 1,
      tls: { ...echoOptions().tls!, handshakeTimeout: 400 },
      onDisconnect: (_conn, info) => closes.push(info),
    }));
    const t0 = Date.now();
    const c = await connectClient(server.addr.port);
    // A TLS record header announcing 512 bytes of ClientHello, then only 10 of them, then silence.
    c.send(
      new Uint8Array([
        0x16,
        0x03,
        0x01,
        0x02,
        0x00,
        0x01,
        0x00,
        0x01,
        0xfc,
        0x03,
        0x03,
        1,
        2,
        3,
        4,
      ]),
    );
    await until(() => server.connections.size === 1, 2000, "the connection to be registered");
    await c.closed;
    const waited = Date.now() - t0;
    assert.ok(waited >= 350 && waited < 2500, `closed after ${waited} ms`);
    await until(() => closes.length === 1, 2000, "onDisconnect");
    assert.equal((closes[0]!.error as TlsError).code, "ERR_TLS_HANDSHAKE_TIMEOUT");
    assert.equal(closes[0]!.code, 276);
    assert.equal(server.connections.size, 0);
    const silent = await connectClient(server.addr.port);
    await silent.closed; // a client that sends nothing is dropped the same way
    const r = await pyTls(server.addr.port, { servername: "localhost", send: "y\n", expect: 8 });
    assert.equal(r.echo, "echo:y\r\n");
  });

  it("Server with tls loads a PFX with its password", async () => {
    const c = testCerts();
    await using server = await serve(echoOptions({
      tls: { pfx: c.pfx.path, passphrase: c.pfx.passphrase },
    }));
    const r = await pyTls(server.addr.port, {
      ca: c.ca.certPath,
      servername: "localhost",
      send: "p\n",
      expect: 8,
    });
    assert.equal(r.echo, "echo:p\r\n");
  });

  it("Server with tls rejects listen() with a TlsError naming a missing key file, binding nothing", async () => {
    const c = testCerts();
    const missing = `${c.dir}/no-such.key`;
    await assert.rejects(
      serve(echoOptions({ tls: { cert: c.server.certPath, key: missing } })),
      (err: TlsError) => {
        assert.ok(err instanceof TlsError);
        assert.equal(err.code, "ERR_TLS_CERT");
        assert.equal(err.file, missing);
        assert.equal(err.reason, "ENOENT");
        assert.match(err.message, /no-such\.key/);
        return true;
      },
    );
  });

  it("Server with tls rejects a key that does not belong to the certificate, and a bad PFX password", async () => {
    const c = testCerts();
    await assert.rejects(
      serve(echoOptions({ tls: { cert: c.server.certPath, key: c.other.keyPath } })),
      (err: TlsError) =>
        err instanceof TlsError && err.code === "ERR_TLS_CERT" &&
        /does not belong/.test(err.message),
    );
    await assert.rejects(
      serve(echoOptions({ tls: { pfx: c.pfx.path, passphrase: "wrong" } })),
      (err: TlsError) =>
        err instanceof TlsError && err.code === "ERR_TLS_CERT" && err.file === c.pfx.path,
    );
  });

  it("Server with tls reports an expired server certificate and clients refuse it", async () => {
    const c = testCerts();
    const status: string[] = [];
    await using server = await serve(echoOptions({
      tls: { cert: c.expiredServer.certPath, key: c.expiredServer.keyPath },
      onTlsStatus: (m, conn) => {
        if (!conn) status.push(m);
      },
    }));
    assert.ok(status.some((m) => /expired on/.test(m)), status.join("\n"));
    assert.equal(server.certificates?.hosts()[0]?.expired, true);
    const r = await pyTls(server.addr.port, { ca: c.ca.certPath, servername: "localhost" });
    assert.equal(r.handshake, undefined);
    assert.match(r.error ?? "", /certificate has expired/);
  });

  it("Server with tls enforces minVersion TLSv1.3 against a TLS 1.2 client", async () => {
    const c = testCerts();
    const closes: CloseInfo[] = [];
    await using server = await serve(echoOptions({
      tls: { cert: c.server.cert, key: c.server.key, minVersion: "TLSv1.3" },
      onDisconnect: (_c, info) => closes.push(info),
    }));
    const r = await pyTls(server.addr.port, { maxVersion: "1.2" });
    assert.match(r.error ?? "", /VERSION|version/);
    await until(() => closes.length === 1, 3000, "the refused handshake");
    const ok = await pyTls(server.addr.port, { send: "v\n", expect: 8 });
    assert.equal(ok.version, "TLSv1.3");
  });

  it("Server with tls negotiates ALPN and shows it on conn.tls", async () => {
    const seen: (string | undefined)[] = [];
    await using server = await serve(echoOptions({
      tls: { ...echoOptions().tls!, alpnProtocols: ["x-netstreams", "http/1.1"] },
      onSecure: (conn) => seen.push(conn.tls?.alpnProtocol),
    }));
    const r = await pyTls(server.addr.port, {
      alpn: "http/1.1,x-netstreams",
      send: "a\n",
      expect: 8,
    });
    assert.equal(r.alpn, "x-netstreams");
    assert.deepEqual(seen, ["x-netstreams"]);
  });

  it("Server with tls refuses to change tls while listening", async () => {
    await using server = await serve(echoOptions());
    assert.throws(() => server.set({ tls: { ...echoOptions().tls! } }), TypeError);
  });

  it("Connection.abort during a TLS handshake ends it at once", async () => {
    const closes: CloseInfo[] = [];
    await using server = await serve(echoOptions({
      onDisconnect: (_c, info) => closes.push(info),
    }));
    const c = await connectClient(server.addr.port);
    await until(() => server.connections.size === 1, 2000, "registration");
    const seen: Connection = [...server.connections.values()][0]!;
    assert.equal(seen.tls, undefined);
    await seen.abort();
    await c.closed;
    assert.equal(closes.length, 1);
    assert.equal(server.connections.size, 0);
  });
});
