import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { peekClientHello } from "../../src/runtime/_client_hello.ts";
import { PY } from "./_peers.ts";
import { have } from "../_cli.ts";

const u16 = (n: number) => [n >> 8, n & 255];
const u24 = (n: number) => [n >> 16, (n >> 8) & 255, n & 255];

/** A ClientHello handshake message (RFC 8446 §4.1.2) with an optional server_name extension. */
function hello(name?: string, extra: number[][] = []): Uint8Array {
  const exts: number[] = [];
  for (const e of extra) exts.push(...e);
  if (name !== undefined) {
    const host = [...new TextEncoder().encode(name)];
    const entry = [0, ...u16(host.length), ...host];
    const list = [...u16(entry.length), ...entry];
    exts.push(...u16(0), ...u16(list.length), ...list);
  }
  const body = [
    3,
    3,
    ...new Array(32).fill(7), // legacy_version, random
    32,
    ...new Array(32).fill(9), // session_id
    ...u16(4),
    0x13,
    0x01,
    0x13,
    0x02, // cipher_suites
    1,
    0, // compression_methods
    ...u16(exts.length),
    ...exts,
  ];
  return new Uint8Array([1, ...u24(body.length), ...body]);
}

/** Wraps a handshake message in TLS records carrying at most `size` bytes each. */
function records(message: Uint8Array, size = 16384): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < message.length; i += size) {
    const part = message.subarray(i, i + size);
    out.push(22, 3, 1, ...u16(part.length), ...part);
  }
  return new Uint8Array(out);
}

const ALPN = [...u16(16), ...u16(5), ...u16(3), 2, 0x68, 0x32]; // application_layer_protocol_negotiation "h2"

describe("peekClientHello", () => {
  it("peekClientHello reads the SNI host name, lower-cased, after other extensions", () => {
    const r = peekClientHello(records(hello("Mail.Example.COM", [ALPN])));
    assert.deepEqual(r, { complete: true, servername: "mail.example.com" });
  });

  it("peekClientHello asks for more at every split point, then finds the name", () => {
    const bytes = records(hello("split.test"));
    for (let n = 0; n < bytes.length; n++) {
      assert.equal(peekClientHello(bytes.subarray(0, n)).complete, false, `prefix of ${n} bytes`);
    }
    assert.equal(peekClientHello(bytes).servername, "split.test");
  });

  it("peekClientHello reassembles a ClientHello fragmented over several records", () => {
    for (const size of [1, 3, 50]) {
      assert.equal(
        peekClientHello(records(hello("frag.test"), size)).servername,
        "frag.test",
        `records of ${size}`,
      );
    }
  });

  it("peekClientHello is complete without a name when there is no server_name extension", () => {
    assert.deepEqual(peekClientHello(records(hello(undefined, [ALPN]))), {
      complete: true,
      servername: undefined,
    });
  });

  it("peekClientHello gives up at once on plaintext and on other handshake messages", () => {
    assert.deepEqual(peekClientHello(new TextEncoder().encode("GET / HTTP/1.1\r\n")), {
      complete: true,
    });
    const serverHello = hello("x.test");
    serverHello[0] = 2;
    assert.deepEqual(peekClientHello(records(serverHello)), { complete: true });
  });

  it("peekClientHello never throws on malformed lengths", () => {
    const bad = hello("bad.test");
    const total = bad.length;
    for (let i = 4; i < total; i++) {
      const copy = bad.slice();
      copy[i] = 0xff;
      const r = peekClientHello(records(copy));
      assert.equal(r.complete, true);
    }
  });

  it("peekClientHello reads a real ClientHello from Python's ssl module", {
    skip: !have(PY) && "python3 not installed",
  }, () => {
    const script =
      "import ssl\nc=ssl.create_default_context()\nb=ssl.MemoryBIO()\no=ssl.MemoryBIO()\n" +
      "s=c.wrap_bio(b,o,server_hostname='real.example')\ntry: s.do_handshake()\nexcept ssl.SSLWantReadError: pass\n" +
      "print(o.read().hex())";
    const r = spawnSync(PY, ["-c", script], { encoding: "utf8" });
    const hex = r.stdout.trim();
    const bytes = new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16)));
    assert.deepEqual(peekClientHello(bytes), { complete: true, servername: "real.example" });
  });
});
