/**
 * The PROXY protocol header: encoder and parser (v1 text, v2 binary, IPv4,
 * IPv6, IPv4-mapped, any chunking), and the proxy sending it to a target
 * that parses it. Plus outbound TLS to a target.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  encodeProxyHeader,
  parseProxyHeader,
  PROXY_V2_SIGNATURE,
  ProxyProtocolError,
  serveProxy,
} from "../../src/proxy/mod.ts";
import { serve } from "../../src/net/mod.ts";
import { testCerts } from "../tls/_certs.ts";
import { client, deadline, tcpTarget } from "./_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

describe("PROXY protocol codec", () => {
  const v4 = { hostname: "192.0.2.10", port: 40000 };
  const v4b = { hostname: "198.51.100.1", port: 6080 };
  const v6 = { hostname: "2001:db8::1", port: 1234 };
  const v6b = { hostname: "::1", port: 80 };

  it("encodeProxyHeader writes the v1 line for TCP4 and TCP6", () => {
    assert.equal(
      dec.decode(encodeProxyHeader(1, v4, v4b)),
      "PROXY TCP4 192.0.2.10 198.51.100.1 40000 6080\r\n",
    );
    assert.equal(
      dec.decode(encodeProxyHeader(1, v6, v6b)),
      "PROXY TCP6 2001:db8::1 ::1 1234 80\r\n",
    );
    // IPv4-mapped on both sides is IPv4; mixed families become TCP6.
    assert.equal(
      dec.decode(
        encodeProxyHeader(1, { hostname: "::ffff:127.0.0.1", port: 1 }, {
          hostname: "127.0.0.1",
          port: 2,
        }),
      ),
      "PROXY TCP4 127.0.0.1 127.0.0.1 1 2\r\n",
    );
    assert.equal(
      dec.decode(encodeProxyHeader(1, v4, v6b)),
      "PROXY TCP6 ::ffff:c000:20a ::1 40000 80\r\n",
    );
  });

  it("encodeProxyHeader writes v2 with the signature, family and big-endian ports", () => {
    const h = encodeProxyHeader(2, v4, v4b);
    assert.deepEqual([...h.subarray(0, 12)], [...PROXY_V2_SIGNATURE]);
    assert.deepEqual([...h.subarray(12, 16)], [0x21, 0x11, 0, 12]);
    assert.deepEqual([...h.subarray(16)], [192, 0, 2, 10, 198, 51, 100, 1, 0x9c, 0x40, 0x17, 0xc0]);
    const h6 = encodeProxyHeader(2, v6, v6b);
    assert.equal(h6.length, 16 + 36);
    assert.equal(h6[13], 0x21);
  });

  it("parseProxyHeader round-trips every version and family, fed in any split", () => {
    for (const version of [1, 2] as const) {
      for (const [src, dst, family] of [[v4, v4b, "TCP4"], [v6, v6b, "TCP6"]] as const) {
        const header = encodeProxyHeader(version, src, dst);
        const bytes = new Uint8Array([...header, ...enc.encode("DATA")]);
        for (let cut = 0; cut < header.length; cut++) {
          assert.equal(
            parseProxyHeader(bytes.subarray(0, cut)),
            undefined,
            `v${version} cut ${cut}`,
          );
        }
        const parsed = parseProxyHeader(bytes)!;
        assert.deepEqual(parsed, {
          version,
          command: "PROXY",
          family,
          source: src,
          destination: dst,
          length: header.length,
        });
        assert.equal(dec.decode(bytes.subarray(parsed.length)), "DATA");
      }
    }
  });

  it("parseProxyHeader accepts v1 UNKNOWN and v2 LOCAL, skips v2 TLVs", () => {
    assert.deepEqual(parseProxyHeader(enc.encode("PROXY UNKNOWN\r\n")), {
      version: 1,
      command: "UNKNOWN",
      family: "UNKNOWN",
      length: 15,
    });
    const local = new Uint8Array([...PROXY_V2_SIGNATURE, 0x20, 0x00, 0, 0]);
    assert.equal(parseProxyHeader(local)?.command, "LOCAL");
    const withTlv = encodeProxyHeader(2, v4, v4b);
    const tlv = new Uint8Array([...withTlv, 0x04, 0, 1, 0x55]);
    tlv[15] = 12 + 4;
    assert.equal(parseProxyHeader(tlv)?.length, 16 + 16);
    assert.deepEqual(parseProxyHeader(tlv)?.source, v4);
  });

  it("parseProxyHeader throws ProxyProtocolError for bad input, and bounds v1 at 107 bytes", () => {
    const bad = [
      enc.encode("GET / HTTP/1.1\r\n"),
      enc.encode("PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\n"),
      enc.encode("PROXY TCP4 ::1 5.6.7.8 1 1\r\n"),
      enc.encode("PROXY TCP5 1.2.3.4 5.6.7.8 1 1\r\n"),
      enc.encode(`PROXY TCP4 ${"1".repeat(120)}`),
      new Uint8Array([...PROXY_V2_SIGNATURE.subarray(0, 11), 0x00]),
      new Uint8Array([...PROXY_V2_SIGNATURE, 0x31, 0x11, 0, 12]),
    ];
    for (const b of bad) {
      assert.throws(
        () => parseProxyHeader(b),
        (e: unknown) => e instanceof ProxyProtocolError && e.code === "ERR_PROXY_PROTOCOL",
      );
    }
    assert.throws(() => encodeProxyHeader(1, { hostname: "example.com", port: 1 }, v4b), TypeError);
  });
});

/** A target that parses the PROXY header and answers with what it read, as JSON. */
async function headerTarget() {
  return await tcpTarget((socket, t) => {
    let buf = new Uint8Array(0);
    let done = false;
    socket.start({
      data: (chunk) => {
        if (done) return;
        const next = new Uint8Array(buf.length + chunk.length);
        next.set(buf);
        next.set(chunk, buf.length);
        buf = next;
        const h = parseProxyHeader(buf);
        if (h === undefined) return;
        done = true;
        const rest = dec.decode(buf.subarray(h.length));
        socket.write(enc.encode(JSON.stringify({ ...h, rest })));
      },
      drain() {},
      end: () => socket.close(),
      close: () => t.sockets.delete(socket),
    });
  });
}

