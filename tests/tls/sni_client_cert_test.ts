import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import tls from "node:tls";
import { serve } from "../../src/net/server.ts";
import type { CloseInfo } from "../../src/net/connection.ts";
import type { ServerOptions } from "../../src/net/server_options.ts";
import type { TlsOptions } from "../../src/tls/tls_options.ts";
import type { ClientCertificateRequest } from "../../src/tls/client_auth.ts";
import type { TlsInfo } from "../../src/net/tls_types.ts";
import { TlsError } from "../../src/runtime/errors.ts";
import { until } from "../_client.ts";
import { OPENSSL, testCerts } from "./_certs.ts";
import { runWithInput } from "../_cli.ts";
import { NO_PEERS, pyTls, sClient } from "./_peers.ts";

const enc = new TextEncoder();

function server(tls: TlsOptions, extra: Partial<ServerOptions> = {}) {
  return serve({
    hostname: "127.0.0.1",
    singleLineMode: true,
    tls: { handshakeTimeout: 3000, ...tls },
    onData(conn, line) {
      if (conn.connected) conn.write(enc.encode(`echo:${new TextDecoder().decode(line)}\r\n`));
    },
    ...extra,
  });
}

function hostsOptions(): TlsOptions {
  const c = testCerts();
  return {
    cert: c.server.certPath,
    key: c.server.keyPath,
    hosts: [
      { names: "other.test", cert: c.other.cert, key: c.other.key },
      { names: ["*.wild.test"], cert: c.wild.certPath, key: c.wild.keyPath },
    ],
  };
}

