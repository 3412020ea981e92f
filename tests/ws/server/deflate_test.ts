/**
 * permessage-deflate on the server (RFC 7692), modelled on the Autobahn
 * TestSuite's cases 12.* (compressed echo at many sizes) and 13.* (each
 * parameter combination: context takeover on and off, 9- and 15-bit
 * windows on both sides), at CI-friendly counts; plus bad input (RSV1
 * without negotiation, compressed control frames, RSV1 on a continuation,
 * corrupt data, a deflate bomb) and a connect/close cycle that must not
 * grow memory.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { WsProtocolError } from "../../../src/ws/errors.ts";
import { zlibEngine } from "../../../src/runtime/zlib.ts";
import type { Deflater, Inflater } from "../../../src/ws/deflate_engine.ts";
import { cat, openWs, type RawClient, type RawFrame } from "../_raw_client.ts";
import { expectFail } from "./_autobahn.ts";
import { type EchoServer, startEcho } from "./_echo.ts";

const engine = zlibEngine();
const enc = new TextEncoder();

/** A raw client that negotiated permessage-deflate, compressing as the client side. */
interface DeflateClient {
  c: RawClient;
  extensions: string;
  deflater: Deflater;
  inflater: Inflater;
  close(): void;
}

/** Parses the response's parameters the way a client must (§7.1). */
function parseResponse(value: string) {
  const params = new Map<string, string | true>();
  for (const part of value.split(";").slice(1)) {
    const [k, v] = part.trim().split("=");
    params.set(k, v === undefined ? true : v);
  }
  return params;
}

async function openDeflate(port: number, offer: string): Promise<DeflateClient> {
  const c = await openWs(port, { headers: { "Sec-WebSocket-Extensions": offer } });
  const extensions = c.responseHeaders.get("sec-websocket-extensions") ?? "";
  assert.ok(extensions.startsWith("permessage-deflate"), `negotiated: ${extensions}`);
  const p = parseResponse(extensions);
  const clientBits = Number(
    p.get("client_max_window_bits") ?? /client_max_window_bits=(\d+)/.exec(offer)?.[1] ?? 15,
  );
  const deflater = engine.createDeflater({
    windowBits: Math.max(clientBits, 9),
    memLevel: 8,
    level: 6,
    noContextTakeover: p.has("client_no_context_takeover"),
  });
  const inflater = engine.createInflater({
    windowBits: Number(p.get("server_max_window_bits") ?? 15),
    noContextTakeover: p.has("server_no_context_takeover"),
  });
  return {
    c,
    extensions,
    deflater,
    inflater,
    close() {
      deflater.close();
      inflater.close();
      c.close();
    },
  };
}

/** Sends a message, compressed (RSV1) unless `plain`, fragmented in `fragments` frames. */
function sendMessage(
  d: DeflateClient,
  opcode: 1 | 2,
  data: Uint8Array,
  fragments = 1,
  plain = false,
): void {
  const payload = plain ? data : d.deflater.deflate(data);
  const size = Math.ceil(payload.length / fragments) || 1;
  const frames = [];
  for (let at = 0, k = 0; k === 0 || at < payload.length; at += size, k++) {
    frames.push({
      opcode: k === 0 ? opcode : 0,
      payload: payload.subarray(at, at + size),
      fin: at + size >= payload.length,
      rsv: k === 0 && !plain ? 4 : 0,
    });
  }
  d.c.sendFrames(...frames);
}

/** Reads one message, inflating it when RSV1 is set; returns its opcode, bytes and whether it was compressed. */
async function readMessage(
  d: DeflateClient,
): Promise<{ opcode: number; data: Uint8Array; compressed: boolean }> {
  const frames: RawFrame[] = [];
  let f: RawFrame;
  do {
    f = await d.c.nextFrame(10_000);
    if (f.opcode >= 8) continue;
    frames.push(f);
  } while (!f.fin || f.opcode >= 8);
  const compressed = frames[0].rsv1;
  assert.ok(frames.slice(1).every((x) => !x.rsv1), "RSV1 only on the first frame");
  const payload = cat(...frames.map((x) => x.payload));
  const data = compressed ? d.inflater.inflate(payload, true, 1 << 30)! : payload;
  return { opcode: frames[0].opcode, data, compressed };
}

