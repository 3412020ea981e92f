import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { RecordCore } from "../../src/codec/record_core.ts";
import { RecordStream } from "../../src/codec/record_stream.ts";
import type { Segment } from "../../src/codec/types.ts";
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

/** How a test reads the records: a reader loop, `for await`, or `pipeTo` into a sink. */
type Consumer = "reader" | "for await" | "pipeTo";
const CONSUMERS: readonly Consumer[] = ["reader", "for await", "pipeTo"];

/** A stream of `chunks`; piping it writes them as fast as backpressure allows. */
function source(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

/**
 * Pipes `chunks` through `stream` and reads every record with `how`, calling
 * `react` on each one before the next is read. Records are rendered at the
 * end, which also checks that no record is overwritten by later ones.
 */
async function consume(
  stream: RecordStream,
  chunks: readonly Uint8Array[],
  how: Consumer,
  react: (segment: Segment) => void,
): Promise<Out[]> {
  const records = source(chunks).pipeThrough(stream);
  const got: Segment[] = [];
  const take = (segment: Segment) => {
    got.push(segment);
    react(segment);
  };
  if (how === "reader") {
    const reader = records.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) take(r.value);
  } else if (how === "for await") {
    for await (const segment of records) take(segment);
  } else {
    await records.pipeTo(new WritableStream({ write: take }));
  }
  return got.map((s) => [latin1(s.bytes), s.eol]);
}

/** Reads "<digit><body>...": a 1-byte header record sets the body's length, then back to 1. */
function headerBody(stream: RecordStream): (segment: Segment) => void {
  let header = true;
  return ({ bytes }) => {
    stream.recordLength = header ? Number(latin1(bytes)) : 1;
    header = !header;
  };
}