describe("TLS host names and client certificates", { skip: NO_PEERS }, () => {
  it("Server picks the certificate by SNI: exact, wildcard, default (openssl s_client -servername)", async () => {
    await using s = await server(hostsOptions(), {
      onData(conn) {
        conn.write(enc.encode(`sni=${conn.tls?.servername ?? "-"}\n`));
        void conn.close();
      },
    });
    const subject = async (name?: string) => {
      const r = await sClient(s.addr.port, { servername: name, input: "x\n" });
      return [/Peer certificate: CN = ([^\n,]+)/.exec(r.stderr)?.[1], r.stdout.trim()];
    };
    assert.deepEqual(await subject("other.test"), ["other.test", "sni=other.test"]);
    assert.deepEqual(await subject("a.wild.test"), ["*.wild.test", "sni=a.wild.test"]);
    assert.deepEqual(await subject("A.Wild.Test"), ["*.wild.test", "sni=a.wild.test"]);
    assert.deepEqual(await subject("b.a.wild.test"), ["localhost", "sni=b.a.wild.test"]);
    assert.deepEqual(await subject("unknown.test"), ["localhost", "sni=unknown.test"]);
    assert.deepEqual(await subject(undefined), ["localhost", "sni=-"]);
  });

  it("Server verifies a client certificate under require and shows it on conn.tls", async () => {
    const c = testCerts();
    const infos: TlsInfo[] = [];
    await using s = await server({
      ...hostsOptions(),
      clientCertificate: "require",
      ca: c.ca.certPath,
    }, {
      onSecure: (conn) => infos.push(conn.tls!),
    });
    const r = await pyTls(s.addr.port, {
      ca: c.ca.certPath,
      servername: "other.test",
      cert: c.client.certPath,
      key: c.client.keyPath,
      send: "hi\n",
      expect: 9,
    });
    assert.equal(r.echo, "echo:hi\r\n", r.error);
    const info = infos[0]!;
    assert.equal(info.authorized, true);
    assert.equal(info.authorizationError, undefined);
    const cert = info.peerCertificate!;
    assert.equal(cert.subject, "CN=client one, O=netstreams tests");
    assert.equal(cert.issuer, "CN=netstreams Test CA");
    assert.equal(cert.pem.replace(/\s+/g, ""), c.client.cert.replace(/\s+/g, ""));
    const hex = createHash("sha256").update(cert.der).digest("hex").toUpperCase().match(/../g)!
      .join(":");
    assert.equal(cert.fingerprint256, hex);
    assert.ok(cert.validFrom.getTime() < Date.now() && cert.validTo.getTime() > Date.now());
  });

  for (
    const [name, who, reason] of [
      ["from an unknown CA", "rogueClient", /UNABLE_TO_(VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT)/],
      ["that has expired", "expiredClient", /CERT_HAS_EXPIRED/],
      ["that is missing", undefined, /NO_PEER_CERTIFICATE/],
    ] as const
  ) {
    it(`Server refuses a client certificate ${name} under require and reports it under optional`, async () => {
      const c = testCerts();
      const cert = who === undefined ? {} : { cert: c[who].certPath, key: c[who].keyPath };
      const closes: CloseInfo[] = [];
      const status: string[] = [];
      await using strict = await server({
        ...hostsOptions(),
        clientCertificate: "require",
        ca: c.ca.cert,
      }, {
        onDisconnect: (_conn, info) => closes.push(info),
        onTlsStatus: (m) => status.push(m),
      });
      const refused = await pyTls(strict.addr.port, {
        ...cert,
        send: "no\n",
        expect: 9,
        timeout: 3,
      });
      assert.notEqual(refused.echo, "echo:no\r\n");
      await until(() => closes.length === 1, 3000, "the refused connection to close");
      const err = closes[0]!.error as TlsError;
      assert.ok(err instanceof TlsError);
      assert.equal(err.code, "ERR_TLS_CLIENT_CERT");
      assert.equal(closes[0]!.code, 280);
      assert.match(err.reason ?? "", reason);
      assert.ok(status.some((m) => /refused/.test(m)), status.join("\n"));

      const requests: ClientCertificateRequest[] = [];
      await using lenient = await server({
        ...hostsOptions(),
        clientCertificate: "optional",
        ca: c.ca.certPath,
      }, {
        onClientCertificate: (_conn, request) => void requests.push(request),
      });
      const ok = await pyTls(lenient.addr.port, { ...cert, send: "yes\n", expect: 10 });
      assert.equal(ok.echo, "echo:yes\r\n", ok.error);
      assert.equal(requests.length, 1);
      assert.equal(requests[0]!.accept, true);
      assert.equal(requests[0]!.authorized, false);
      assert.match(requests[0]!.status, reason);
      assert.equal(requests[0]!.certificate === undefined, who === undefined);
    });
  }

  it("Server lets the client-certificate hook overrule the policy both ways", async () => {
    const c = testCerts();
    await using s = await server({
      ...hostsOptions(),
      clientCertificate: "require",
      ca: c.ca.certPath,
    }, {
      onClientCertificate: (_conn, r) => r.certificate?.subject.startsWith("CN=rogue") ?? false,
    });
    const rogue = await pyTls(s.addr.port, {
      cert: c.rogueClient.certPath,
      key: c.rogueClient.keyPath,
      send: "r\n",
      expect: 8,
    });
    assert.equal(rogue.echo, "echo:r\r\n", rogue.error);
    const good = await pyTls(s.addr.port, {
      cert: c.client.certPath,
      key: c.client.keyPath,
      send: "g\n",
      expect: 8,
      timeout: 3,
    });
    assert.notEqual(good.echo, "echo:g\r\n");
  });

  it("Server resumes TLS 1.2 sessions while asking for client certificates (openssl s_client -reconnect)", async () => {
    const c = testCerts();
    const failures: string[] = [];
    await using s = await server({
      ...hostsOptions(),
      clientCertificate: "optional",
      ca: c.ca.certPath,
    }, {
      onTlsStatus: (m) => /failed/.test(m) && failures.push(m),
    });
    const r = await runWithInput(
      OPENSSL,
      [
        "s_client",
        "-connect",
        `127.0.0.1:${s.addr.port}`,
        "-reconnect",
        "-tls1_2",
        "-cert",
        c.client.certPath,
        "-key",
        c.client.keyPath,
      ],
      "",
      10_000,
    );
    assert.deepEqual(r.stdout.match(/^(New|Reused),/gm), [
      "New,",
      "Reused,",
      "Reused,",
      "Reused,",
      "Reused,",
      "Reused,",
    ]);
    assert.deepEqual(failures, []);
  });

  it("CertificateStore.reload serves renewed files to new handshakes and keeps live connections", async () => {
    const c = testCerts();
    const dir = c.dir;
    const cert = join(dir, "live.pem");
    const key = join(dir, "live.key");
    copyFileSync(c.server.certPath, cert);
    copyFileSync(c.server.keyPath, key);
    await using s = await server({ cert, key });
    // A connection opened before the reload, kept across it.
    const live = tls.connect({
      host: "127.0.0.1",
      port: s.addr.port,
      servername: "localhost",
      ca: c.ca.cert,
    });
    let got = "";
    live.on("data", (d: Uint8Array) => (got += new TextDecoder().decode(d)));
    await new Promise((resolve, reject) =>
      live.once("secureConnect", resolve).once("error", reject)
    );
    live.write("before\n");
    await until(() => got === "echo:before\r\n", 3000, "the first echo");
    copyFileSync(c.other.certPath, cert);
    copyFileSync(c.other.keyPath, key);
    const peer = async () => {
      const r = await pyTls(s.addr.port, {
        ca: c.ca.certPath,
        servername: "other.test",
        send: "z\n",
        expect: 8,
      });
      return r;
    };
    assert.match(
      (await peer()).error ?? "",
      /mismatch|doesn't match|not valid/i,
      "the old certificate until reload",
    );
    await s.certificates!.reload();
    const after = await peer();
    assert.equal(after.subject, "other.test");
    assert.equal(after.echo, "echo:z\r\n");
    live.write("after\n");
    await until(() => got.endsWith("echo:after\r\n"), 3000, "the echo after the reload");
    assert.equal(live.getPeerCertificate().subject.CN, "localhost");
    live.end();
    writeFileSync(key, "not a key");
    await assert.rejects(
      s.certificates!.reload(),
      (e: TlsError) => e instanceof TlsError && e.file === key,
    );
    assert.equal(
      (await peer()).subject,
      "other.test",
      "a failed reload keeps the loaded certificates",
    );
  });
});
