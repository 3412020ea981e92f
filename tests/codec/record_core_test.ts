import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { RecordCore } from "../../src/codec/record_core.ts";
import {
  arbCuts,
  bytes,
  every,
  forEveryChunking,
  latin1,
  type Out,
  runCore,
  split,
  withPieceCopy,
} from "./_chunkings.ts";
import { refRecords } from "./_reference.ts";

/** Decodes "<len byte><payload>..." by changing the record length inside the callback. */
function lengthPrefixed(chunks: Uint8Array[]): Out[] {
  const core = new RecordCore({ recordLength: 1 });
  const out: Out[] = [];
  let header = true;
  const emit = (b: Uint8Array, eol: boolean) => {
    out.push([latin1(b), eol]);
    if (eol && header && b[0] > 0) {
      core.setRecordLength(b[0]);
      header = false;
    } else {
      core.setRecordLength(1);
      header = true;
    }
  };
  for (const c of chunks) core.push(c, emit);
  core.flush(emit);
  return out;
}

describe("RecordCore", () => {
  it("RecordCore cuts fixed-length records for every chunking", () => {
    const input = bytes("abcdefghij");
    forEveryChunking(input, (chunks, label) => {
      assert.deepEqual(runCore(new RecordCore({ recordLength: 4 }), chunks), [
        ["abcd", true],
        ["efgh", true],
        ["ij", false],
      ], label);
    });
  });

  it("RecordCore emits nothing at flush when the input ends on a record boundary", () => {
    assert.deepEqual(runCore(new RecordCore({ recordLength: 2 }), [bytes("abcd")]), [
      ["ab", true],
      ["cd", true],
    ]);
  });

  it("RecordCore applies a length changed inside the callback to the very next record", () => {
    const input = bytes("\x03abc\x01d\x00\x02ef");
    const expected: Out[] = [
      ["\x03", true],
      ["abc", true],
      ["\x01", true],
      ["d", true],
      ["\x00", true],
      ["\x02", true],
      ["ef", true],
    ];
    forEveryChunking(input, (chunks, label) => {
      assert.deepEqual(lengthPrefixed(chunks), expected, label);
    });
  });

  it("RecordCore passes chunks through as they are with length 0", () => {
    const core = new RecordCore({ recordLength: 0 });
    assert.deepEqual(runCore(core, [bytes("ab"), bytes(""), bytes("cde")]), [["ab", false], [
      "cde",
      false,
    ]]);
  });

  it("RecordCore sends the carried partial record first when switched to pass-through", () => {
    const core = new RecordCore({ recordLength: 4 });
    const out: Out[] = [];
    const emit = (b: Uint8Array, eol: boolean) => out.push([latin1(b), eol]);
    core.push(bytes("abcdef"), emit);
    core.setRecordLength(0);
    core.push(bytes("gh"), emit);
    assert.deepEqual(out, [["abcd", true], ["ef", false], ["gh", false]]);
  });

  it("RecordCore frames the rest of a chunk after pass-through is turned off inside the callback", () => {
    const core = new RecordCore({ recordLength: 2 });
    const out: Out[] = [];
    core.push(bytes("a"), () => {});
    core.setRecordLength(0);
    core.push(bytes("bcdef"), (b, eol) => {
      out.push([latin1(b), eol]);
      core.setRecordLength(2);
    });
    core.flush((b, eol) => out.push([latin1(b), eol]));
    assert.deepEqual(out, [["a", false], ["bc", true], ["de", true], ["f", false]]);
  });

  it("RecordCore cuts carried bytes with a length lowered between pushes", () => {
    const core = new RecordCore({ recordLength: 8 });
    const out: Out[] = [];
    const emit = (b: Uint8Array, eol: boolean) => out.push([latin1(b), eol]);
    core.push(bytes("abcde"), emit);
    core.recordLength = 2;
    core.push(bytes("f"), emit);
    core.recordLength = 4;
    core.push(bytes("gh"), emit);
    core.flush(emit);
    assert.deepEqual(out, [["ab", true], ["cd", true], ["ef", true], ["gh", false]]);
    const low = new RecordCore({ recordLength: 8 });
    const flushed: Out[] = [];
    low.push(bytes("abcde"), () => {});
    low.setRecordLength(2);
    low.flush((b, eol) => flushed.push([latin1(b), eol]));
    assert.deepEqual(flushed, [["ab", true], ["cd", true], ["e", false]]);
  });

  it("RecordCore halts inside emit and gives back the bytes not yet cut", () => {
    const core = new RecordCore({ recordLength: 2 });
    const seen: string[] = [];
    core.push(bytes("abcde"), (b) => {
      seen.push(latin1(b));
      core.halt();
    });
    assert.deepEqual(seen, ["ab"]);
    assert.equal(latin1(core.takeRest()), "cde");
  });

  it("RecordCore rejects invalid lengths with TypeError or RangeError", () => {
    assert.throws(() => new RecordCore({ recordLength: -1 }), {
      name: "RangeError",
      message:
        "Cannot create RecordCore as recordLength must be an integer >= 0 (0 = pass-through): current value is -1",
    });
    assert.throws(() => new RecordCore({ recordLength: 1.5 }), RangeError);
    assert.throws(() => new RecordCore({} as never), {
      name: "TypeError",
      message:
        "Cannot create RecordCore as recordLength must be a number: current value is undefined",
    });
    const core = new RecordCore({ recordLength: 3 });
    assert.throws(() => core.setRecordLength(NaN), {
      name: "RangeError",
      message:
        "Cannot set recordLength as recordLength must be an integer >= 0 (0 = pass-through): current value is NaN",
    });
    assert.equal(core.recordLength, 3);
  });

  it("RecordCore gives the reference output for any input and any chunking", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.uint8Array({ maxLength: 400 }).chain((input) =>
          fc.tuple(fc.constant(input), arbCuts(input.length))
        ),
        fc.boolean(),
        (length, [input, cuts], copies) =>
          withPieceCopy(copies, () => {
            const core = new RecordCore({ recordLength: length });
            assert.deepEqual(runCore(core, split(input, cuts)), refRecords(input, length));
          }),
      ),
      { numRuns: 300 },
    );
  });

  it("RecordCore decodes length-prefixed records the same for any chunking", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 255 }), { maxLength: 12 }).chain((
          payloads,
        ) => {
          const input = new Uint8Array(payloads.reduce((n, p) => n + 1 + p.length, 0));
          let at = 0;
          for (const p of payloads) {
            input[at++] = p.length;
            input.set(p, at);
            at += p.length;
          }
          return fc.tuple(fc.constant(payloads), fc.constant(input), arbCuts(input.length));
        }),
        ([payloads, input, cuts]) => {
          const expected = payloads.flatMap((p): Out[] => [
            [String.fromCharCode(p.length), true],
            [latin1(p), true],
          ]);
          assert.deepEqual(lengthPrefixed(split(input, cuts)), expected);
          assert.deepEqual(lengthPrefixed(every(input, 1)), expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});
