import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { RecordStream } from "../../src/codec/record_stream.ts";
import {
  arbCuts,
  bytes,
  forEveryChunkingAsync,
  latin1,
  type Out,
  runStream,
  split,
} from "./_chunkings.ts";
import { refRecords } from "./_reference.ts";

describe("RecordStream", () => {
  it("RecordStream cuts fixed-length records for every chunking", async () => {
    await forEveryChunkingAsync(bytes("0123456789"), async (chunks, label) => {
      const out = await runStream(new RecordStream({ recordLength: 3 }), chunks);
      assert.deepEqual(out, [["012", true], ["345", true], ["678", true], ["9", false]], label);
    });
  });

  it("RecordStream applies a new recordLength to the next chunk written", async () => {
    const stream = new RecordStream({ recordLength: 2 });
    const writer = stream.writable.getWriter();
    const reader = stream.readable.getReader();
    const out: Out[] = [];
    const read = async () => {
      const { value } = await reader.read();
      out.push([latin1(value!.bytes), value!.eol]);
    };
    const w1 = writer.write(bytes("ab"));
    await read();
    await w1;
    stream.recordLength = 3;
    assert.equal(stream.recordLength, 3);
    const w2 = writer.write(bytes("cdef"));
    await read();
    await w2;
    const closing = writer.close();
    await read();
    await closing;
    assert.deepEqual(out, [["ab", true], ["cde", true], ["f", false]]);
  });

  it("RecordStream passes chunks through with recordLength 0", async () => {
    const out = await runStream(new RecordStream({ recordLength: 0 }), [bytes("ab"), bytes("c")]);
    assert.deepEqual(out, [["ab", false], ["c", false]]);
  });

  it("RecordStream rejects invalid lengths naming itself", () => {
    assert.throws(() => new RecordStream({ recordLength: -2 }), {
      name: "RangeError",
      message:
        "Cannot create RecordStream as recordLength must be an integer >= 0 (0 = pass-through): current value is -2",
    });
    const stream = new RecordStream({ recordLength: 1 });
    assert.throws(() => {
      stream.recordLength = 0.5;
    }, RangeError);
  });

  it("RecordStream gives the reference output for any chunking", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }),
        fc.uint8Array({ maxLength: 400 }).chain((input) =>
          fc.tuple(fc.constant(input), arbCuts(input.length))
        ),
        async (length, [input, cuts]) => {
          const out = await runStream(
            new RecordStream({ recordLength: length }),
            split(input, cuts),
          );
          assert.deepEqual(out, refRecords(input, length));
        },
      ),
      { numRuns: 100 },
    );
  });
});
