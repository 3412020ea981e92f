import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { getRuntime, runtimeName } from "../../src/runtime/mod.ts";
import { pieceCopy } from "../../src/codec/_carry.ts";

describe("pieceCopy", () => {
  it("is set by the Bun adapter only, and copies [a, b) of a Buffer or a Uint8Array at any offset", async () => {
    await getRuntime(); // loads the native adapter, which chooses
    const copy = pieceCopy.copy;
    if (runtimeName() !== "bun") {
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
});
