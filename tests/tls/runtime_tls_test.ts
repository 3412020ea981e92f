import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Listener, RuntimeAdapter, Socket, TlsServerConfig } from "../../src/net/types.ts";
import type { TlsIdentity } from "../../src/net/tls_types.ts";
import { TlsError } from "../../src/runtime/errors.ts";
import { connectClient, until } from "../_client.ts";
import { ENGINES, label, runtimeFor } from "../runtime/_helpers.ts";
import { testCerts } from "./_certs.ts";
import { NO_PEERS, pyTls } from "./_peers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function config(extra: Partial<TlsServerConfig> = {}): TlsServerConfig {
  const c = testCerts();
  const main: TlsIdentity = { cert: c.server.cert, key: c.server.key };
  const other: TlsIdentity = { cert: c.other.cert, key: c.other.key };
  return {
    select: (name) => (name === "other.test" ? other : main),
    requestCert: false,
    minVersion: "TLSv1.2",
    maxVersion: "TLSv1.3",
    handshakeTimeout: 3000,
    ...extra,
  };
}

/** Echoes over TLS; `upgrade` decides how each accepted socket becomes TLS. */
async function tlsEcho(
  rt: RuntimeAdapter,
  upgrade: (socket: Socket) => Promise<Socket>,
  failures: unknown[],
): Promise<Listener> {
  return await rt.listen({ hostname: "127.0.0.1", port: 0 }, (socket) => {
    upgrade(socket).then((t) => {
      t.start({
        data: (chunk) => t.write(enc.encode(`${t.tls?.()?.protocol}:${dec.decode(chunk)}`)),
        end: () => t.close(),
        drain() {},
        close() {},
      });
    }, (e) => failures.push(e));
  });
}

describe("RuntimeAdapter.startTls", { skip: NO_PEERS }, () => {
  for (const engine of ENGINES) {
    it(`RuntimeAdapter.startTls serves TLS and picks the certificate by SNI (${label(engine)})`, async () => {
      const c = testCerts();
      const rt = await runtimeFor(engine);
      const failures: unknown[] = [];
      const l = await tlsEcho(rt, (s) => rt.startTls!(s, config()), failures);
      try {
        const a = await pyTls(l.addr.port, {
          ca: c.ca.certPath,
          servername: "other.test",
          send: "x",
          expect: 9,
        });
        assert.equal(a.subject, "other.test");
        assert.equal(a.echo, "TLSv1.3:x");
        const b = await pyTls(l.addr.port, {
          ca: c.ca.certPath,
          servername: "localhost",
          send: "y",
          expect: 9,
        });
        assert.equal(b.subject, "localhost");
        assert.deepEqual(failures, []);
      } finally {
        l.close();
      }
    });

    it(`RuntimeAdapter.startTls upgrades a started socket and feeds initialData first (${label(engine)})`, async () => {
      const c = testCerts();
      const rt = await runtimeFor(engine);
      const failures: unknown[] = [];
      const l = await tlsEcho(rt, (s) =>
        new Promise<Socket>((resolve, reject) => {
          let seen = new Uint8Array(0);
          s.start({
            data(chunk) {
              const all = new Uint8Array(seen.length + chunk.length);
              all.set(seen);
              all.set(chunk, seen.length);
              seen = all;
              const end = dec.decode(all).indexOf("\r\n");
              if (end < 0) return;
              s.pause();
              s.write(enc.encode("220 Ready to start TLS\r\n"));
              rt.startTls!(s, config(), { initialData: all.slice(end + 2) }).then(resolve, reject);
            },
            end() {},
            drain() {},
            close() {},
          });
        }), failures);
      try {
        for (const pipelined of [true, false]) {
          const r = await pyTls(l.addr.port, {
            starttls: true,
            pipelined,
            ca: c.ca.certPath,
            servername: "localhost",
            send: "z",
            expect: 9,
          });
          assert.equal(r.echo, "TLSv1.3:z", r.error);
        }
        assert.deepEqual(failures, []);
      } finally {
        l.close();
      }
    });

    it(`RuntimeAdapter.startTls rejects a silent client after handshakeTimeout and closes it (${label(engine)})`, async () => {
      const rt = await runtimeFor(engine);
      const failures: unknown[] = [];
      const l = await tlsEcho(
        rt,
        (s) => rt.startTls!(s, config({ handshakeTimeout: 300 })),
        failures,
      );
      try {
        const t0 = Date.now();
        const client = await connectClient(l.addr.port);
        await client.closed;
        const waited = Date.now() - t0;
        assert.ok(waited >= 250 && waited < 2000, `closed after ${waited} ms`);
        await until(() => failures.length === 1, 2000, "the rejection");
        assert.equal((failures[0] as TlsError).code, "ERR_TLS_HANDSHAKE_TIMEOUT");
      } finally {
        l.close();
      }
    });

    it(`RuntimeAdapter.startTls rejects plaintext with ERR_TLS_HANDSHAKE, and stops when its signal aborts (${label(engine)})`, async () => {
      const rt = await runtimeFor(engine);
      const failures: unknown[] = [];
      const controller = new AbortController();
      let aborting = false;
      const l = await tlsEcho(rt, (s) => {
        const signal = aborting ? controller.signal : undefined;
        return rt.startTls!(s, config(), { signal });
      }, failures);
      try {
        const plain = await connectClient(l.addr.port);
        plain.send("HELLO\r\n\r\n");
        await plain.closed;
        await until(() => failures.length === 1, 2000, "the plaintext rejection");
        assert.equal((failures[0] as TlsError).code, "ERR_TLS_HANDSHAKE");
        aborting = true;
        const silent = await connectClient(l.addr.port);
        await new Promise((r) => setTimeout(r, 50));
        controller.abort();
        await silent.closed;
        await until(() => failures.length === 2, 2000, "the aborted handshake");
        assert.match((failures[1] as Error).message, /aborted/);
      } finally {
        l.close();
      }
    });
  }

  it("RuntimeAdapter.startTls refuses a socket it did not make, with TypeError", async () => {
    const rt = await runtimeFor("native");
    const fake = {
      remoteAddr: { hostname: "", port: 0 },
      localAddr: { hostname: "", port: 0 },
      canReset: false,
    } as Socket;
    await assert.rejects(rt.startTls!(fake, config()), TypeError);
  });

  it("RuntimeAdapter.prepareTls summarises certificates and reports unusable ones as TlsError", async () => {
    const c = testCerts();
    const rt = await runtimeFor("native");
    const [summary] = await rt.prepareTls!(config(), [{
      cert: c.expiredServer.cert,
      key: c.expiredServer.key,
    }]);
    assert.equal(summary?.subject, "CN=localhost, O=netstreams tests");
    assert.equal(summary?.issuer, "CN=netstreams Test CA");
    assert.ok(summary!.validTo.getTime() < Date.now());
    await assert.rejects(
      rt.prepareTls!(config(), [{
        cert: c.server.cert,
        key: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
      }]),
      (e: TlsError) => e instanceof TlsError && e.code === "ERR_TLS_CERT",
    );
  });
});
