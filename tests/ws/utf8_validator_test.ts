import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { isValidUtf8, Utf8Validator } from "../../src/ws/utf8_validator.ts";
import { chunkings } from "../codec/_chunkings.ts";

const hex = (s: string) => new Uint8Array(s.split(" ").filter(Boolean).map((h) => parseInt(h, 16)));
const fatal = new TextDecoder("utf-8", { fatal: true });

/** The oracle: whether some continuation could still make `b` valid (TextDecoder decides). */
function viable(b: Uint8Array): boolean {
  const tails = [
    [],
    [0x80],
    [0x80, 0x80],
    [0x80, 0x80, 0x80],
    [0x90],
    [0x90, 0x80],
    [
      0x90,
      0x80,
      0x80,
    ],
    [0xa0],
    [0xa0, 0x80],
  ];
  return tails.some((t) => {
    const all = new Uint8Array(b.length + t.length);
    all.set(b);
    all.set(t, b.length);
    try {
      fatal.decode(all);
      return true;
    } catch {
      return false;
    }
  });
}

/** Index of the first byte after which no continuation can make `b` valid, or -1. */
function refFailAt(b: Uint8Array): number {
  for (let i = 0; i < b.length; i++) if (!viable(b.subarray(0, i + 1))) return i;
  return -1;
}

/**
 * Feeds chunks; returns where the chunk whose push failed starts (-1 if
 * none), where it ends, and end().
 */
function feed(chunks: Uint8Array[]): [number, boolean, number] {
  const v = new Utf8Validator();
  let at = 0;
  for (const c of chunks) {
    if (!v.push(c)) return [at, v.end(), at + c.length];
    at += c.length;
  }
  return [-1, v.end(), at];
}

// Markus Kuhn's UTF-8 decoder stress test categories (the source of Autobahn 6.x).
const PREFIX = "61 ce ba e1 bd b9 cf 83 ce bc ce b5"; // "aκόσμε"
const P = hex(PREFIX).length;
const INVALID: [string, string, number][] = [
  ["unexpected continuation", "80", 0],
  ["unexpected continuation", "bf", 0],
  ["continuation after ASCII", "61 80 bf", 1],
  ["lonely 2-byte start", "c2 20", 1],
  ["lonely 3-byte start", "e1 20", 1],
  ["lonely 4-byte start", "f1 20", 1],
  ["impossible byte", "fe", 0],
  ["impossible byte", "ff", 0],
  ["5-byte start", "f8 88 80 80 80", 0],
  ["6-byte start", "fc 84 80 80 80 80", 0],
  ["overlong '/' in 2 bytes", "c0 af", 0],
  ["overlong '/' in 3 bytes", "e0 80 af", 1],
  ["overlong '/' in 4 bytes", "f0 80 80 af", 1],
  ["largest overlong 2 bytes", "c1 bf", 0],
  ["largest overlong 3 bytes", "e0 9f bf", 1],
  ["largest overlong 4 bytes", "f0 8f bf bf", 1],
  ["overlong NUL", "c0 80", 0],
  ["single high surrogate U+D800", "ed a0 80", 1],
  ["single high surrogate U+DB7F", "ed ad bf", 1],
  ["single low surrogate U+DC00", "ed b0 80", 1],
  ["single low surrogate U+DFFF", "ed bf bf", 1],
  ["paired surrogates", "ed a0 80 ed b0 80", 1],
  ["above U+10FFFF", "f4 90 80 80", 1],
  ["F5 lead", "f5 80 80 80", 0],
  ["two-byte sequence cut by ASCII", "ce 61", 1],
  ["four-byte sequence cut by a lead", "f0 9f 98 f0", 3],
];
const VALID = [
  "00",
  "7f",
  "c2 80",
  "df bf",
  "e0 a0 80",
  "ed 9f bf",
  "ee 80 80",
  "ef bf bd",
  "ef bf bf",
  "f0 90 80 80",
  "f4 8f bf bf",
  "f0 9f 98 80",
];
const INCOMPLETE = ["c2", "e0 a0", "f0 90 80", "f4 8f bf", "e2 82"];