describe("WebSocketProxy PROXY header", () => {
  for (const version of [1, 2] as const) {
    it(`WebSocketProxy sends a v${version} PROXY header with the client's address before its data`, async () => {
      const target = await headerTarget();
      await using proxy = await serveProxy({
        hostname: "127.0.0.1",
        port: 0,
        target: `127.0.0.1:${target.port}`,
        proxyProtocol: version,
      });
      const c = client(`ws://127.0.0.1:${proxy.addr.port}/`);
      await c.opened;
      c.ws.send("first bytes");
      const json = JSON.parse(await c.waitFor((t) => t.endsWith("}")));
      assert.equal(json.version, version);
      assert.equal(json.family, "TCP4");
      assert.equal(json.source.hostname, "127.0.0.1");
      assert.ok(json.source.port > 0);
      assert.deepEqual(json.destination, { hostname: "127.0.0.1", port: proxy.addr.port });
      c.ws.close();
      await c.closed;
      await target.close();
    });
  }

  it("WebSocketProxy sends a TCP6 header for a client on ::1", async () => {
    const target = await headerTarget();
    await using proxy = await serveProxy({
      hostname: "::1",
      port: 0,
      target: `127.0.0.1:${target.port}`,
      proxyProtocol: 2,
    });
    const c = client(`ws://[::1]:${proxy.addr.port}/`);
    await c.opened;
    c.ws.send("x");
    const json = JSON.parse(await c.waitFor((t) => t.endsWith("}")));
    assert.equal(json.family, "TCP6");
    assert.equal(json.source.hostname, "::1");
    c.ws.close();
    await c.closed;
    await target.close();
  });
});

describe("WebSocketProxy TLS target", () => {
  it("WebSocketProxy connects to a TLS target trusting a given CA, and refuses an untrusted one with 1014", async () => {
    const certs = testCerts();
    const tlsEcho = await serve({
      hostname: "127.0.0.1",
      port: 0,
      tls: { cert: certs.server.cert, key: certs.server.key },
      onData: (conn, bytes) => void conn.write(bytes.slice()),
    });
    try {
      await using proxy = await serveProxy({
        hostname: "127.0.0.1",
        port: 0,
        target: { hostname: "localhost", port: tlsEcho.addr.port },
        targetTls: { ca: certs.ca.cert },
      });
      const c = client(`ws://127.0.0.1:${proxy.addr.port}/`);
      await c.opened;
      c.ws.send("over tls");
      assert.equal(await c.waitFor((t) => t === "over tls"), "over tls");
      c.ws.close();
      await c.closed;

      await using strict = await serveProxy({
        hostname: "127.0.0.1",
        port: 0,
        target: { hostname: "localhost", port: tlsEcho.addr.port, tls: true },
        onError: () => {},
      });
      const d = client(`ws://127.0.0.1:${strict.addr.port}/`);
      await d.opened;
      const info = await deadline(d.closed, 5000, "close");
      assert.equal(info.code, 1014);
      assert.match(info.reason, /^target localhost:\d+ failed: ERR_TLS_HANDSHAKE$/);
    } finally {
      await tlsEcho.shutdown({ timeout: 500 });
    }
  });
});
