import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FrameEncoderStream, type OutgoingFrame } from "../../src/ws/frame_encoder_stream.ts";
import { FrameDecoderCore } from "../../src/ws/frame_decoder_core.ts";
import { decode } from "./_frames.ts";

async function encode(stream: FrameEncoderStream, frames: OutgoingFrame[]): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const done = ReadableStream.from(frames).pipeThrough(stream).pipeTo(
    new WritableStream({ write: (c) => void out.push(c) }),
  );
  await done;
  return out;
}

describe("FrameEncoderStream", () => {
  it("FrameEncoderStream round-trips text, binary, fragments and control frames", async () => {
    const chunks = await encode(new FrameEncoderStream({ mask: true, maxFrameSize: 3 }), [
      { opcode: 1, payload: "héllo" },
      { opcode: 2, payload: new Uint8Array([1, 2]), fin: false },
      { opcode: 9, payload: "ping" },
      { opcode: 0, payload: new Uint8Array([3]) },
    ]);
    const run = decode(new FrameDecoderCore(), chunks);
    assert.deepEqual(run.frames.map(([op, fin, , p]) => [op, fin, p]), [
      [1, false, "h\xc3\xa9"],
      [0, true, "llo"],
      [2, false, "\x01\x02"],
      [9, true, "ping"],
      [0, true, "\x03"],
    ]);
  });

  it("FrameEncoderStream writes header and large payload as separate chunks", async () => {
    const payload = new Uint8Array(4096);
    const chunks = await encode(new FrameEncoderStream(), [{ opcode: 2, payload }]);
    assert.equal(chunks.length, 2);
    assert.equal(chunks[0].length, 4);
    assert.equal(chunks[1], payload);
  });

  it("FrameEncoderStream errors on an invalid frame", async () => {
    await assert.rejects(
      encode(new FrameEncoderStream(), [{ opcode: 9, payload: "x".repeat(126) }]),
      RangeError,
    );
    await assert.rejects(encode(new FrameEncoderStream(), [{ opcode: 2, payload: 5 as never }]), {
      name: "TypeError",
      message:
        "Cannot write to FrameEncoderStream as payload must be a Uint8Array or a string: current value is [object Number]",
    });
    assert.equal(new FrameEncoderStream({ maxFrameSize: 10 }).maxFrameSize, 10);
  });
});
