/**
 * Messages compressed in pieces (RFC 7692 §6.1, §7.2.1) by the `node:zlib`
 * engine: every piece sync-flushed through one context, the `00 00 ff ff`
 * tail removed only from the end of the whole message. Property: any split
 * of any messages into pieces is inflated identically by our inflater, by
 * our MessageCore (with the frames as a client would send them) and by
 * `zlib.inflateRawSync` as an independent reference.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import zlib from "node:zlib";
import { MessageCore } from "../../src/ws/message_core.ts";
import { engineOf, zlibEngine, type ZlibModule } from "../../src/runtime/zlib.ts";
import { NotSupportedError } from "../../src/runtime/errors.ts";
import { cat, frame, latin1, type RefFrame } from "./_frames.ts";
import { runMessages } from "./_messages.ts";

const engine = zlibEngine();
const TAIL = new Uint8Array([0, 0, 0xff, 0xff]);
const SYNC = { finishFlush: zlib.constants.Z_SYNC_FLUSH };

/** Cuts `data` at the sorted positions `cuts` (repeats give empty pieces). */
function split(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = cuts.map((c) => c % (data.length + 1)).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of points) out.push(data.subarray(at, p)), at = p;
  out.push(data.subarray(at));
  return out;
}

/** Compresses each message in its pieces; returns each message's compressed data per piece. */
function compress(
  messages: Uint8Array[][],
  noContextTakeover: boolean,
  windowBits = 15,
): Uint8Array[][] {
  const d = engine.createDeflater({ windowBits, memLevel: 8, level: 6, noContextTakeover });
  try {
    return messages.map((pieces) => pieces.map((p, k) => d.deflate(p, k === pieces.length - 1)));
  } finally {
    d.close();
  }
}

const message = fc.oneof(
  fc.uint8Array({ maxLength: 3000 }),
  fc.string({ maxLength: 800 }).map((s) => new TextEncoder().encode(s.repeat(3))),
);
const splitMessage = fc.tuple(message, fc.array(fc.nat(4000), { maxLength: 6 }))
  .map(([data, cuts]) => ({ data, pieces: split(data, cuts) }));

describe("Deflater pieces", () => {
  for (const noContextTakeover of [false, true]) {
    it(`Deflater pieces of any split inflate to the message (context takeover ${!noContextTakeover})`, () => {
      fc.assert(
        fc.property(fc.array(splitMessage, { minLength: 1, maxLength: 5 }), (msgs) => {
          const parts = compress(msgs.map((m) => m.pieces), noContextTakeover);
          const inflater = engine.createInflater({ windowBits: 15, noContextTakeover });
          const core = new MessageCore({
            inflater: engine.createInflater({ windowBits: 15, noContextTakeover }),
          });
          try {
            const joined = parts.map((p) => cat(...p));
            for (const [k, z] of joined.entries()) {
              // §7.2.1: the message's data ends in the stored block's header bits,
              // never in a 00 00 ff ff tail (a zero BTYPE 00 header cannot make 0xff).
              assert.notEqual(z.at(-1), 0xff, "the tail was removed from the message's end");
              assert.deepEqual(inflater.inflate(z, true, 1 << 24), msgs[k].data);
            }
            // An independent inflater over the stream the peer sees (tail appended per message).
            const reference = noContextTakeover
              ? joined.map((z) => new Uint8Array(zlib.inflateRawSync(cat(z, TAIL), SYNC)))
              : [
                new Uint8Array(zlib.inflateRawSync(cat(...joined.flatMap((z) => [z, TAIL])), SYNC)),
              ];
            assert.deepEqual(cat(...reference), cat(...msgs.map((m) => m.data)));
            // MessageCore, fed the frames as sent: RSV1 on each message's first frame only.
            const frames: RefFrame[] = parts.flatMap((p) =>
              p.map((payload, i): RefFrame => ({
                opcode: i === 0 ? 2 : 0,
                payload,
                fin: i === p.length - 1,
                rsv: i === 0 ? 4 : 0,
              }))
            );
            const run = runMessages(core, [cat(...frames.map(frame))]);
            assert.deepEqual(run, { events: msgs.map((m) => ["binary", latin1(m.data), true]) });
          } finally {
            inflater.close();
          }
        }),
        { numRuns: 60 },
      );
    });
  }

  it("Deflater holds a piece's 00 00 ff ff back and drops it when the message ends with an empty piece", () => {
    const text = new TextEncoder().encode("hello hello hello hello");
    const d = engine.createDeflater({
      windowBits: 15,
      memLevel: 8,
      level: 6,
      noContextTakeover: false,
    });
    const a = d.deflate(text, false);
    assert.notDeepEqual([...a.subarray(-4)], [...TAIL], "held back");
    const b = d.deflate(new Uint8Array(0), true);
    assert.equal(b.length, 0, "an empty last piece adds nothing: the held tail is dropped");
    const c = d.deflate(text, false); // the next message: no tail carried over
    const e = d.deflate(text, true);
    assert.deepEqual([...e.subarray(0, 4)], [...TAIL], "a piece after a held tail starts with it");
    d.close();
    const i = engine.createInflater({ windowBits: 15, noContextTakeover: false });
    assert.deepEqual(i.inflate(cat(a, b), true, 1000), text);
    assert.deepEqual(i.inflate(cat(c, e), true, 1000), cat(text, text));
    i.close();
  });

  it("Deflater sends an empty message in empty pieces as one block header", () => {
    const d = engine.createDeflater({
      windowBits: 15,
      memLevel: 8,
      level: 6,
      noContextTakeover: false,
    });
    const z = cat(
      d.deflate(new Uint8Array(0), false),
      d.deflate(new Uint8Array(0), false),
      d.deflate(new Uint8Array(0), true),
    );
    d.close();
    assert.deepEqual([...z], [0]);
    assert.equal(zlib.inflateRawSync(cat(z, TAIL), SYNC).length, 0);
  });
});

describe("zlib engine probe", () => {
  it("engineOf throws NotSupportedError when the synchronous stream routine is missing", () => {
    const broken = {
      ...zlib,
      createDeflateRaw: (o: object) =>
        Object.assign(zlib.createDeflateRaw(o), { _processChunk: undefined }),
    } as unknown as ZlibModule;
    assert.throws(() => engineOf(broken), (e: unknown) => {
      assert.ok(e instanceof NotSupportedError);
      assert.match((e as Error).message, /permessage-deflate is declined/);
      return true;
    });
  });

  it("engineOf throws NotSupportedError when the round trip gives different bytes", () => {
    const lying = {
      ...zlib,
      createInflateRaw: (o: object) => {
        const z = zlib.createInflateRaw(o) as unknown as {
          _processChunk(c: Uint8Array, f: number): Uint8Array;
        };
        const run = z._processChunk.bind(z);
        z._processChunk = (c, f) => run(c, f).map((b) => b ^ 1);
        return z;
      },
    } as unknown as ZlibModule;
    assert.throws(() => engineOf(lying), NotSupportedError);
  });

  it("engineOf accepts the real node:zlib", () => {
    assert.equal(engineOf(zlib as unknown as ZlibModule).name, "node:zlib");
  });
});
