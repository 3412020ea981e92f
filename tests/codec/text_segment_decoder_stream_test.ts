import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type TextSegment,
  TextSegmentDecoderStream,
  type TextSegmentDecoderStreamOptions,
} from "../../src/codec/text_segment_decoder_stream.ts";
import type { Segment } from "../../src/codec/types.ts";
import { split } from "./_chunkings.ts";

async function decode(
  segments: Segment[],
  options?: TextSegmentDecoderStreamOptions,
): Promise<TextSegment[]> {
  const out: TextSegment[] = [];
  const stream = ReadableStream.from(segments).pipeThrough(new TextSegmentDecoderStream(options));
  for await (const s of stream) out.push(s);
  return out;
}

const enc = (s: string) => new TextEncoder().encode(s);

describe("TextSegmentDecoderStream", () => {
  it("TextSegmentDecoderStream decodes a character split by a maxLength cut whole", async () => {
    const b = enc("a€b");
    const out = await decode([{ bytes: b.subarray(0, 2), eol: false }, {
      bytes: b.subarray(2),
      eol: true,
    }]);
    assert.deepEqual(out, [{ text: "a", eol: false }, { text: "€b", eol: true }]);
  });

  it("TextSegmentDecoderStream ends pending characters at a terminated segment", async () => {
    const out = await decode([{ bytes: new Uint8Array([0x61, 0xe2, 0x82]), eol: true }, {
      bytes: enc("ok"),
      eol: true,
    }]);
    assert.deepEqual(out, [{ text: "a\ufffd", eol: true }, { text: "ok", eol: true }]);
  });

  it("TextSegmentDecoderStream flushes a truncated character at the end", async () => {
    const out = await decode([{ bytes: new Uint8Array([0x61, 0xe2]), eol: false }]);
    assert.deepEqual(out, [{ text: "a", eol: false }, { text: "\ufffd", eol: false }]);
  });

  it("TextSegmentDecoderStream errors on invalid bytes when fatal", async () => {
    await assert.rejects(
      decode([{ bytes: new Uint8Array([0xff]), eol: true }], { fatal: true }),
      TypeError,
    );
  });

  it("TextSegmentDecoderStream decodes latin1 and keeps a byte order mark", async () => {
    assert.deepEqual(
      await decode([{ bytes: new Uint8Array([0xe9]), eol: true }], { encoding: "latin1" }),
      [
        { text: "é", eol: true },
      ],
    );
    assert.deepEqual(await decode([{ bytes: enc("\ufeffx"), eol: true }]), [{
      text: "\ufeffx",
      eol: true,
    }]);
    const s = new TextSegmentDecoderStream({ encoding: "latin1", fatal: true });
    assert.equal(s.encoding, "windows-1252");
    assert.equal(s.fatal, true);
  });

  it("TextSegmentDecoderStream rejects an unknown encoding with a RangeError", () => {
    assert.throws(() => new TextSegmentDecoderStream({ encoding: "nope" }), {
      name: "RangeError",
      message:
        'Cannot create TextSegmentDecoderStream as encoding must be a TextDecoder label such as "utf-8": current value is "nope"',
    });
  });

  it("TextSegmentDecoderStream gives the same text for any cut of the bytes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: "grapheme", maxLength: 40 }).chain((s) =>
          fc.tuple(fc.constant(s), fc.array(fc.integer({ min: 0, max: enc(s).length })))
        ),
        async ([s, cuts]) => {
          const pieces = split(enc(s), cuts);
          const segments = pieces.map((bytes, i) => ({ bytes, eol: i === pieces.length - 1 }));
          const out = await decode(segments);
          assert.equal(out.map((t) => t.text).join(""), s);
        },
      ),
      { numRuns: 200 },
    );
  });
});
