import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { DelimiterStream } from "../../src/codec/delimiter_stream.ts";
import { arbCuts, arbInput, bytes, forEveryChunkingAsync, runStream, split } from "./_chunkings.ts";
import { refDelimiter } from "./_reference.ts";

describe("DelimiterStream", () => {
  it("DelimiterStream cuts at a multi-byte delimiter split at every position", async () => {
    const input = bytes("a<END>bc<END><END>d<EN");
    const expected = refDelimiter(input, bytes("<END>"), 256);
    assert.deepEqual(expected, [["a", true], ["bc", true], ["", true], ["d<EN", false]]);
    await forEveryChunkingAsync(input, async (chunks, label) => {
      const out = await runStream(new DelimiterStream({ delimiter: "<END>" }), chunks);
      assert.deepEqual(out, expected, label);
    });
  });

  it("DelimiterStream cuts a long segment at maxLength and marks it unterminated", async () => {
    const input = bytes("y".repeat(700) + "\0");
    const out = await runStream(new DelimiterStream({ delimiter: "\0", maxLength: 300 }), [input]);
    assert.deepEqual(out.map(([t, eol]) => [t.length, eol]), [[300, false], [300, false], [
      100,
      true,
    ]]);
  });

  it("DelimiterStream exposes its settings", () => {
    const s = new DelimiterStream({ delimiter: "\r\n", maxLength: 4096 });
    assert.deepEqual(s.delimiter, bytes("\r\n"));
    assert.equal(s.maxLength, 4096);
  });

  it("DelimiterStream rejects invalid options naming itself", () => {
    assert.throws(() => new DelimiterStream({ delimiter: "\n", maxLength: 10 }), {
      name: "RangeError",
      message:
        "Cannot create DelimiterStream as maxLength must be an integer >= 256: current value is 10",
    });
    assert.throws(() => new DelimiterStream({ delimiter: null as never }), {
      name: "TypeError",
      message:
        "Cannot create DelimiterStream as delimiter must be a string or a Uint8Array: current value is null",
    });
  });

  it("DelimiterStream errors with a TypeError when a chunk is not bytes", async () => {
    const s = new DelimiterStream({ delimiter: "\n" });
    const written = s.writable.getWriter().write("text" as never);
    await assert.rejects(s.readable.getReader().read(), {
      name: "TypeError",
      message:
        "Cannot write to DelimiterStream as chunks must be Uint8Array: current value is [object String]",
    });
    await assert.rejects(written, TypeError);
  });

  it("DelimiterStream gives the reference output for any chunking", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(bytes("\n"), bytes("\r\n"), bytes("\0a\0")),
        arbInput([0x61, 0x0d, 0x0a, 0], 1200).chain((input) =>
          fc.tuple(fc.constant(input), arbCuts(input.length))
        ),
        async (delimiter, [input, cuts]) => {
          const out = await runStream(new DelimiterStream({ delimiter }), split(input, cuts));
          assert.deepEqual(out, refDelimiter(input, delimiter, 2048));
        },
      ),
      { numRuns: 100 },
    );
  });
});
