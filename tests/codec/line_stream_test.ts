import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { LineStream } from "../../src/codec/line_stream.ts";
import { arbCuts, arbInput, bytes, forEveryChunkingAsync, runStream, split } from "./_chunkings.ts";
import { refLines } from "./_reference.ts";

describe("LineStream", () => {
  it("LineStream ends lines at CRLF, LF and CR for every chunking", async () => {
    const input = bytes("a\r\nb\n\nc\r\rd\r\n");
    const expected = refLines(input, 2048);
    assert.deepEqual(expected, [["a", true], ["b", true], ["", true], ["c", true], ["", true], [
      "d",
      true,
    ]]);
    await forEveryChunkingAsync(input, async (chunks, label) => {
      assert.deepEqual(await runStream(new LineStream(), chunks), expected, label);
    });
  });

  it("LineStream cuts a line at maxLength and marks it unterminated", async () => {
    const input = bytes("z".repeat(300) + "\nend");
    const expected = refLines(input, 256);
    assert.deepEqual(expected.map(([t, eol]) => [t.length, eol]), [[256, false], [44, true], [
      3,
      false,
    ]]);
    await forEveryChunkingAsync(input, async (chunks, label) => {
      assert.deepEqual(
        await runStream(new LineStream({ maxLength: 256 }), chunks),
        expected,
        label,
      );
    });
  });

  it("LineStream rejects invalid options naming itself", () => {
    assert.throws(() => new LineStream({ maxLength: 10 }), {
      name: "RangeError",
      message:
        "Cannot create LineStream as maxLength must be an integer >= 256: current value is 10",
    });
    assert.equal(new LineStream().maxLength, 2048);
  });

  it("LineStream gives the reference output for any chunking", async () => {
    await fc.assert(
      fc.asyncProperty(
        arbInput([0x61, 0x0d, 0x0a], 1200).chain((input) =>
          fc.tuple(fc.constant(input), arbCuts(input.length))
        ),
        async ([input, cuts]) => {
          const out = await runStream(new LineStream({ maxLength: 256 }), split(input, cuts));
          assert.deepEqual(out, refLines(input, 256));
        },
      ),
      { numRuns: 100 },
    );
  });
});
