import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { TcpServer } from "../../src/components/tcp_server.ts";
import type { SSLClientAuthenticationEvent } from "../../src/components/tls_events.ts";
import { connectClient, until } from "../_client.ts";
import { NotSupportedError, runtimeName } from "../../src/runtime/mod.ts";
import { testCerts } from "../tls/_certs.ts";
import { NO_PEERS, pyTls } from "../tls/_peers.ts";

function tlsServer(): TcpServer {
  const c = testCerts();
  return new TcpServer({
    localHost: "127.0.0.1",
    localPort: 0,
    defaultSingleLineMode: true,
    sslCert: { cert: c.server.certPath, key: c.server.keyPath },
  });
}

describe("TcpServer with SSL", { skip: NO_PEERS }, () => {
  it("TcpServer sslStartMode implicit fires Connected after the handshake, SSLStatus, and SSLNegotiated* settings", async () => {
    const c = testCerts();
    await using server = tlsServer();
    server.sslStartMode = "implicit";
    assert.equal(server.sslEnabled, true);
    const events: string[] = [];
    const status: string[] = [];
    const negotiated: string[] = [];
    server.on("SSLStatus", (e) => status.push(e.message));
    server.on("Connected", (e) => events.push(`Connected ${e.connectionId}`));
    server.on("DataIn", async (e) => {
      events.push(`DataIn ${e.text}`);
      negotiated.push(
        await server.config(`SSLNegotiatedVersion[${e.connectionId}]`),
        await server.config(`SSLNegotiatedCipherSuite[${e.connectionId}]`),
        await server.config(`SSLNegotiatedCipherStrength[${e.connectionId}]`),
      );
      await server.sendLine(e.connectionId, `echo:${e.text}`);
    });
    await server.startListening();
    const r = await pyTls(server.localPort, {
      ca: c.ca.certPath,
      servername: "localhost",
      send: "hi\r\n",
      expect: 9,
    });
    assert.equal(r.echo, "echo:hi\r\n");
    assert.deepEqual(events, ["Connected 1", "DataIn hi"]);
    assert.equal(negotiated[0], "TLSv1.3");
    assert.equal(negotiated[1], r.cipher);
    assert.match(negotiated[2]!, /^(128|256)$/);
    assert.ok(status.includes("TLS handshake started"), status.join("\n"));
    assert.ok(status.some((m) => m.startsWith("handshake complete: TLSv1.3")), status.join("\n"));
  });

  it("TcpServer.startSSL upgrades an explicit connection and Connected fires again", async () => {
    const c = testCerts();
    await using server = tlsServer();
    server.sslStartMode = "explicit";
    const connected: string[] = [];
    server.on("Connected", (e) => connected.push(e.connectionId));
    server.on("DataIn", async (e) => {
      if (e.text === "STARTTLS") {
        // Queue the reply and start TLS in the same turn: an await in between would let
        // the client's ClientHello arrive as plaintext DataIn first.
        void server.sendLine(e.connectionId, "220 Ready to start TLS");
        await server.startSSL(e.connectionId);
      } else await server.sendLine(e.connectionId, `echo:${e.text}`);
    });
    await server.startListening();
    const r = await pyTls(server.localPort, {
      starttls: true,
      ca: c.ca.certPath,
      servername: "localhost",
      send: "x\n",
      expect: 8,
    });
    assert.equal(r.echo, "echo:x\r\n", r.error);
    assert.deepEqual(connected, ["1", "1"]);
  });

  it("TcpServer SSLClientAuthentication reports the client certificate and its accept decides", async () => {
    const c = testCerts();
    await using server = tlsServer();
    server.sslEnabled = true;
    server.sslAuthenticateClients = true;
    await server.config(`SSLClientCACerts=${c.ca.cert}`);
    const seen: SSLClientAuthenticationEvent[] = [];
    server.on("SSLClientAuthentication", (e) => {
      seen.push(e);
      if (e.certSubject.startsWith("CN=rogue")) e.accept = true;
    });
    server.on("DataIn", (e) => void server.sendLine(e.connectionId, `echo:${e.text}`));
    await server.startListening();
    const good = await pyTls(server.localPort, {
      cert: c.client.certPath,
      key: c.client.keyPath,
      send: "a\n",
      expect: 8,
    });
    assert.equal(good.echo, "echo:a\r\n", good.error);
    assert.equal(seen[0]!.status, "OK");
    assert.equal(seen[0]!.accept, true);
    assert.equal(seen[0]!.certSubject, "CN=client one, O=netstreams tests");
    assert.equal(seen[0]!.certIssuer, "CN=netstreams Test CA");
    assert.equal(seen[0]!.certEncodedB[0], 0x30);
    assert.match(seen[0]!.certEncoded, /^-----BEGIN CERTIFICATE-----/);
    const rogue = await pyTls(server.localPort, {
      cert: c.rogueClient.certPath,
      key: c.rogueClient.keyPath,
      send: "b\n",
      expect: 8,
    });
    assert.equal(rogue.echo, "echo:b\r\n", "the listener overruled the refusal");
    assert.match(seen[1]!.status, /UNABLE_TO/);
    const none = await pyTls(server.localPort, { send: "c\n", expect: 8, timeout: 2 });
    assert.notEqual(none.echo, "echo:c\r\n");
    assert.equal(seen[2]!.status, "NO_PEER_CERTIFICATE");
    assert.equal(seen[2]!.accept, false);
  });

  it("TcpServer config SSLEnabledProtocols and DefaultConnectionTimeout shape the TLS server", async () => {
    await using server = tlsServer();
    server.sslEnabled = true;
    assert.equal(await server.config("SSLEnabledProtocols"), "15360");
    await assert.rejects(server.config("SSLEnabledProtocols=768"), RangeError);
    await assert.rejects(server.config("DefaultConnectionTimeout=0"), RangeError);
    await assert.rejects(server.config("SSLNegotiatedVersion[1]=x"), TypeError);
    await server.config("SSLEnabledProtocols=3072");
    await server.config("DefaultConnectionTimeout=1");
    assert.equal(await server.config("SSLEnabledProtocols"), "3072");
    assert.equal(await server.config("DefaultConnectionTimeout"), "1");
    server.on("DataIn", (e) => void server.sendLine(e.connectionId, e.text));
    await server.startListening();
    const r = await pyTls(server.localPort, { send: "x\n", expect: 3 });
    assert.equal(r.version, "TLSv1.2");
    const t0 = Date.now();
    const silent = await connectClient(server.localPort);
    await silent.closed;
    const waited = Date.now() - t0;
    assert.ok(waited >= 900 && waited < 3000, `dropped after ${waited} ms`);
    await until(() => server.connections.size === 0);
  });

  it("TcpServer config OpenSSLCipherList picks the TLS 1.2 suite, or fails with NotSupportedError on Deno", async () => {
    await using server = tlsServer();
    server.sslEnabled = true;
    await server.config("SSLEnabledProtocols=3072");
    await server.config("OpenSSLCipherList=ECDHE-ECDSA-AES128-GCM-SHA256");
    server.on("DataIn", (e) => void server.sendLine(e.connectionId, e.text));
    if (runtimeName() === "deno") {
      await assert.rejects(server.startListening(), (e: NotSupportedError) => {
        assert.ok(e instanceof NotSupportedError);
        assert.equal(e.runtime, "deno");
        assert.equal(e.feature, "ciphers");
        return true;
      });
      assert.equal(server.listening, false);
      return;
    }
    await server.startListening();
    const r = await pyTls(server.localPort, { send: "x\n", expect: 3 });
    assert.equal(r.cipher, "ECDHE-ECDSA-AES128-GCM-SHA256");
  });

  it("TcpServer with SSL enabled and no sslCert refuses to start listening", async () => {
    await using server = new TcpServer({ localHost: "127.0.0.1", localPort: 0, sslEnabled: true });
    await assert.rejects(server.startListening(), /sslCert/);
    assert.equal(server.listening, false);
  });
});
