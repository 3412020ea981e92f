import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { LineCore } from "../../src/codec/line_core.ts";
import {
  arbCuts,
  arbInput,
  bytes,
  every,
  forEveryChunking,
  type Out,
  runCore,
  split,
  withPieceCopy,
} from "./_chunkings.ts";
import { refLines } from "./_reference.ts";
import { lineScan } from "../../src/codec/_scan.ts";

/** Runs `body` with LineCore finding line ends by `indexOf` (Bun's choice) or by its loops. */
function withScan(byIndexOf: boolean, body: () => void): void {
  const before = lineScan.byIndexOf;
  lineScan.byIndexOf = byIndexOf;
  try {
    body();
  } finally {
    lineScan.byIndexOf = before;
  }
}

const X = (n: number) => "x".repeat(n);

function check(input: string, expected: Out[], maxLength = 256): void {
  const data = bytes(input);
  assert.deepEqual(refLines(data, maxLength), expected, "reference");
  for (const byIndexOf of [false, true]) {
    // By indexOf with short pieces copied is Bun's way; the loops with views everyone else's.
    withScan(byIndexOf, () =>
      withPieceCopy(byIndexOf, () => {
        forEveryChunking(data, (chunks, label) => {
          const got = runCore(new LineCore({ maxLength }), chunks);
          assert.deepEqual(got, expected, `${label}${byIndexOf ? " (indexOf scan)" : ""}`);
        });
      }));
  }
}

