import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { FrameEncoder, frameHeaderSize, writeFrameHeader } from "../../src/ws/frame_encoder.ts";
import { FrameDecoderCore } from "../../src/ws/frame_decoder_core.ts";
import { arbCuts } from "../codec/_chunkings.ts";
import { cat, decode, frame, type Got, latin1, split } from "./_frames.ts";

function encodeAll(
  encoder: FrameEncoder,
  opcode: number,
  payload: Uint8Array,
  fin = true,
): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  encoder.encode(opcode, payload, (c) => chunks.push(c), fin);
  return chunks;
}

describe("FrameEncoder", () => {
  it("FrameEncoder writes 2, 4 and 10-byte headers at the length edges", () => {
    for (const [len, size] of [[0, 2], [125, 2], [126, 4], [65535, 4], [65536, 10]] as const) {
      assert.equal(frameHeaderSize(len, false), size);
      assert.equal(frameHeaderSize(len, true), size + 4);
      const head = new Uint8Array(size);
      assert.equal(writeFrameHeader(head, 0, 2, len), size);
      // Same bytes as the reference builder's header.
      const ref = frame({ opcode: 2, claimLength: BigInt(len), mask: null });
      assert.deepEqual([...head], [...ref]);
    }
    const head = new Uint8Array(14);
    writeFrameHeader(head, 0, 1, 2 ** 53 - 1, false, true, new Uint8Array([1, 2, 3, 4]));
    assert.deepEqual([...head], [
      0x41,
      0xff,
      0,
      0x1f,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      1,
      2,
      3,
      4,
    ]);
  });

  it("FrameEncoder masks with a given key like the RFC 6455 §5.7 example", () => {
    const chunks = encodeAll(
      new FrameEncoder({ mask: new Uint8Array([0x37, 0xfa, 0x21, 0x3d]) }),
      1,
      new TextEncoder().encode("Hello"),
    );
    assert.deepEqual(chunks.map((c) => [...c]), [
      [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58],
    ]);
  });

  it("FrameEncoder draws a fresh random key per frame and never modifies the payload", () => {
    const encoder = new FrameEncoder({ mask: true });
    const payload = new Uint8Array(2000).fill(7);
    const keys = new Set<string>();
    for (let i = 0; i < 600; i++) {
      const [chunk] = encodeAll(encoder, 2, payload);
      keys.add(latin1(chunk.subarray(4, 8)));
      const run = decode(new FrameDecoderCore(), [chunk]);
      assert.equal(run.frames[0][3], latin1(payload));
    }
    assert.ok(keys.size > 590, `${keys.size} distinct keys`);
    assert.ok(payload.every((b) => b === 7));
  });

  it("FrameEncoder writes a large payload as its own chunk without copying it", () => {
    const payload = new Uint8Array(5000);
    const chunks = encodeAll(new FrameEncoder(), 2, payload);
    assert.equal(chunks.length, 2);
    assert.deepEqual([...chunks[0]], [0x82, 126, 0x13, 0x88]);
    assert.equal(chunks[1], payload);
    const small = encodeAll(new FrameEncoder(), 1, new Uint8Array(1024));
    assert.equal(small.length, 1);
    assert.equal(small[0].length, 1028);
  });

  it("FrameEncoder fragments text and binary at maxFrameSize, RSV1 on the first frame only", () => {
    const chunks: Uint8Array[] = [];
    const payload = new Uint8Array(2500).map((_, i) => i);
    new FrameEncoder({ maxFrameSize: 1000 }).encode(2, payload, (c) => chunks.push(c), true, true);
    const run = decode(new FrameDecoderCore({ requireMask: false, allowRsv1: true }), chunks);
    assert.deepEqual(run.frames.map(([op, fin, rsv1, p]) => [op, fin, rsv1, p.length]), [
      [2, false, true, 1000],
      [0, false, false, 1000],
      [0, true, false, 500],
    ]);
    assert.equal(run.frames.map((f) => f[3]).join(""), latin1(payload));
    // An open message stays open.
    const open = encodeAll(new FrameEncoder({ maxFrameSize: 2 }), 1, new Uint8Array(4), false);
    assert.deepEqual(open.map((c) => c[0]), [0x01, 0x00]);
    // Control frames are never fragmented.
    assert.equal(
      encodeAll(new FrameEncoder({ maxFrameSize: 1 }), 9, new Uint8Array(100)).length,
      1,
    );
  });

  it("FrameEncoder refuses control frames that are long, fragmented or compressed, and bad opcodes", () => {
    const e = new FrameEncoder();
    const none = () => assert.fail("nothing is emitted");
    assert.throws(() => e.encode(9, new Uint8Array(126), none), RangeError);
    assert.throws(() => e.encode(8, new Uint8Array(2), none, false), RangeError);
    assert.throws(() => e.encode(10, new Uint8Array(0), none, true, true), RangeError);
    for (const opcode of [3, 7, 11, 15]) {
      assert.throws(() => e.encode(opcode, new Uint8Array(0), none), {
        name: "RangeError",
        message: `Cannot encode a frame as opcode must be 0-2 or 8-10: current value is ${opcode}`,
      });
    }
  });

  it("FrameEncoder rejects invalid options with TypeError or RangeError", () => {
    assert.throws(() => new FrameEncoder({ maxFrameSize: 0 }), {
      name: "RangeError",
      message:
        "Cannot create FrameEncoder as maxFrameSize must be an integer >= 1: current value is 0",
    });
    assert.throws(() => new FrameEncoder({ mask: new Uint8Array(3) }), RangeError);
    assert.throws(() => new FrameEncoder({ mask: "yes" as never }), TypeError);
    assert.equal(new FrameEncoder().maxFrameSize, 16 * 1024 * 1024);
  });

  it("FrameEncoder round-trips through FrameDecoderCore for any frames and any chunking", () => {
    const arb = fc.array(
      fc.record({
        opcode: fc.constantFrom(1, 2, 9, 10),
        payload: fc.uint8Array({ maxLength: 3000, size: "max" }),
      }).map((f) => f.opcode > 7 ? { ...f, payload: f.payload.subarray(0, 125) } : f),
      { maxLength: 6 },
    );
    fc.assert(
      fc.property(
        arb,
        fc.boolean(),
        fc.integer({ min: 1, max: 4000 }),
        arbCuts(20000),
        (frames, masked, maxFrameSize, cuts) => {
          const encoder = new FrameEncoder({ mask: masked, maxFrameSize });
          const chunks: Uint8Array[] = [];
          for (const f of frames) encoder.encode(f.opcode, f.payload, (c) => chunks.push(c));
          const input = cat(...chunks);
          const run = decode(
            new FrameDecoderCore({ requireMask: masked }),
            split(input, cuts.filter((c) => c <= input.length)),
          );
          assert.equal(run.error, undefined);
          // Rejoin fragments into messages to compare.
          const got: Got[] = [];
          for (const f of run.frames) {
            if (f[0] === 0) got[got.length - 1][3] += f[3];
            else got.push(f);
          }
          assert.deepEqual(
            got.map((f) => [f[0], f[3]]),
            frames.map((f) => [f.opcode, latin1(f.payload)]),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});
