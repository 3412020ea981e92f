import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { DelimiterCore } from "../../src/codec/delimiter_core.ts";
import { Carry } from "../../src/codec/_carry.ts";
import { arbCuts, bytes, every, latin1, type Out, runCore, split } from "./_chunkings.ts";
import { refDelimiter } from "./_reference.ts";
import { checkDelimiter as check } from "./_delimiter_check.ts";

// The search of long delimiters (Knuth–Morris–Pratt, src/codec/_delimiter_search.ts):
// linear in the input whatever the delimiter and the chunking.

const X = (n: number) => "x".repeat(n);

/** "a…ab": `m - 1` times "a", then "b" (the audit's delimiter: every "a" extends a partial match). */
function aThenB(m: number): Uint8Array {
  const d = new Uint8Array(m).fill(0x61);
  d[m - 1] = 0x62;
  return d;
}

/**
 * Runs `body` and returns how many bytes the core read: every indexed read
 * of a chunk wrapped by `wrap` (an `indexOf` counts the bytes it passed
 * over), and of the core's carry buffer (wrapped each time the core keeps
 * bytes). Deterministic, unlike a time.
 */
function countReads(body: (wrap: (chunk: Uint8Array) => Uint8Array) => void): number {
  let reads = 0;
  const counting = new WeakSet<object>();
  const wrap = (bytes: Uint8Array): Uint8Array => {
    const view = new Proxy(bytes, {
      get(target, key) {
        if (typeof key === "string" && /^[0-9]/.test(key)) {
          reads++;
          return target[Number(key)];
        }
        if (key === "indexOf") {
          return (value: number, from: number) => {
            const at = target.indexOf(value, from);
            reads += (at < 0 ? target.length : at + 1) - from;
            return at;
          };
        }
        const value = Reflect.get(target, key, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    counting.add(view);
    return view;
  };
  const keep = Carry.prototype.keep;
  Carry.prototype.keep = function (this: Carry, chunk: Uint8Array, s: number, limit: number) {
    keep.call(this, chunk, s, limit);
    if (!counting.has(this.bytes)) this.bytes = wrap(this.bytes);
  };
  try {
    body(wrap);
  } finally {
    Carry.prototype.keep = keep;
  }
  return reads;
}

/** The small alphabet of the property tests ("a", "b", NUL), so that matches overlap often. */
const AB = [0x61, 0x62, 0];

/** Inputs up to `maxBytes` over {@linkcode AB}: copies, prefixes and suffixes of `d`, short strings and runs. */
function arbAround(d: Uint8Array, maxBytes: number): fc.Arbitrary<Uint8Array> {
  const piece = fc.oneof(
    fc.constant(d),
    fc.integer({ min: 1, max: d.length }).map((k) => d.subarray(0, k)),
    fc.integer({ min: 0, max: d.length - 1 }).map((k) => d.subarray(k)),
    fc.uint8Array({ min: 0, max: 2, minLength: 1, maxLength: 8 }).map((b) => b.map((x) => AB[x]!)),
    fc.tuple(fc.constantFrom(...AB), fc.integer({ min: 1, max: 400 })).map(([b, k]) =>
      new Uint8Array(k).fill(b)
    ),
  );
  return fc.array(piece, { maxLength: 30, size: "max" }).map((pieces) => {
    const out: number[] = [];
    for (const p of pieces) for (const b of p) if (out.length < maxBytes) out.push(b);
    return Uint8Array.from(out);
  });
}

/** Delimiters over {@linkcode AB}: short ones, and ones that start with a run of "a" (up to 606 bytes, past maxLength). */
const arbDelimiter: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ min: 0, max: 2, minLength: 1, maxLength: 12 }).map((b) => b.map((x) => AB[x]!)),
  fc.tuple(
    fc.integer({ min: 1, max: 600 }),
    fc.uint8Array({ min: 0, max: 2, minLength: 1, maxLength: 6 }),
  ).map(([k, tail]) =>
    Uint8Array.from([...new Uint8Array(k).fill(0x61), ...tail.map((x) => AB[x]!)])
  ),
);

describe("DelimiterCore search", () => {
  it("DelimiterCore finds a long self-overlapping delimiter, also when a cut falls inside a partial match", () => {
    check("aaaab", "aaaaaaab!aaaab", [["aaa", true], ["!", true]]);
    check("abcabd", "abcabcabdabcabcabd", [["abc", true], ["abc", true]]);
    // A partial match from 253 fails; the delimiter at 256 (= maxLength) ends the segment.
    check("abcabd", X(253) + "abcabcabd", [[X(253) + "abc", true]]);
    // One byte later it starts at 257: cut at 256, inside the partial match.
    check("abcabd", X(254) + "abcabcabd", [[X(254) + "ab", false], ["c", true]]);
    const nul = (k: number) => "\0".repeat(k);
    check("\0\0\0\0\x01", nul(300) + "\x01z", [[nul(256), false], [nul(40), true], ["z", false]]);
  });

  it("DelimiterCore handles a delimiter longer than maxLength", () => {
    const a = (k: number) => "a".repeat(k);
    check(a(300) + "b", a(600) + "bz", [[a(256), false], [a(44), true], ["z", false]]);
    check(a(300) + "b", a(700), [[a(256), false], [a(256), false], [a(188), false]]);
  });

  it("DelimiterCore reads each byte a bounded number of times whatever the delimiter length", () => {
    // Before, a delimiter of m bytes read up to 2m bytes per input byte
    // (the audit: 4 MB of "a" against "a…ab", 5 s for m = 256 in 1-byte
    // chunks). Now at most 8: m <= 4 in 1-byte chunks re-checks the starts
    // in the carry on each push (8 for m = 4); longer delimiters read 3.
    const n = 8192;
    const runs = new Uint8Array(n).fill(0x61);
    const pairs = bytes("ab".repeat(n / 2));
    for (const m of [1, 2, 3, 4, 5, 16, 64, 256, 1000]) {
      const abc = bytes("ab".repeat(m)).subarray(0, m);
      abc[m - 1] = 0x63; // "abab…c": its first byte recurs, though it has no border
      const cases: [Uint8Array, Uint8Array][] = [
        [runs, aThenB(m)],
        [runs, new Uint8Array(m).fill(0x61)],
        [pairs, abc],
      ];
      for (const [input, delimiter] of cases) {
        for (const size of [n, 1000, 7, 1]) {
          const reads = countReads((wrap) => {
            const core = new DelimiterCore({ delimiter, maxLength: 256 });
            for (const c of every(input, size)) core.push(wrap(c), () => {});
            core.flush(() => {});
          });
          const label = `${latin1(delimiter.subarray(0, 6))}… (m = ${m}), chunks of ${size}`;
          assert.ok(reads <= 8 * n, `${label}: ${reads / n} reads per byte`);
        }
      }
    }
  });

  it("DelimiterCore gives the reference output for overlapping delimiters of any length, any chunking", () => {
    fc.assert(
      fc.property(
        arbDelimiter.chain((d) =>
          fc.tuple(fc.constant(d), arbAround(d, 3000), fc.constantFrom(256, 256, 257))
        ).chain(([d, input, max]) =>
          fc.tuple(fc.constant([d, input, max] as const), arbCuts(input.length))
        ),
        ([[delimiter, input, maxLength], cuts]) => {
          const expected = refDelimiter(input, delimiter, maxLength);
          const core = new DelimiterCore({ delimiter, maxLength });
          assert.deepEqual(runCore(core, split(input, cuts)), expected);
          assert.deepEqual(runCore(core, every(input, 1)), expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("DelimiterCore gives the reference output when halted and emptied between chunks", () => {
    fc.assert(
      fc.property(
        arbDelimiter.chain((d) => fc.tuple(fc.constant(d), arbAround(d, 2000))).chain((
          [d, input],
        ) =>
          fc.tuple(
            fc.constant([d, input] as const),
            arbCuts(input.length),
            fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
            fc.array(fc.nat(24), { maxLength: 4 }),
          )
        ),
        ([[delimiter, input], cuts, halts, takes]) => {
          const core = new DelimiterCore({ delimiter, maxLength: 256 });
          const got: Out[] = [];
          let k = 0;
          let halted = false;
          const emit = (b: Uint8Array, eol: boolean) => {
            got.push([latin1(b), eol]);
            if (halts[k++ % halts.length]) {
              core.halt();
              halted = true;
            }
          };
          split(input, cuts).forEach((chunk, i) => {
            // Taking the rest and pushing it back (a partial match included) changes nothing.
            if (takes.includes(i)) core.push(core.takeRest(), emit);
            core.push(chunk, emit);
          });
          do {
            halted = false;
            core.flush(emit);
          } while (halted);
          assert.deepEqual(got, refDelimiter(input, delimiter, 256));
        },
      ),
      { numRuns: 200 },
    );
  });
});