describe("LineCore", () => {
  it("LineCore ends lines at CRLF, LF and a lone CR", () => {
    check("a\r\nb\nc\rd", [["a", true], ["b", true], ["c", true], ["d", false]]);
  });

  it("LineCore treats a CR and an LF in the next chunk as one line end", () => {
    const core = new LineCore();
    assert.deepEqual(runCore(core, [bytes("one\r"), bytes("\ntwo\r"), bytes("\n")]), [
      ["one", true],
      ["two", true],
    ]);
    assert.deepEqual(runCore(new LineCore(), [bytes("a\r"), bytes(""), bytes("\nb")]), [
      ["a", true],
      ["b", false],
    ]);
  });

  it("LineCore emits empty lines", () => {
    const empty: Out = ["", true];
    check("\r\n\n\r\r\n\n\ra", [empty, empty, empty, empty, empty, empty, ["a", false]]);
    check("\n\r", [["", true], ["", true]]);
  });

  it("LineCore emits a line ended by a final CR at once and nothing at flush", () => {
    const seen: Out[] = [];
    const core = new LineCore();
    core.push(bytes("abc\r"), (b, eol) => seen.push([String.fromCharCode(...b), eol]));
    assert.deepEqual(seen, [["abc", true]]);
    core.flush(() => assert.fail("nothing is left"));
  });

  it("LineCore ends a line at a line end right after maxLength bytes", () => {
    check(X(256) + "\r\nz", [[X(256), true], ["z", false]]);
    check(X(256) + "\r", [[X(256), true]]);
  });

  it("LineCore cuts a line at maxLength and marks it unterminated", () => {
    check(X(257) + "\r\n", [[X(256), false], ["x", true]]);
    check(X(513), [[X(256), false], [X(256), false], ["x", false]]);
  });

  it("LineCore keeps the CRLF after a cut line as one line end", () => {
    check(X(512) + "\r\n" + "y", [[X(256), false], [X(256), true], ["y", false]]);
  });

  it("LineCore cuts a 1 MB line into exact maxLength pieces", () => {
    const input = new Uint8Array(1024 * 1024 + 2).fill(0x61);
    input.set([13, 10], 1024 * 1024);
    for (const chunks of [[input], every(input, 65536), every(input, 999)]) {
      const sizes: [number, boolean][] = [];
      const core = new LineCore({ maxLength: 2048 });
      for (const c of chunks) core.push(c, (b, eol) => sizes.push([b.length, eol]));
      core.flush((b, eol) => sizes.push([b.length, eol]));
      assert.equal(sizes.length, 512);
      for (let i = 0; i < 511; i++) assert.deepEqual(sizes[i], [2048, false]);
      assert.deepEqual(sizes[511], [2048, true]);
    }
  });

  it("LineCore runs in linear time on a 10 MB line", () => {
    for (const byIndexOf of [false, true]) {
      withScan(byIndexOf, () => {
        const input = new Uint8Array(10 * 1024 * 1024).fill(0x61);
        for (const chunks of [[input], every(input, 65536), every(input, 7)]) {
          const core = new LineCore({ maxLength: 2048 });
          let total = 0;
          const start = performance.now();
          for (const c of chunks) core.push(c, (b) => total += b.length);
          core.flush((b) => total += b.length);
          const ms = performance.now() - start;
          assert.equal(total, input.length);
          assert.ok(ms < 1500, `took ${ms.toFixed(0)} ms`);
        }
      });
    }
  });

  it("LineCore runs in linear time when only one kind of line end occurs", () => {
    for (const byIndexOf of [false, true]) {
      withScan(byIndexOf, () => {
        // A cached position for the absent byte avoids rescanning the chunk.
        const input = bytes("ab\n".repeat(1_000_000));
        const core = new LineCore();
        let lines = 0;
        const start = performance.now();
        core.push(input, () => lines++);
        const ms = performance.now() - start;
        assert.equal(lines, 1_000_000);
        assert.ok(ms < 1500, `took ${ms.toFixed(0)} ms`);
      });
    }
  });

  it("LineCore emits views of the chunk when a line lies in it", () =>
    withPieceCopy(false, () => {
      const chunk = bytes("ab\r\ncd\n");
      const core = new LineCore();
      core.push(chunk, (b) => assert.equal(b.buffer, chunk.buffer));
    }));

  it("LineCore emits copies of lines up to 128 bytes and views of longer ones when pieceCopy says so", () =>
    withPieceCopy(true, () => {
      const chunk = bytes(`ab\r\n${X(128)}\n${X(129)}\n`);
      const seen: [number, boolean][] = [];
      new LineCore().push(chunk, (b) => seen.push([b.length, b.buffer === chunk.buffer]));
      assert.deepEqual(seen, [[2, false], [128, false], [129, true]]);
    }));

  it("LineCore halts inside emit and gives back the bytes not yet cut", () => {
    const core = new LineCore();
    const seen: string[] = [];
    core.push(bytes("a\r\nb\nc"), (b) => {
      seen.push(String.fromCharCode(...b));
      core.halt();
    });
    assert.deepEqual(seen, ["a"]);
    assert.equal(String.fromCharCode(...core.takeRest()), "b\nc");
  });

  it("LineCore still skips the LF of a CRLF split across a halt", () => {
    const core = new LineCore();
    const seen: Out[] = [];
    let halt = true;
    const emit = (b: Uint8Array, eol: boolean) => {
      seen.push([String.fromCharCode(...b), eol]);
      if (halt) core.halt();
      halt = false;
    };
    core.push(bytes("a\r"), emit);
    assert.equal(core.takeRest().length, 0);
    core.push(bytes("\nb\n"), emit);
    assert.deepEqual(seen, [["a", true], ["b", true]]);
  });

  it("LineCore rejects invalid options with TypeError or RangeError", () => {
    assert.throws(() => new LineCore({ maxLength: 255 }), {
      name: "RangeError",
      message:
        "Cannot create LineCore as maxLength must be an integer >= 256: current value is 255",
    });
    assert.throws(() => new LineCore({ maxLength: 1e300 }), RangeError);
    assert.throws(() => new LineCore({ maxLength: null as never }), TypeError);
    assert.equal(new LineCore().maxLength, 2048);
  });

  for (const byIndexOf of [false, true]) {
    const how = byIndexOf ? " (indexOf scan)" : " (loop scan)";
    it(
      "LineCore gives the reference output for any input and any chunking" + how,
      () =>
        withScan(byIndexOf, () => {
          fc.assert(
            fc.property(
              fc.constantFrom(256, 257, 1000),
              arbInput([0x61, 0x0d, 0x0a, 0], 1500).chain((input) =>
                fc.tuple(fc.constant(input), arbCuts(input.length))
              ),
              fc.boolean(),
              (maxLength, [input, cuts], copies) =>
                withPieceCopy(copies, () => {
                  const core = new LineCore({ maxLength });
                  const expected = refLines(input, maxLength);
                  assert.deepEqual(runCore(core, split(input, cuts)), expected);
                  assert.deepEqual(runCore(core, every(input, 1)), expected);
                }),
            ),
            { numRuns: 300 },
          );
        }),
    );

    it(
      "LineCore cuts long chunks at any alignment like the reference (the word-at-a-time scan)" +
        how,
      () =>
        withScan(byIndexOf, () => {
          // Bytes around the scan's "below 14" test: line ends, other low bytes,
          // 14 itself, and high bytes whose low bits look like CR/LF.
          const alphabet = [0x61, 0x0a, 0x0d, 0x00, 0x09, 0x0c, 0x0e, 0x8a, 0x8d, 0xff];
          fc.assert(
            fc.property(
              arbInput(alphabet, 3000),
              fc.integer({ min: 0, max: 7 }),
              fc.integer({ min: 256, max: 1200 }),
              fc.constantFrom(256, 300),
              (input, offset, size, maxLength) => {
                const backing = new Uint8Array(offset + input.length + 8).fill(0x0a);
                backing.set(input, offset);
                const placed = backing.subarray(offset, offset + input.length);
                assert.deepEqual(
                  runCore(new LineCore({ maxLength }), every(placed, size)),
                  refLines(input, maxLength),
                );
              },
            ),
            { numRuns: 300 },
          );
        }),
    );

    it("LineCore handles binary garbage like the reference" + how, () =>
      withScan(byIndexOf, () => {
        fc.assert(
          fc.property(
            fc.uint8Array({ maxLength: 3000 }),
            fc.integer({ min: 1, max: 300 }),
            (input, size) => {
              assert.deepEqual(
                runCore(new LineCore({ maxLength: 256 }), every(input, size)),
                refLines(input, 256),
              );
            },
          ),
          { numRuns: 200 },
        );
      }));
  }
});
