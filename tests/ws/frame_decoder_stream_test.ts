import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FrameDecoderStream } from "../../src/ws/frame_decoder_stream.ts";
import { WsProtocolError } from "../../src/ws/errors.ts";
import type { Frame } from "../../src/ws/types.ts";
import { cat, frame, fresh, latin1 } from "./_frames.ts";
import { chunkings } from "../codec/_chunkings.ts";

type Out = [number, boolean, string, boolean];

async function run(stream: FrameDecoderStream, chunks: Uint8Array[]): Promise<Out[]> {
  const reading = (async () => {
    const out: Out[] = [];
    for await (const f of stream.readable as ReadableStream<Frame>) {
      out.push([f.opcode, f.fin, latin1(f.payload), f.frameEnd]);
    }
    return out;
  })();
  const writer = stream.writable.getWriter();
  try {
    for (const c of chunks) await writer.write(c);
    await writer.close();
  } catch {
    // The readable side reports the error.
  }
  return await reading;
}

/** Every chunking of `input` (no pairs) over fresh bytes. */
function* each(input: Uint8Array): Generator<[string, Uint8Array[]]> {
  for (const [label, chunks] of chunkings(input, 0)) yield [label, fresh(chunks)];
}

describe("FrameDecoderStream", () => {
  it("FrameDecoderStream decodes frames for every chunking", async () => {
    const input = cat(
      frame({ opcode: 1, payload: "Hel", fin: false }),
      frame({ opcode: 9, payload: "p" }),
      frame({ opcode: 0, payload: "lo" }),
      frame({ opcode: 2, payload: "x".repeat(130) }),
    );
    for (const [label, chunks] of each(input)) {
      assert.deepEqual(await run(new FrameDecoderStream(), chunks), [
        [1, false, "Hel", true],
        [9, true, "p", true],
        [0, true, "lo", true],
        [2, true, "x".repeat(130), true],
      ], label);
    }
  });

  it("FrameDecoderStream errors with WsProtocolError on an unmasked client frame", async () => {
    const input = frame({ opcode: 1, payload: "hi", mask: null });
    for (const [label, chunks] of each(input)) {
      await assert.rejects(run(new FrameDecoderStream(), chunks), (err) => {
        assert.ok(err instanceof WsProtocolError, label);
        assert.equal(err.code, "WS_UNMASKED_FRAME");
        assert.equal(err.closeCode, 1002);
        return true;
      });
    }
  });

  it("FrameDecoderStream errors with WS_TRUNCATED_FRAME when input ends inside a frame", async () => {
    const input = frame({ opcode: 2, payload: "abc" }).subarray(0, 7);
    for (const [label, chunks] of each(input)) {
      await assert.rejects(run(new FrameDecoderStream(), chunks), {
        name: "WsProtocolError",
        code: "WS_TRUNCATED_FRAME",
        closeCode: 1006,
      }, label);
    }
  });

  it("FrameDecoderStream streams payload parts when streamPayload is set", async () => {
    const input = frame({ opcode: 2, payload: "abcdef" });
    const out = await run(
      new FrameDecoderStream({ streamPayload: true }),
      fresh([
        input.subarray(0, 8),
        input.subarray(8),
      ]),
    );
    assert.deepEqual(out, [[2, true, "ab", false], [2, true, "cdef", true]]);
  });

  it("FrameDecoderStream rejects non-byte chunks and invalid options", async () => {
    await assert.rejects(run(new FrameDecoderStream(), ["text" as never]), {
      name: "TypeError",
      message:
        "Cannot write to FrameDecoderStream as chunks must be Uint8Array: current value is [object String]",
    });
    assert.throws(() => new FrameDecoderStream({ maxFrameSize: 1.5 }), RangeError);
    assert.equal(new FrameDecoderStream({ maxFrameSize: 9 }).maxFrameSize, 9);
  });
});
