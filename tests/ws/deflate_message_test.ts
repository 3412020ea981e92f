/**
 * permessage-deflate in the message layer (RFC 7692 §6-§7.2) over the
 * `node:zlib` engine: compressed messages whole or fragmented, split at any
 * byte; RSV1 where it is not allowed; corrupt data (1007); deflate bombs
 * refused (1009) before they are inflated in full; and the engine itself
 * (context takeover, reset, owned results).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import zlib from "node:zlib";
import { MessageCore } from "../../src/ws/message_core.ts";
import { zlibEngine } from "../../src/runtime/zlib.ts";
import type { Inflater } from "../../src/ws/deflate_engine.ts";
import { cat, frame, freshChunkings, latin1, type RefFrame } from "./_frames.ts";
import { type Event, runMessages } from "./_messages.ts";

const enc = new TextEncoder();
const engine = zlibEngine();

/** A reference compressor independent of ours: one message, no context, tail removed (§7.2.1). */
function deflateRef(data: Uint8Array | string): Uint8Array {
  const bytes = typeof data === "string" ? enc.encode(data) : data;
  const out = zlib.deflateRawSync(bytes, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  assert.deepEqual([...out.subarray(-4)], [0, 0, 0xff, 0xff]);
  return new Uint8Array(out.subarray(0, out.length - 4));
}

function inflater(noContextTakeover = false): Inflater {
  return engine.createInflater({ windowBits: 15, noContextTakeover });
}

/** A fresh core with its own inflater per run. */
function core(options: { bufferMessage?: boolean; maxPayload?: number } = {}): MessageCore {
  return new MessageCore({ ...options, inflater: inflater() });
}

/** Every chunking, buffered and streamed, gives `events` (each run with a fresh inflater). */
function check(input: Uint8Array, events: Event[], maxPayload?: number): void {
  for (const bufferMessage of [true, false]) {
    for (const [label, chunks] of freshChunkings(input, 12)) {
      const run = runMessages(core({ bufferMessage, maxPayload }), chunks);
      assert.deepEqual(run, { events }, `${label}, bufferMessage ${bufferMessage}`);
    }
  }
}

function fail(
  input: Uint8Array,
  code: string,
  closeCode: number,
  events: Event[] = [],
  maxPayload?: number,
): void {
  for (const bufferMessage of [true, false]) {
    for (const [label, chunks] of freshChunkings(input, 0)) {
      const run = runMessages(core({ bufferMessage, maxPayload }), chunks);
      assert.equal(run.error?.code, code, label);
      assert.equal(run.error?.closeCode, closeCode, label);
      if (bufferMessage) assert.deepEqual(run.events, events, label);
    }
  }
}

const compressed = (opcode: number, payload: Uint8Array, fin = true): RefFrame => ({
  opcode,
  payload,
  fin,
  rsv: 4,
});

describe("MessageCore with permessage-deflate", () => {
  it("MessageCore inflates a compressed text message split at every byte (Autobahn 12.1.1 style)", () => {
    const input = frame(compressed(1, deflateRef("Hello, deflate! Hello, deflate!")));
    check(input, [["text", "Hello, deflate! Hello, deflate!", true]]);
  });

  it("MessageCore inflates a compressed binary message and an empty compressed message", () => {
    const data = new Uint8Array(300).map((_, i) => i % 7);
    const input = cat(frame(compressed(2, deflateRef(data))), frame(compressed(1, deflateRef(""))));
    check(input, [["binary", latin1(data), true], ["text", "", true]]);
  });

  it("MessageCore inflates a compressed message fragmented over three frames with a ping between (RSV1 on the first only, §6.1)", () => {
    const z = deflateRef("fragmented and compressed, fragmented and compressed");
    const input = cat(
      frame(compressed(1, z.subarray(0, 5), false)),
      frame({ opcode: 0, payload: z.subarray(5, 9), fin: false }),
      frame({ opcode: 9, payload: "p" }),
      frame({ opcode: 0, payload: z.subarray(9) }),
    );
    check(input, [["ping", "p"], [
      "text",
      "fragmented and compressed, fragmented and compressed",
      true,
    ]]);
  });

  it("MessageCore mixes compressed and uncompressed messages and keeps the context across messages", () => {
    const d = engine.createDeflater({
      windowBits: 15,
      memLevel: 8,
      level: 6,
      noContextTakeover: false,
    });
    const a = d.deflate(enc.encode("context takeover context takeover"));
    const b = d.deflate(enc.encode("context takeover context takeover")); // refers back into a
    d.close();
    assert.ok(b.length < a.length, `second message shorter: ${b.length} < ${a.length}`);
    const input = cat(
      frame(compressed(1, a)),
      frame({ opcode: 1, payload: "plain" }),
      frame(compressed(1, b)),
    );
    check(input, [
      ["text", "context takeover context takeover", true],
      ["text", "plain", true],
      ["text", "context takeover context takeover", true],
    ]);
  });

  it("MessageCore refuses RSV1 without an inflater (not negotiated) with 1002", () => {
    const run = runMessages(new MessageCore(), [frame(compressed(1, deflateRef("x")))]);
    assert.equal(run.error?.code, "WS_RESERVED_BITS");
    assert.equal(run.error?.closeCode, 1002);
  });

  it("MessageCore refuses RSV1 on a continuation frame with 1002 (§6.1)", () => {
    const z = deflateRef("abcdef");
    const input = cat(
      frame(compressed(1, z.subarray(0, 2), false)),
      frame(compressed(0, z.subarray(2))),
    );
    fail(input, "WS_RESERVED_BITS", 1002);
  });

  it("MessageCore refuses a compressed control frame with 1002 (§6.1)", () => {
    for (const opcode of [8, 9, 10]) {
      const payload = opcode === 8 ? new Uint8Array([3, 232]) : new Uint8Array(0);
      fail(frame({ opcode, payload, rsv: 4 }), "WS_RESERVED_BITS", 1002);
    }
  });

  it("MessageCore fails corrupt compressed data with 1007 (WS_INVALID_COMPRESSED_DATA)", () => {
    const input = frame(compressed(2, new Uint8Array([0xff, 0xff, 0xff, 0x00, 0x12])));
    fail(input, "WS_INVALID_COMPRESSED_DATA", 1007);
  });

  it("MessageCore validates UTF-8 on the inflated text and fails invalid text with 1007", () => {
    const bad = deflateRef(new Uint8Array([0x48, 0x69, 0xc0, 0xaf]));
    fail(frame(compressed(1, bad)), "WS_INVALID_UTF8", 1007);
    // Valid UTF-8 whose compressed bytes are not UTF-8 at all is fine.
    const ok = deflateRef("κόσμε ".repeat(20));
    check(frame(compressed(1, ok)), [["text", latin1(enc.encode("κόσμε ".repeat(20))), true]]);
  });

  it("MessageCore refuses a deflate bomb with 1009 once the inflated size passes maxPayload", () => {
    const bomb = deflateRef(new Uint8Array(8 * 1024 * 1024)); // 8 MiB of zeros in about 8 KiB
    assert.ok(bomb.length < 16 * 1024, `bomb is small: ${bomb.length}`);
    const input = frame(compressed(2, bomb));
    for (const bufferMessage of [true, false]) {
      const run = runMessages(core({ bufferMessage, maxPayload: 64 * 1024 }), [input.slice()]);
      assert.deepEqual(run.error, { code: "WS_MESSAGE_TOO_BIG", closeCode: 1009, chunk: 0 });
      assert.deepEqual(run.events, []);
    }
    // Exactly maxPayload inflated bytes pass.
    const edge = frame(compressed(2, deflateRef(new Uint8Array(64 * 1024))));
    const run = runMessages(core({ maxPayload: 64 * 1024 }), [edge]);
    assert.equal(run.error, undefined);
    assert.equal(run.events.length, 1);
  });

  it("MessageCore bounds the compressed size of a message by maxPayload too", () => {
    const noise = new Uint8Array(3000).map(() => Math.floor(Math.random() * 256));
    const z = deflateRef(noise); // incompressible: a little larger than the input
    const run = runMessages(core({ maxPayload: 2000 }), [frame(compressed(2, z))]);
    assert.equal(run.error?.closeCode, 1009);
  });

  it("MessageCore gives the same messages for any chunking of compressed, fragmented input (property)", () => {
    const texts = fc.array(fc.string({ maxLength: 200 }), { minLength: 1, maxLength: 5 });
    fc.assert(
      fc.property(
        texts,
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.nat(),
        (msgs, cuts, fragSeed) => {
          const d = engine.createDeflater({
            windowBits: 15,
            memLevel: 8,
            level: 6,
            noContextTakeover: false,
          });
          const frames: Uint8Array[] = [];
          for (const m of msgs) {
            const z = d.deflate(enc.encode(m));
            // Fragment the compressed payload at one place derived from the seed.
            const at = z.length === 0 ? 0 : fragSeed % (z.length + 1);
            if (at === 0 || at === z.length) frames.push(frame(compressed(1, z)));
            else {frames.push(
                frame(compressed(1, z.subarray(0, at), false)),
                frame({ opcode: 0, payload: z.subarray(at) }),
              );}
          }
          d.close();
          const input = cat(...frames);
          const expected: Event[] = msgs.map((m) => ["text", latin1(enc.encode(m)), true]);
          const positions = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) =>
            a - b
          );
          const chunks: Uint8Array[] = [];
          let prev = 0;
          for (const p of [...positions, input.length]) {
            chunks.push(input.slice(prev, p));
            prev = p;
          }
          for (const bufferMessage of [true, false]) {
            const run = runMessages(core({ bufferMessage }), chunks.map((c) => c.slice()));
            assert.deepEqual(run, { events: expected });
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("zlibEngine", () => {
  it("zlibEngine deflates what zlib inflates (and the reverse), with and without context takeover", () => {
    for (const noContextTakeover of [false, true]) {
      const d = engine.createDeflater({ windowBits: 15, memLevel: 8, level: 1, noContextTakeover });
      const i = inflater(noContextTakeover);
      const ref = zlib.createInflateRaw();
      const msg = enc.encode("the same words again and again, the same words again and again");
      const sizes: number[] = [];
      for (let k = 0; k < 4; k++) {
        const z = d.deflate(msg);
        sizes.push(z.length);
        // Our inflater, and for the first message zlib's one-shot inflate.
        assert.deepEqual(i.inflate(z, true, 1000), msg);
        if (k === 0 || noContextTakeover) {
          const back = zlib.inflateRawSync(cat(z, new Uint8Array([0, 0, 255, 255])), {
            finishFlush: zlib.constants.Z_SYNC_FLUSH,
          });
          assert.deepEqual(new Uint8Array(back), msg);
        }
      }
      if (noContextTakeover) {
        assert.ok(sizes.every((s) => s === sizes[0]), `same size each time: ${sizes}`);
      } else assert.ok(sizes[1] < sizes[0], `context makes the next smaller: ${sizes}`);
      d.close();
      i.close();
      ref.close();
    }
  });

  it("zlibEngine results are owned: a later call does not change an earlier result", () => {
    const d = engine.createDeflater({
      windowBits: 12,
      memLevel: 5,
      level: 1,
      noContextTakeover: false,
    });
    const i = inflater();
    const a = d.deflate(enc.encode("first message"));
    const aCopy = a.slice();
    const b = d.deflate(enc.encode("second, different message"));
    assert.deepEqual(a, aCopy);
    const x = i.inflate(a, true, 100)!;
    const y = i.inflate(b, true, 100)!;
    assert.equal(new TextDecoder().decode(x), "first message");
    assert.equal(new TextDecoder().decode(y), "second, different message");
    d.close();
    i.close();
  });

  it("zlibEngine inflates large messages across its output chunks, in parts", () => {
    const big = new Uint8Array(200_000).map((_, k) => (k * 31) % 251);
    const z = deflateRef(big);
    const i = inflater();
    const parts = [
      i.inflate(z.subarray(0, 1000), false, 1e6)!,
      i.inflate(z.subarray(1000), true, 1e6)!,
    ];
    assert.deepEqual(cat(...parts), big);
    i.close();
  });

  it("zlibEngine stops a 1 GiB deflate bomb at maxOutput without inflating it (memory stays flat)", () => {
    // Sync-flushed segments of independent compressors concatenate into one
    // valid stream: 1024 x (1 MiB of zeros) in about 1 MB.
    const piece = deflateRef(new Uint8Array(1024 * 1024));
    const segment = cat(piece, new Uint8Array([0, 0, 255, 255])); // keep each segment's flush
    const bomb = new Uint8Array(segment.length * 1024);
    for (let k = 0; k < 1024; k++) bomb.set(segment, k * segment.length);
    const rss = () => (globalThis as any).process.memoryUsage().rss as number;
    const before = rss();
    const t = performance.now();
    const i = inflater();
    assert.equal(i.inflate(bomb, true, 1024 * 1024), undefined);
    i.close();
    const grown = (rss() - before) / 1024 / 1024;
    assert.ok(grown < 64, `RSS grew ${grown.toFixed(0)} MiB for a 1 GiB bomb`);
    assert.ok(performance.now() - t < 2000, `stopped early: ${(performance.now() - t).toFixed(0)} ms`);
    // The same bomb under a large enough limit really is 1 GiB (inflated in 1 MiB steps here).
    const j = inflater();
    let total = 0;
    for (let k = 0; k < 1024; k++) total += j.inflate(segment, false, 2 * 1024 * 1024)!.length;
    j.close();
    assert.equal(total, 1024 * 1024 * 1024);
  });

  it("zlibEngine stops inflating at maxOutput (returns undefined) and throws on corrupt data", () => {
    const i = inflater();
    assert.equal(i.inflate(deflateRef(new Uint8Array(1_000_000)), true, 10_000), undefined);
    i.close();
    const j = inflater();
    assert.throws(() => j.inflate(new Uint8Array([0xff, 0xfe, 0xfd]), true, 1000));
    j.close();
  });
});