function text(n: number, seed = 0): Uint8Array {
  const words = ["alpha ", "beta ", "gamma ", "δέλτα ", '{"id":42} ', "epsilon "];
  let s = "";
  for (let k = seed; s.length < n; k++) s += words[(k * 7) % words.length];
  return enc.encode(s).subarray(0, n).filter((b) => b < 0x80); // ASCII only: cut anywhere
}

function noise(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = n * 2654435761 >>> 0;
  for (let i = 0; i < n; i++) out[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return out;
}

async function echoRound(d: DeflateClient, sizes: number[], fragments = 1): Promise<void> {
  for (const [k, n] of sizes.entries()) {
    const opcode = k % 2 === 0 ? 1 : 2;
    const data = opcode === 1 ? text(n, k) : noise(n);
    sendMessage(d, opcode, data, fragments);
    const got = await readMessage(d);
    assert.equal(got.opcode, opcode);
    assert.equal(got.data.length, data.length, `size ${n}`);
    assert.ok(got.data.every((b, i) => b === data[i]), `content of ${n} bytes`);
  }
}

const SIZES = [16, 64, 256, 1024, 4096, 16384, 65536, 131072];

describe("WebSocketServer with permessage-deflate (Autobahn 12.* and 13.*)", () => {
  let server: EchoServer;
  before(async () => {
    server = await startEcho({
      perMessageDeflate: { serverMaxWindowBits: 15, clientMaxWindowBits: 15, threshold: 0 },
    });
  });
  after(() => server.shutdown());

  const cases: [string, string][] = [
    ["13.1", "permessage-deflate"],
    ["13.2", "permessage-deflate; client_no_context_takeover"],
    ["13.3", "permessage-deflate; server_max_window_bits=9"],
    ["13.4", "permessage-deflate; server_max_window_bits=15"],
    ["13.5", "permessage-deflate; client_no_context_takeover; server_max_window_bits=9"],
    ["13.6", "permessage-deflate; client_no_context_takeover; server_max_window_bits=15"],
    ["13.7", "permessage-deflate; server_no_context_takeover; client_max_window_bits=9"],
    [
      "13.7b",
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits=15",
    ],
  ];
  for (const [name, offer] of cases) {
    it(`Autobahn ${name}: WebSocketServer echoes compressed messages of 16 B to 128 KiB with "${offer}"`, async () => {
      const d = await openDeflate(server.port, offer);
      if (offer.includes("server_max_window_bits=9")) {
        assert.match(d.extensions, /server_max_window_bits=9/);
      }
      if (offer.includes("server_no_context_takeover")) {
        assert.match(d.extensions, /server_no_context_takeover/);
      }
      if (offer.includes("client_no_context_takeover")) {
        assert.match(d.extensions, /client_no_context_takeover/);
      }
      for (let round = 0; round < 3; round++) await echoRound(d, SIZES);
      d.close();
    });
  }

  it("Autobahn 12.1.x: WebSocketServer echoes compressed messages fragmented in 1 to 8 frames, compressed back", async () => {
    const d = await openDeflate(server.port, "permessage-deflate; client_max_window_bits");
    for (const fragments of [1, 2, 3, 8]) await echoRound(d, [64, 4096, 70000], fragments);
    sendMessage(d, 1, text(5000), 4);
    assert.equal((await readMessage(d)).compressed, true);
    d.close();
  });

  it("WebSocketServer takes uncompressed messages on a deflate connection and answers with the same content", async () => {
    const d = await openDeflate(server.port, "permessage-deflate");
    for (const n of [0, 10, 3000]) {
      const data = text(n);
      sendMessage(d, 1, data, 1, true);
      const got = await readMessage(d);
      assert.deepEqual(got.data, data);
    }
    d.close();
  });

  it("WebSocketServer compresses 500 small messages with context takeover in order", async () => {
    const d = await openDeflate(server.port, "permessage-deflate");
    const sent: string[] = [];
    for (let k = 0; k < 500; k++) {
      const s = `{"seq":${k},"msg":"hello again"}`;
      sent.push(s);
      sendMessage(d, 1, enc.encode(s));
    }
    let bytes = 0;
    for (let k = 0; k < 500; k++) {
      const f = await readMessage(d);
      bytes += f.data.length;
      assert.equal(new TextDecoder().decode(f.data), sent[k]);
    }
    const wire = d.c.frames.filter((f) => f.opcode === 1).reduce((n, f) => n + f.payload.length, 0);
    assert.ok(wire < bytes / 2, `compressed on the wire: ${wire} of ${bytes} bytes`);
    d.close();
  });
});

describe("WebSocketServer permessage-deflate policy", () => {
  it("WebSocketServer negotiates by default with 12-bit windows, honours threshold and send({ compress: false })", async () => {
    const server = await startEcho({
      onMessage(ws, data, text) {
        ws.send(data, text, { compress: !new TextDecoder().decode(data).startsWith("plain") });
      },
    });
    try {
      const d = await openDeflate(server.port, "permessage-deflate; client_max_window_bits");
      assert.equal(
        d.extensions,
        "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",
      );
      const small = enc.encode("tiny"); // under the default threshold of 64 bytes
      sendMessage(d, 1, small);
      const a = await readMessage(d);
      assert.equal(a.compressed, false);
      assert.deepEqual(a.data, small);
      const big = text(1000);
      sendMessage(d, 1, big);
      assert.equal((await readMessage(d)).compressed, true);
      const plain = enc.encode("plain " + "x".repeat(500));
      sendMessage(d, 1, plain);
      const b = await readMessage(d);
      assert.equal(b.compressed, false);
      assert.deepEqual(b.data, plain);
      d.close();
    } finally {
      await server.shutdown();
    }
  });

  it("WebSocketServer declines every offer with perMessageDeflate: false and shows the agreed value in ws.extensions", async () => {
    let seen = "unset";
    const server = await startEcho({
      perMessageDeflate: false,
      onOpen: (ws) => void (seen = ws.extensions),
    });
    try {
      const c = await openWs(server.port, {
        headers: { "Sec-WebSocket-Extensions": "permessage-deflate" },
      });
      assert.equal(c.responseHeaders.get("sec-websocket-extensions"), null);
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(seen, "");
      c.close();
      server.set({ perMessageDeflate: { threshold: 0 } });
      const d = await openDeflate(server.port, "permessage-deflate");
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(seen, d.extensions);
      d.close();
    } finally {
      await server.shutdown();
    }
  });

  it("WebSocketServer declines malformed offers without failing the handshake (RFC 7692 §7.1)", async () => {
    const server = await startEcho();
    try {
      for (
        const offer of [
          "permessage-deflate; foo",
          "permessage-deflate; server_max_window_bits=8",
          "permessage-deflate; client_max_window_bits=20",
        ]
      ) {
        const c = await openWs(server.port, { headers: { "Sec-WebSocket-Extensions": offer } });
        assert.equal(c.responseHeaders.get("sec-websocket-extensions"), null, offer);
        c.close();
      }
    } finally {
      await server.shutdown();
    }
  });
});

describe("WebSocketServer permessage-deflate against bad input", () => {
  let server: EchoServer;
  before(async () => {
    server = await startEcho({ maxPayload: 1024 * 1024, perMessageDeflate: { threshold: 0 } });
  });
  after(() => server.shutdown());

  it("WebSocketServer fails RSV1 on a connection that did not negotiate deflate with 1002", async () => {
    const c = await openWs(server.port);
    const z = engine.createDeflater({
      windowBits: 15,
      memLevel: 8,
      level: 1,
      noContextTakeover: true,
    });
    c.sendFrames({ opcode: 1, payload: z.deflate(enc.encode("hello")), rsv: 4 });
    z.close();
    await expectFail(c, 1002);
    const err = server.errors.at(-1);
    assert.ok(err instanceof WsProtocolError && err.code === "WS_RESERVED_BITS");
  });

  it("WebSocketServer fails a compressed control frame (ping, close) with 1002", async () => {
    for (
      const [opcode, payload] of [[9, new Uint8Array(0)], [8, new Uint8Array([3, 232])]] as const
    ) {
      const d = await openDeflate(server.port, "permessage-deflate");
      d.c.sendFrames({ opcode, payload, rsv: 4 });
      await expectFail(d.c, 1002);
      d.close();
    }
  });

  it("WebSocketServer fails RSV1 on a continuation frame with 1002", async () => {
    const d = await openDeflate(server.port, "permessage-deflate");
    const z = d.deflater.deflate(text(2000));
    d.c.sendFrames({ opcode: 1, payload: z.subarray(0, 10), fin: false, rsv: 4 }, {
      opcode: 0,
      payload: z.subarray(10),
      rsv: 4,
    });
    await expectFail(d.c, 1002);
    d.close();
  });

  it("WebSocketServer fails corrupt compressed data with 1007", async () => {
    const d = await openDeflate(server.port, "permessage-deflate");
    d.c.sendFrames({
      opcode: 2,
      payload: new Uint8Array([0xff, 0xff, 0xff, 0x01, 0x02, 0x03]),
      rsv: 4,
    });
    await expectFail(d.c, 1007);
    const err = server.errors.at(-1);
    assert.ok(
      err instanceof WsProtocolError && err.code === "WS_INVALID_COMPRESSED_DATA",
      String(err),
    );
    d.close();
  });

  it("WebSocketServer fails invalid UTF-8 inside a compressed text message with 1007", async () => {
    const d = await openDeflate(server.port, "permessage-deflate");
    sendMessage(d, 1, new Uint8Array([0x68, 0x69, 0xed, 0xa0, 0x80]));
    await expectFail(d.c, 1007);
    d.close();
  });

  it("WebSocketServer refuses a deflate bomb with 1009 without inflating it (64 MiB of zeros, maxPayload 1 MiB)", async () => {
    const d = await openDeflate(server.port, "permessage-deflate; client_no_context_takeover");
    const bomb = d.deflater.deflate(new Uint8Array(64 * 1024 * 1024));
    assert.ok(bomb.length < 128 * 1024, `the bomb is ${bomb.length} bytes`);
    const t = performance.now();
    d.c.sendFrames({ opcode: 2, payload: bomb, rsv: 4 });
    await expectFail(d.c, 1009);
    const err = server.errors.at(-1);
    assert.ok(err instanceof WsProtocolError && err.code === "WS_MESSAGE_TOO_BIG", String(err));
    assert.ok(performance.now() - t < 5000);
    d.close();
    // The server keeps serving.
    const e = await openDeflate(server.port, "permessage-deflate");
    await echoRound(e, [100, 5000]);
    e.close();
  });
});

describe("WebSocketServer permessage-deflate memory", () => {
  it("WebSocketServer frees compression state on close: 300 connect/echo/close cycles do not grow memory", async () => {
    const server = await startEcho({
      perMessageDeflate: {
        serverMaxWindowBits: 15,
        clientMaxWindowBits: 15,
        memLevel: 8,
        threshold: 0,
      },
    });
    const mem = (globalThis as any).process.memoryUsage;
    const cycle = async (n: number) => {
      for (let k = 0; k < n; k++) {
        const ds = await Promise.all(
          Array.from({ length: 10 }, () => openDeflate(server.port, "permessage-deflate")),
        );
        for (const d of ds) await echoRound(d, [2000]);
        for (const d of ds) d.close();
        await Promise.all(ds.map((d) => d.c.closed));
      }
      await new Promise((r) => setTimeout(r, 50));
    };
    try {
      await cycle(5);
      (globalThis as any).gc?.();
      const before = mem().rss;
      await cycle(30); // 300 connections, each with about 300 KiB of zlib state while open
      (globalThis as any).gc?.();
      const grown = (mem().rss - before) / 1024 / 1024;
      assert.ok(grown < 40, `RSS grew ${grown.toFixed(1)} MiB over 300 connections`);
      assert.equal(server.size, 0);
    } finally {
      await server.shutdown();
    }
  });
});

describe("WebSocketServer permessage-deflate memory budget", () => {
  it("WebSocketServer answers no_context_takeover both ways past maxContexts and frees slots on close", async () => {
    const server = await startEcho({ perMessageDeflate: { maxContexts: 2, threshold: 0 } });
    try {
      const a = await openDeflate(server.port, "permessage-deflate");
      const b = await openDeflate(server.port, "permessage-deflate; client_no_context_takeover");
      assert.doesNotMatch(a.extensions, /no_context_takeover/);
      assert.match(b.extensions, /^permessage-deflate; client_no_context_takeover/);
      const c = await openDeflate(server.port, "permessage-deflate");
      assert.match(
        c.extensions,
        /^permessage-deflate; server_no_context_takeover; client_no_context_takeover/,
      );
      // The capped connection still echoes compressed, without contexts.
      await echoRound(c, [100, 5000, 100]);
      a.close();
      await a.c.closed;
      await new Promise((r) => setTimeout(r, 50));
      const d = await openDeflate(server.port, "permessage-deflate");
      assert.doesNotMatch(d.extensions, /no_context_takeover/, "a slot was freed");
      for (const x of [b, c, d]) x.close();
    } finally {
      await server.shutdown();
    }
  });
});

describe("WebSocketServer permessage-deflate ordering", () => {
  it("WebSocketServer keeps compressed messages in order around a message sent in pieces, pings and uncompressed sends", async () => {
    const server = await startEcho({
      perMessageDeflate: { threshold: 0, serverMaxWindowBits: 15 },
      onMessage(ws, data) {
        if (new TextDecoder().decode(data) !== "go") return;
        ws.send("one compressed " + "a".repeat(100));
        ws.sendFragment("piece 1 ", false); // a compressed message in pieces...
        ws.send("two compressed, held " + "b".repeat(100)); // ...holds this one (compressed after it)
        void ws.ping("p").catch(() => {}); // control frames may go between
        ws.send("three uncompressed " + "c".repeat(100), true, { compress: false });
        ws.sendFragment("piece 2", true); // releases the held messages, in order
        ws.send("four compressed " + "a".repeat(100));
      },
    });
    try {
      const d = await openDeflate(server.port, "permessage-deflate");
      sendMessage(d, 1, enc.encode("go"));
      const dec = new TextDecoder();
      const got: [string, boolean][] = [];
      for (let k = 0; k < 5; k++) {
        const m = await readMessage(d);
        got.push([dec.decode(m.data), m.compressed]);
      }
      assert.deepEqual(got, [
        ["one compressed " + "a".repeat(100), true],
        ["piece 1 piece 2", true],
        ["two compressed, held " + "b".repeat(100), true],
        ["three uncompressed " + "c".repeat(100), false],
        ["four compressed " + "a".repeat(100), true],
      ]);
      assert.ok(d.c.frames.some((f) => f.opcode === 9), "the ping went out");
      d.close();
    } finally {
      await server.shutdown();
    }
  });
});
