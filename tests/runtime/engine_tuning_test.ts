import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import fc from "fast-check";
import { getRuntime, runtimeName } from "../../src/runtime/mod.ts";
import { pieceCopy } from "../../src/codec/_carry.ts";
import { lineScan } from "../../src/codec/_scan.ts";
import { engine } from "../../src/_engine.ts";
import { isValidUtf8 } from "../../src/ws/utf8_validator.ts";

describe("engine tuning", () => {
  it("Bun, and only Bun, gets indexOf line scans, costly views and a piece copier that copies [a, b) at any offset", async () => {
    await getRuntime(); // the first adapter load tunes the engine
    const bun = runtimeName() === "bun";
    assert.equal(lineScan.byIndexOf, bun);
    assert.equal(engine.costlyViews, bun);
    const copy = pieceCopy.copy;
    if (!bun) {
      assert.equal(copy, undefined, "views are cheap on V8: no copies");
      return;
    }
    assert.ok(copy !== undefined);
    const backing = new Uint8Array(300).map((_, i) => (i * 7) & 0xff);
    for (const chunk of [backing.subarray(5, 260), Buffer.from(backing.buffer, 3, 200)]) {
      for (const [a, b] of [[0, 0], [0, 1], [10, 74], [chunk.length - 128, chunk.length]]) {
        const got = copy(chunk, a!, b!);
        assert.deepEqual([...got], [...chunk.subarray(a, b)]);
        assert.notEqual(got.buffer, chunk.buffer, "a copy, not a view");
        assert.equal(Object.getPrototypeOf(got), Uint8Array.prototype);
      }
    }
  });

  it("the native UTF-8 check, where there is one, agrees with the JavaScript validator on any bytes", async () => {
    await getRuntime();
    const native = engine.isUtf8;
    // process.getBuiltinModule exists on Deno, Bun and Node >= 20.16, and node:buffer has isUtf8.
    assert.equal(typeof native, "function");
    assert.equal(engine.nativeUtf8From, runtimeName() === "bun" ? 0 : 256);
    const cases = [
      "",
      "ce ba e1 bd b9 cf 83 ce bc ce b5", // κόσμε
      "ed a0 80", // a UTF-16 surrogate
      "f4 90 80 80", // above U+10FFFF
      "c0 af", // overlong
      "e2 82", // truncated
      "f0 9f 98 80", // U+1F600
      "ef bf bf",
      "80",
    ];
    for (const c of cases) {
      const b = new Uint8Array(c.split(" ").filter(Boolean).map((h) => parseInt(h, 16)));
      assert.equal(native!(b), isValidUtf8(b), c);
    }
    const interesting = [0x61, 0x7f, 0x80, 0xbf, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5];
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 600 }),
          fc.array(fc.constantFrom(...interesting), { maxLength: 600 }).map((a) =>
            new Uint8Array(a)
          ),
          fc.string({ unit: "grapheme", maxLength: 300 }).map((s) => new TextEncoder().encode(s)),
        ),
        (b) => native!(b) === isValidUtf8(b),
      ),
      { numRuns: 2000 },
    );
  });
});