/** Resolves after pending callbacks have run; tells whether `promise` has settled. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(() => done = true, () => done = true);
  await new Promise((resolve) => setTimeout(resolve, 0));
  return done;
}

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

  it("RecordStream applies a length set by the consumer of a header record to its body, for every chunking", async () => {
    const input = bytes("3abc2de");
    const expected: Out[] = [["3", true], ["abc", true], ["2", true], ["de", true]];
    for (const how of CONSUMERS) {
      await forEveryChunkingAsync(input, async (chunks, label) => {
        const stream = new RecordStream({ recordLength: 1 });
        const out = await consume(stream, chunks, how, headerBody(stream));
        assert.deepEqual(out, expected, `${how}, ${label}`);
      });
    }
  });

  it("RecordStream decodes header/body records for any chunking and consumer", async () => {
    const message = fc.tuple(fc.integer({ min: 1, max: 9 }), fc.constantFrom(..."abcxyz"))
      .map(([length, letter]) => letter.repeat(length));
    await fc.assert(
      fc.asyncProperty(
        fc.array(message, { maxLength: 12 }).chain((bodies) => {
          const input = bytes(bodies.map((b) => `${b.length}${b}`).join(""));
          return fc.tuple(fc.constant(bodies), fc.constant(input), arbCuts(input.length));
        }),
        fc.constantFrom(...CONSUMERS),
        async ([bodies, input, cuts], how) => {
          const stream = new RecordStream({ recordLength: 1 });
          const out = await consume(stream, split(input, cuts), how, headerBody(stream));
          assert.deepEqual(out, bodies.flatMap((b): Out[] => [[`${b.length}`, true], [b, true]]));
        },
      ),
      { numRuns: 100 },
    );
  });

  it("RecordStream cuts as RecordCore does when the consumer changes the length, pass-through included", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 8 }),
        fc.uint8Array({ maxLength: 120 }).chain((input) =>
          fc.tuple(fc.constant(input), arbCuts(input.length))
        ),
        fc.constantFrom(...CONSUMERS),
        async (lengths, [input, cuts], how) => {
          const chunks = split(input, cuts);
          const core = new RecordCore({ recordLength: lengths[0] });
          const expected: Out[] = [];
          let i = 0;
          const emit = (b: Uint8Array, eol: boolean) => {
            expected.push([latin1(b), eol]);
            core.setRecordLength(lengths[++i % lengths.length]);
          };
          for (const chunk of chunks) core.push(chunk, emit);
          core.flush(emit);
          const stream = new RecordStream({ recordLength: lengths[0] });
          let j = 0;
          const out = await consume(stream, chunks, how, () => {
            stream.recordLength = lengths[++j % lengths.length];
          });
          assert.deepEqual(out, expected);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("RecordStream switches between pass-through and records between reads", async () => {
    const stream = new RecordStream({ recordLength: 2 });
    const writer = stream.writable.getWriter();
    const reader = stream.readable.getReader();
    const writes = [writer.write(bytes("abcdefgh")), writer.write(bytes("ijklm")), writer.close()];
    const read = async () => {
      const { value } = await reader.read();
      return [latin1(value!.bytes), value!.eol];
    };
    assert.deepEqual(await read(), ["ab", true]);
    stream.recordLength = 0;
    assert.deepEqual(await read(), ["cdefgh", false]);
    stream.recordLength = 3;
    assert.deepEqual(await read(), ["ijk", true]);
    stream.recordLength = 0;
    assert.deepEqual(await read(), ["lm", false]);
    assert.equal((await reader.read()).done, true);
    await Promise.all(writes);
  });

  it("RecordStream cuts a gathered partial record first when the length drops below it during a read", async () => {
    const stream = new RecordStream({ recordLength: 4 });
    const writer = stream.writable.getWriter();
    const reader = stream.readable.getReader();
    const out: Out[] = [];
    const read = async (pending = reader.read()) => {
      const { value } = await pending;
      out.push([latin1(value!.bytes), value!.eol]);
    };
    const w0 = writer.write(bytes("ab"));
    let pending = reader.read();
    assert.equal(await settled(pending), false, '"ab" gathered, 2 more bytes needed');
    await w0;
    stream.recordLength = 0;
    const w1 = writer.write(bytes("cdef"));
    await read(pending);
    await read();
    await w1;
    stream.recordLength = 8;
    const w2 = writer.write(bytes("ghijk"));
    pending = reader.read();
    assert.equal(await settled(pending), false, '"ghijk" gathered, 3 more bytes needed');
    await w2;
    stream.recordLength = 2;
    const w3 = writer.write(bytes("l"));
    await read(pending);
    await read();
    await read();
    await w3;
    stream.recordLength = 4;
    const end = [writer.write(bytes("mn")), writer.close()];
    await read();
    assert.equal((await reader.read()).done, true);
    await Promise.all(end);
    assert.deepEqual(out, [
      ["ab", false],
      ["cdef", false],
      ["gh", true],
      ["ij", true],
      ["kl", true],
      ["mn", false],
    ]);
  });

  it("RecordStream takes a written chunk only once the input before it has been cut", async () => {
    const stream = new RecordStream({ recordLength: 2 });
    const writer = stream.writable.getWriter();
    const reader = stream.readable.getReader();
    const read = async () => latin1((await reader.read()).value!.bytes);
    const w0 = writer.write(bytes("aabbcc"));
    assert.equal(await settled(w0), false, "nobody reads: the first write waits");
    assert.equal(writer.desiredSize, 0);
    assert.equal(await read(), "aa");
    await w0;
    const w1 = writer.write(bytes("dd"));
    assert.equal(await settled(w1), false);
    assert.equal(writer.desiredSize, 0);
    assert.equal(await read(), "bb");
    assert.equal(await read(), "cc");
    assert.equal(await settled(w1), false, "the chunk is taken when the next record needs it");
    assert.equal(await read(), "dd");
    await w1;
    await writer.close();
    assert.equal((await reader.read()).done, true);
  });

  it("RecordStream pulls a bounded number of chunks from a piped source, whatever is read", async () => {
    let pulled = 0;
    let cancelled: unknown;
    const input = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(bytes("wxyz"));
      },
      cancel(reason) {
        cancelled = reason;
      },
    });
    const stream = new RecordStream({ recordLength: 1 });
    const reader = input.pipeThrough(stream).getReader();
    await settled(Promise.resolve());
    assert.ok(pulled <= 3, `pulled ${pulled} chunks while nobody reads`);
    assert.equal(latin1((await reader.read()).value!.bytes), "w");
    await settled(Promise.resolve());
    const afterFirst = pulled;
    assert.ok(afterFirst <= 4, `pulled ${afterFirst} chunks after one read`);
    for (const expected of "xyz") {
      assert.equal(latin1((await reader.read()).value!.bytes), expected);
    }
    await settled(Promise.resolve());
    assert.equal(pulled, afterFirst, "cutting the rest of a chunk pulls nothing");
    const reason = new Error("done");
    await reader.cancel(reason);
    await settled(Promise.resolve());
    assert.equal(cancelled, reason);
  });

  it("RecordStream errors the writable side with the reason its readable side is cancelled with", async () => {
    const stream = new RecordStream({ recordLength: 2 });
    const writer = stream.writable.getWriter();
    const reader = stream.readable.getReader();
    const w0 = writer.write(bytes("abcd"));
    assert.equal(latin1((await reader.read()).value!.bytes), "ab");
    await w0;
    const w1 = writer.write(bytes("ef"));
    const reason = new Error("stop");
    await reader.cancel(reason);
    await assert.rejects(w1, (e) => e === reason);
    await assert.rejects(writer.closed, (e) => e === reason);
  });

  it("RecordStream errors its readable side when the writable side is aborted", async () => {
    const reason = new Error("abort");
    const reading = new RecordStream({ recordLength: 4 });
    const readingWriter = reading.writable.getWriter();
    await readingWriter.ready;
    const pending = reading.readable.getReader().read();
    await readingWriter.write(bytes("ab"));
    await readingWriter.abort(reason);
    await assert.rejects(pending, (e) => e === reason);

    const idle = new RecordStream({ recordLength: 4 });
    const idleReader = idle.readable.getReader();
    await idle.writable.abort(reason);
    await assert.rejects(idleReader.closed, (e) => e === reason);
    await assert.rejects(idleReader.read(), (e) => e === reason);
  });

  it("RecordStream passes an error of a piped source or consumer on", async () => {
    const failure = new Error("source failed");
    const failing = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes("abc"));
        controller.error(failure);
      },
    });
    const out: string[] = [];
    await assert.rejects(async () => {
      for await (const { bytes } of failing.pipeThrough(new RecordStream({ recordLength: 1 }))) {
        out.push(latin1(bytes));
      }
    }, (e) => e === failure);

    let cancelled: unknown;
    const input = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(bytes("abcd"));
      },
      cancel(reason) {
        cancelled = reason;
      },
    });
    const refused = new Error("consumer failed");
    const piping = input.pipeThrough(new RecordStream({ recordLength: 2 })).pipeTo(
      new WritableStream({
        write() {
          throw refused;
        },
      }),
    );
    await assert.rejects(piping, (e) => e === refused);
    await settled(Promise.resolve());
    assert.equal(cancelled, refused);
  });

  it("RecordStream errors with a TypeError when a chunk is not bytes", async () => {
    const s = new RecordStream({ recordLength: 2 });
    const written = s.writable.getWriter().write("text" as never);
    await assert.rejects(s.readable.getReader().read(), {
      name: "TypeError",
      message:
        "Cannot write to RecordStream as chunks must be Uint8Array: current value is [object String]",
    });
    await assert.rejects(written, TypeError);
  });

  it("RecordStream is a TransformStream of web streams", () => {
    const s = new RecordStream({ recordLength: 2 });
    assert.ok(s instanceof TransformStream);
    assert.ok(s.readable instanceof ReadableStream);
    assert.ok(s.writable instanceof WritableStream);
    assert.equal(s.readable, s.readable);
  });
});