describe("Utf8Validator", () => {
  it("Utf8Validator fails at the first impossible byte of every Kuhn stress case, for every split", () => {
    for (const [name, seq, at] of INVALID) {
      const input = new Uint8Array([...hex(PREFIX), ...hex(seq), ...hex("61 62")]);
      assert.equal(refFailAt(input), P + at, `oracle: ${name}`);
      for (const [label, chunks] of chunkings(input)) {
        // The failing push is the one holding byte P + at.
        const [start, ok, end] = feed(chunks);
        assert.ok(start <= P + at && P + at < end, `${name}: ${label}`);
        assert.equal(ok, false);
      }
    }
  });

  it("Utf8Validator accepts boundary code points for every split", () => {
    for (const seq of VALID) {
      const input = new Uint8Array([...hex(PREFIX), ...hex(seq)]);
      for (const [label, chunks] of chunkings(input)) {
        assert.deepEqual(feed(chunks).slice(0, 2), [-1, true], `${seq}: ${label}`);
      }
    }
  });

  it("Utf8Validator reports a sequence truncated at the end of the text", () => {
    for (const seq of INCOMPLETE) {
      for (const [label, chunks] of chunkings(hex(seq))) {
        assert.deepEqual(feed(chunks).slice(0, 2), [-1, false], `${seq}: ${label}`);
      }
    }
  });

  it("Utf8Validator stays failed until reset and validates long ASCII runs at any alignment", () => {
    const v = new Utf8Validator();
    assert.equal(v.push(hex("ff")), false);
    assert.equal(v.failed, true);
    assert.equal(v.push(hex("61")), false);
    v.reset();
    assert.equal(v.push(hex("61")), true);
    assert.equal(v.complete, true);
    for (let offset = 0; offset < 4; offset++) {
      for (const bad of [0, 31, 32, 33, 63, 99]) {
        const buf = new Uint8Array(100 + offset).fill(0x41).subarray(offset);
        assert.equal(isValidUtf8(buf), true);
        buf[bad] = 0x80;
        assert.equal(refFailAt(buf), bad);
        assert.deepEqual(feed([buf]), [0, false, 100]);
      }
    }
  });

  it("Utf8Validator agrees with a fatal TextDecoder on any bytes and any chunking", () => {
    const byte = fc.oneof(
      fc.integer({ min: 0, max: 0x7f }),
      fc.integer({ min: 0x80, max: 0xbf }),
      fc.constantFrom(0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff),
    );
    const text = fc.string({ unit: "binary", maxLength: 40 }).map((s) =>
      new TextEncoder().encode(s)
    );
    fc.assert(
      fc.property(
        fc.oneof(fc.array(byte, { maxLength: 40 }).map((a) => new Uint8Array(a)), text),
        fc.array(fc.nat(40), { maxLength: 5 }),
        (input, cuts) => {
          const ref = refFailAt(input);
          // One byte at a time: fails exactly at the oracle's byte.
          const v = new Utf8Validator();
          let failedAt = -1;
          for (let i = 0; i < input.length && failedAt < 0; i++) {
            if (!v.push(input.subarray(i, i + 1))) failedAt = i;
          }
          assert.equal(failedAt, ref);
          let valid = true;
          try {
            fatal.decode(input);
          } catch {
            valid = false;
          }
          assert.equal(isValidUtf8(input), valid);
          // Any chunking: the failing push is the one holding that byte.
          const sorted = cuts.filter((c) => c <= input.length).sort((a, b) => a - b);
          const chunks: Uint8Array[] = [];
          let at = 0;
          for (const c of sorted) chunks.push(input.subarray(at, c)), at = c;
          chunks.push(input.subarray(at));
          const [start, ok, end] = feed(chunks);
          assert.equal(ok, valid);
          if (ref < 0) assert.equal(start, -1);
          else {assert.ok(
              start <= ref && ref < end,
              `failed in [${start}, ${end}), expected ${ref}`,
            );}
        },
      ),
      { numRuns: 2000 },
    );
  });
});
