import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { DelimiterCore } from "../../src/codec/delimiter_core.ts";
import {
  arbCuts,
  arbInput,
  bytes,
  every,
  latin1,
  type Out,
  runCore,
  split,
  withPieceCopy,
} from "./_chunkings.ts";
import { refDelimiter } from "./_reference.ts";
import { checkDelimiter as check } from "./_delimiter_check.ts";

const X = (n: number) => "x".repeat(n);

describe("DelimiterCore", () => {
  it("DelimiterCore cuts at a multi-byte delimiter split at every position", () => {
    check("<END>", "first<END>second<END>third", [
      ["first", true],
      ["second", true],
      ["third", false],
    ]);
  });

  it("DelimiterCore cuts at a delimiter containing NUL", () => {
    check("\0\xff", "a\0\xffb\0c\0\0\xff\0\xff", [["a", true], ["b\0c\0", true], ["", true]]);
    check("\0\0", "a\0\0\0b\0\0", [["a", true], ["\0b", true]]);
  });

  it("DelimiterCore finds the leftmost delimiter when it overlaps itself", () => {
    check("aab", "aaab", [["a", true]]);
    check("abab", "abababab!ababab", [["", true], ["", true], ["!", true], ["ab", false]]);
  });

  it("DelimiterCore emits empty segments between adjacent delimiters", () => {
    check("\r\n", "\r\n\r\na\r\n", [["", true], ["", true], ["a", true]]);
  });

  it("DelimiterCore emits nothing at flush when nothing is left", () => {
    check("\n", "", []);
    check("\n", "a\n", [["a", true]]);
  });

  it("DelimiterCore ends a segment at a delimiter right after maxLength bytes", () => {
    check("END", X(256) + "END" + "y", [[X(256), true], ["y", false]]);
  });

  it("DelimiterCore cuts a segment at maxLength and marks it unterminated", () => {
    check("END", X(257) + "END", [[X(256), false], ["x", true]]);
    check("\n", X(600), [[X(256), false], [X(256), false], [X(88), false]]);
  });

  it("DelimiterCore never splits a delimiter that straddles the maxLength point", () => {
    // The delimiter starts at 254 and ends past 256: it ends the segment.
    check("END", X(254) + "END" + "z", [[X(254), true], ["z", false]]);
    // A partial delimiter at the cut point is content, and the real one follows.
    check("END", X(256) + "EN" + "END", [[X(256), false], ["EN", true]]);
    check("\r\n", X(255) + "\r\r\n", [[X(255) + "\r", true]]);
  });

  it("DelimiterCore keeps a partial delimiter at end of input as content", () => {
    check("END", "abcEN", [["abcEN", false]]);
    check("END", X(256) + "E", [[X(256), false], ["E", false]]);
  });

  it("DelimiterCore cuts a 1 MB segment into exact maxLength pieces", () => {
    const line = new Uint8Array(1024 * 1024 + 100).fill(0x61);
    const input = new Uint8Array(line.length + 2);
    input.set(line);
    input.set([13, 10], line.length);
    for (const chunks of [[input], every(input, 65536), every(input, 1000)]) {
      const core = new DelimiterCore({ delimiter: "\r\n", maxLength: 2048 });
      const sizes: [number, boolean][] = [];
      for (const c of chunks) core.push(c, (b, eol) => sizes.push([b.length, eol]));
      core.flush((b, eol) => sizes.push([b.length, eol]));
      assert.equal(sizes.length, 513);
      for (let i = 0; i < 512; i++) assert.deepEqual(sizes[i], [2048, false]);
      assert.deepEqual(sizes[512], [100, true]);
    }
  });

  it("DelimiterCore runs in linear time on a 10 MB segment", () => {
    const input = new Uint8Array(10 * 1024 * 1024).fill(13); // every byte starts "\r\n"
    for (const chunks of [[input], every(input, 65536), every(input, 7)]) {
      const core = new DelimiterCore({ delimiter: "\r\n", maxLength: 2048 });
      let total = 0;
      const start = performance.now();
      for (const c of chunks) core.push(c, (b) => total += b.length);
      core.flush((b) => total += b.length);
      const ms = performance.now() - start;
      assert.equal(total, input.length);
      assert.ok(ms < 1500, `took ${ms.toFixed(0)} ms`);
    }
  });

  it("DelimiterCore emits views of the chunk when a segment lies in it", () =>
    withPieceCopy(false, () => {
      const chunk = bytes("ab\ncd\nef");
      const views: Uint8Array[] = [];
      const core = new DelimiterCore({ delimiter: "\n" });
      core.push(chunk, (b) => views.push(b));
      assert.equal(views.length, 2);
      for (const v of views) assert.equal(v.buffer, chunk.buffer);
    }));

  it("DelimiterCore hands over owned copies when a reused read buffer feeds it", () => {
    const input = bytes("one\r\ntwo-and-more\r\n" + X(300) + "\r\nlast");
    const shared = new Uint8Array(7);
    const got: [Uint8Array, boolean][] = [];
    let owned = 0;
    const core = new DelimiterCore({ delimiter: "\r\n", maxLength: 256 });
    const emit = (b: Uint8Array, eol: boolean) => {
      // Views of the read buffer are copied at once (as the server does);
      // anything else must stay intact while the buffer is reused.
      if (b.buffer !== shared.buffer) owned++;
      got.push([b.buffer === shared.buffer ? b.slice() : b, eol]);
    };
    for (const c of every(input, 7)) {
      shared.set(c);
      core.push(shared.subarray(0, c.length), emit);
      shared.fill(0x3f);
    }
    core.flush(emit);
    assert.ok(owned > 0);
    const rendered = got.map(([b, eol]): Out => [latin1(b), eol]);
    assert.deepEqual(rendered, refDelimiter(input, bytes("\r\n"), 256));
  });

  it("DelimiterCore halts inside emit and gives back the bytes not yet cut", () => {
    const core = new DelimiterCore({ delimiter: "\n" });
    const seen: string[] = [];
    core.push(bytes("a\nb\nc"), (b) => {
      seen.push(String.fromCharCode(...b));
      core.halt();
    });
    assert.deepEqual(seen, ["a"]);
    assert.equal(String.fromCharCode(...core.takeRest()), "b\nc");
    assert.deepEqual(runCore(core, [bytes("d\n")]), [["d", true]]);
  });

  it("DelimiterCore cuts the bytes a halt left first on the next push", () => {
    const core = new DelimiterCore({ delimiter: "\n" });
    let halt = true;
    const seen: Out[] = [];
    const emit = (b: Uint8Array, eol: boolean) => {
      seen.push([String.fromCharCode(...b), eol]);
      if (halt) core.halt();
      halt = false;
    };
    core.push(bytes("a\nb"), emit);
    core.push(bytes("c\nd"), emit);
    core.flush(emit);
    assert.deepEqual(seen, [["a", true], ["bc", true], ["d", false]]);
  });

  it("DelimiterCore copies the delimiter it is given", () => {
    const delimiter = bytes("\n");
    const core = new DelimiterCore({ delimiter });
    delimiter[0] = 0x21;
    assert.deepEqual(runCore(core, [bytes("a!b\n")]), [["a!b", true]]);
    assert.deepEqual(core.delimiter, bytes("\n"));
    assert.equal(core.maxLength, 2048);
  });

  it("DelimiterCore encodes a string delimiter as UTF-8", () => {
    const core = new DelimiterCore({ delimiter: "§" });
    assert.deepEqual(core.delimiter, new Uint8Array([0xc2, 0xa7]));
  });

  it("DelimiterCore rejects invalid options with TypeError or RangeError", () => {
    const make = (o: unknown) => () => new DelimiterCore(o as never);
    assert.throws(make({ delimiter: "\n", maxLength: 10 }), {
      name: "RangeError",
      message:
        "Cannot create DelimiterCore as maxLength must be an integer >= 256: current value is 10",
    });
    assert.throws(make({ delimiter: "\n", maxLength: 300.5 }), RangeError);
    assert.throws(make({ delimiter: "\n", maxLength: Infinity }), RangeError);
    assert.throws(make({ delimiter: "\n", maxLength: NaN }), RangeError);
    assert.throws(make({ delimiter: "\n", maxLength: "300" }), {
      name: "TypeError",
      message: 'Cannot create DelimiterCore as maxLength must be a number: current value is "300"',
    });
    assert.throws(make({ delimiter: 10 }), {
      name: "TypeError",
      message:
        "Cannot create DelimiterCore as delimiter must be a string or a Uint8Array: current value is 10",
    });
    assert.throws(make(undefined), TypeError);
    assert.throws(make({ delimiter: "" }), {
      name: "RangeError",
      message:
        'Cannot create DelimiterCore as delimiter must be at least 1 byte long: current value is ""',
    });
    assert.throws(make({ delimiter: new Uint8Array(0) }), RangeError);
  });

  it("DelimiterCore gives the reference output for any input and any chunking", () => {
    const delimiters = [
      bytes("\n"),
      bytes("\r\n"),
      bytes("\0\0"),
      bytes("aab"),
      bytes("abab"),
      bytes("END!"),
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...delimiters),
        fc.constantFrom(256, 257, 300),
        arbInput([0x61, 0x62, 0x0d, 0x0a, 0, 0x45, 0x4e, 0x44, 0x21], 1500).chain((input) =>
          fc.tuple(fc.constant(input), arbCuts(input.length))
        ),
        fc.boolean(),
        (delimiter, maxLength, [input, cuts], copies) =>
          withPieceCopy(copies, () => {
            const expected = refDelimiter(input, delimiter, maxLength);
            const core = new DelimiterCore({ delimiter, maxLength });
            assert.deepEqual(runCore(core, split(input, cuts)), expected);
            // The same core works again after flush.
            assert.deepEqual(runCore(core, [input]), expected);
          }),
      ),
      { numRuns: 300 },
    );
  });

  it("DelimiterCore handles binary garbage like the reference", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3000 }),
        fc.uint8Array({ minLength: 1, maxLength: 3 }),
        (input, d) => {
          const core = new DelimiterCore({ delimiter: d, maxLength: 256 });
          assert.deepEqual(runCore(core, every(input, 97)), refDelimiter(input, d, 256));
        },
      ),
      { numRuns: 200 },
    );
  });
});
