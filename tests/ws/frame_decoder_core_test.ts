import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { FrameDecoderCore } from "../../src/ws/frame_decoder_core.ts";
import {
  arbFrame,
  bigChunkings,
  cat,
  checkFrameError,
  checkFrames,
  decode,
  frame,
  fresh,
  type Got,
  latin1,
  split,
} from "./_frames.ts";
import { arbCuts, withPieceCopy } from "../codec/_chunkings.ts";

const text = (payload: string, fin = true): Got => [1, fin, false, payload, true];

describe("FrameDecoderCore", () => {
  it("FrameDecoderCore decodes the RFC 6455 §5.7 examples", () => {
    const hello = [0x48, 0x65, 0x6c, 0x6c, 0x6f];
    checkFrames(new Uint8Array([0x81, 0x05, ...hello]), [text("Hello")], { requireMask: false });
    checkFrames(
      new Uint8Array([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]),
      [text("Hello")],
    );
    checkFrames(new Uint8Array([0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f]), [
      text("Hel", false),
      [0, true, false, "lo", true],
    ], { requireMask: false });
    checkFrames(new Uint8Array([0x89, 0x05, ...hello]), [[9, true, false, "Hello", true]], {
      requireMask: false,
    });
  });

  it("FrameDecoderCore decodes 7-bit, 16-bit and 64-bit lengths at their edges", () => {
    for (const [len, bits] of [[0, 7], [1, 7], [125, 7], [126, 16], [200, 16]] as const) {
      const payload = "x".repeat(len);
      checkFrames(frame({ opcode: 2, payload }), [[2, true, false, payload, true]]);
      assert.equal(frame({ opcode: 2, payload }).length, len + 2 + 4 + (bits === 16 ? 2 : 0));
    }
    for (const len of [65535, 65536, 70000]) {
      const payload = new Uint8Array(len).map((_, i) => i * 7);
      const input = frame({ opcode: 2, payload });
      for (const streamPayload of [false, true]) {
        for (const [label, chunks] of bigChunkings(input)) {
          const run = decode(new FrameDecoderCore({ streamPayload }), chunks);
          assert.deepEqual(run, { frames: [[2, true, false, latin1(payload), true]] }, label);
        }
      }
    }
  });

  it("FrameDecoderCore accepts non-minimal lengths unless strictLengths is set", () => {
    const input = cat(
      frame({ opcode: 1, payload: "a", lengthBits: 16 }),
      frame({ opcode: 1, payload: "b", lengthBits: 64 }),
    );
    checkFrames(input, [text("a"), text("b")]);
    checkFrameError(input, 3, "WS_NON_MINIMAL_LENGTH", 1002, { strictLengths: true });
    const big = frame({ opcode: 2, payload: "c".repeat(300), lengthBits: 64 });
    checkFrameError(big, 9, "WS_NON_MINIMAL_LENGTH", 1002, { strictLengths: true });
  });

  it("FrameDecoderCore refuses a 2^63 length with 1002 from the header alone", () => {
    const input = frame({ opcode: 2, claimLength: 1n << 63n });
    assert.equal(input.length, 14);
    checkFrameError(input, 9, "WS_LENGTH_OVERFLOW", 1002);
    const max = frame({ opcode: 2, claimLength: (1n << 63n) - 1n });
    checkFrameError(max, 9, "WS_FRAME_TOO_BIG", 1009);
  });

  it("FrameDecoderCore refuses a 64-bit length just over maxFrameSize before buffering", () => {
    const options = { maxFrameSize: 70000 };
    const ok = new Uint8Array(70000);
    const over = frame({ opcode: 2, claimLength: 70001n }); // header only: no payload sent
    checkFrameError(over, 9, "WS_FRAME_TOO_BIG", 1009, options);
    checkFrameError(frame({ opcode: 2, payload: "x".repeat(126) }), 3, "WS_FRAME_TOO_BIG", 1009, {
      maxFrameSize: 125,
    });
    checkFrameError(frame({ opcode: 1, payload: "xy" }), 1, "WS_FRAME_TOO_BIG", 1009, {
      maxFrameSize: 1,
    });
    const run = decode(new FrameDecoderCore(options), [frame({ opcode: 2, payload: ok })]);
    assert.equal(run.frames[0][3].length, 70000);
    // Control frames are limited by the RFC only.
    checkFrames(
      frame({ opcode: 9, payload: "p".repeat(125) }),
      [[9, true, false, "p".repeat(125), true]],
      {
        maxFrameSize: 0,
      },
    );
  });

  it("FrameDecoderCore rejects an unmasked client frame with 1002", () => {
    checkFrameError(frame({ opcode: 1, payload: "hi", mask: null }), 1, "WS_UNMASKED_FRAME", 1002);
    checkFrameError(
      cat(frame({ opcode: 9 }), frame({ opcode: 10, mask: null })),
      7,
      "WS_UNMASKED_FRAME",
      1002,
      {},
      [[9, true, false, "", true]],
    );
  });

  it("FrameDecoderCore accepts unmasked and masked frames when requireMask is false", () => {
    checkFrames(
      cat(frame({ opcode: 2, payload: "ab", mask: null }), frame({ opcode: 2, payload: "cd" })),
      [
        [2, true, false, "ab", true],
        [2, true, false, "cd", true],
      ],
      { requireMask: false },
    );
  });

  it("FrameDecoderCore rejects RSV bits that no extension defines with 1002", () => {
    for (const rsv of [1, 2, 3, 4, 5, 6, 7]) {
      checkFrameError(frame({ opcode: 1, rsv, payload: "x" }), 0, "WS_RESERVED_BITS", 1002);
    }
    checkFrameError(frame({ opcode: 9, rsv: 4 }), 0, "WS_RESERVED_BITS", 1002);
  });

  it("FrameDecoderCore accepts RSV1 on text and binary frames only when allowRsv1 is set", () => {
    const allow = { allowRsv1: true };
    checkFrames(frame({ opcode: 2, rsv: 4, payload: "z" }), [[2, true, true, "z", true]], allow);
    checkFrames(
      frame({ opcode: 1, rsv: 4, payload: "z", fin: false }),
      [[1, false, true, "z", true]],
      allow,
    );
    for (const opcode of [0, 8, 9, 10]) {
      checkFrameError(frame({ opcode, rsv: 4 }), 0, "WS_RESERVED_BITS", 1002, allow);
    }
    checkFrameError(frame({ opcode: 2, rsv: 2 }), 0, "WS_RESERVED_BITS", 1002, allow);
  });

  it("FrameDecoderCore rejects reserved opcodes 3-7 and 11-15 with 1002", () => {
    for (const opcode of [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]) {
      const input = cat(frame({ opcode: 2, payload: "ok" }), frame({ opcode, payload: "x" }));
      checkFrameError(input, 8, "WS_RESERVED_OPCODE", 1002, {}, [[2, true, false, "ok", true]]);
    }
  });

  it("FrameDecoderCore rejects fragmented control frames with 1002", () => {
    for (const opcode of [8, 9, 10]) {
      checkFrameError(
        frame({ opcode, fin: false, payload: "a" }),
        0,
        "WS_FRAGMENTED_CONTROL",
        1002,
      );
    }
  });

  it("FrameDecoderCore rejects a control frame over 125 bytes with 1002", () => {
    for (const opcode of [8, 9, 10]) {
      checkFrameError(frame({ opcode, payload: "p".repeat(126) }), 1, "WS_CONTROL_TOO_LONG", 1002);
      checkFrameError(frame({ opcode, claimLength: 1n << 40n }), 1, "WS_CONTROL_TOO_LONG", 1002);
    }
  });

  it("FrameDecoderCore reports the end of input inside a frame as WS_TRUNCATED_FRAME", () => {
    const whole = frame({ opcode: 2, payload: "abcdef" });
    for (let cut = 1; cut < whole.length; cut++) {
      const run = decode(new FrameDecoderCore(), fresh([whole.subarray(0, cut)]));
      assert.deepEqual(run.error, {
        code: "WS_TRUNCATED_FRAME",
        closeCode: 1006,
        chunk: 1,
        name: "WsProtocolError",
      });
    }
  });

  it("FrameDecoderCore emits a frame inside one chunk as an unmasked view of it", () =>
    withPieceCopy(false, () => {
      const chunk = cat(frame({ opcode: 2, payload: "view" }), frame({ opcode: 9, payload: "p" }));
      const seen: Uint8Array[] = [];
      new FrameDecoderCore().push(chunk, (p) => seen.push(p));
      assert.equal(seen.length, 2);
      for (const p of seen) assert.equal(p.buffer, chunk.buffer);
      assert.equal(latin1(seen[0]), "view");
      assert.equal(latin1(chunk.subarray(6, 10)), "view"); // unmasked in place
    }));

  it("FrameDecoderCore emits payloads up to 128 bytes as unmasked copies when pieceCopy says so", () =>
    withPieceCopy(true, () => {
      const long = "L".repeat(129);
      const chunk = cat(
        frame({ opcode: 2, payload: "copy" }),
        frame({ opcode: 1, payload: "x".repeat(128) }),
        frame({ opcode: 2, payload: long }),
      );
      const seen: [string, boolean][] = [];
      new FrameDecoderCore().push(chunk, (p) => seen.push([latin1(p), p.buffer === chunk.buffer]));
      assert.deepEqual(seen, [["copy", false], ["x".repeat(128), false], [long, true]]);
    }));

  it("FrameDecoderCore streams data frame parts as views and keeps control frames whole", () => {
    const input = cat(
      frame({ opcode: 1, payload: "abcdefgh", fin: false }),
      frame({ opcode: 9, payload: "ping" }),
      frame({ opcode: 0, payload: "ij" }),
    );
    const chunks = fresh(split(input, [8, 10, 17, 20]));
    const run = decode(new FrameDecoderCore({ streamPayload: true }), chunks, false);
    assert.deepEqual(run.frames, [
      [1, false, false, "ab", false],
      [1, false, false, "cd", false],
      [1, false, false, "efgh", true],
      [9, true, false, "ping", true],
      [0, true, false, "ij", true],
    ]);
  });

  it("FrameDecoderCore stops after the frame being emitted when stop is called", () => {
    const core = new FrameDecoderCore();
    const input = cat(frame({ opcode: 8 }), frame({ opcode: 99 & 15 }));
    const seen: number[] = [];
    assert.equal(core.push(input, (_p, op) => (seen.push(op), core.stop())), undefined);
    assert.deepEqual(seen, [8]);
    assert.equal(core.push(frame({ opcode: 1 }), () => assert.fail("stopped")), undefined);
    assert.equal(core.flush(), undefined);
  });

  it("FrameDecoderCore gives the same frames for any frames and any chunking", () => {
    fc.assert(
      fc.property(
        fc.array(arbFrame(), { maxLength: 8 }).chain((frames) => {
          const input = cat(...frames.map(frame));
          return fc.tuple(fc.constant(frames), fc.constant(input), arbCuts(input.length));
        }),
        fc.boolean(),
        fc.integer({ min: 0, max: 3 }),
        fc.boolean(),
        ([frames, input, cuts], streamPayload, offset, copies) => {
          // Shift the input in its buffer so the 32-bit unmasking sees every alignment.
          const shifted = new Uint8Array(input.length + offset).subarray(offset);
          shifted.set(input);
          let run: ReturnType<typeof decode> | undefined;
          withPieceCopy(copies, () => {
            run = decode(new FrameDecoderCore({ streamPayload }), split(shifted, cuts));
          });
          assert.deepEqual(
            run,
            {
              frames: frames.map((f): Got => [
                f.opcode,
                f.fin ?? true,
                false,
                latin1(f.payload as Uint8Array),
                true,
              ]),
            },
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it("FrameDecoderCore rejects invalid options with TypeError or RangeError", () => {
    assert.throws(() => new FrameDecoderCore({ maxFrameSize: -1 }), {
      name: "RangeError",
      message:
        "Cannot create FrameDecoderCore as maxFrameSize must be an integer >= 0: current value is -1",
    });
    assert.throws(() => new FrameDecoderCore({ maxFrameSize: "1" as never }), TypeError);
    assert.throws(() => new FrameDecoderCore({ requireMask: 1 as never }), {
      name: "TypeError",
      message:
        "Cannot create FrameDecoderCore as requireMask must be a boolean: current value is 1",
    });
    assert.equal(new FrameDecoderCore().maxFrameSize, 64 * 1024 * 1024);
  });
});
