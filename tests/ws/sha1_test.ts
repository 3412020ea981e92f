import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { sha1 } from "../../src/ws/_sha1.ts";

describe("sha1", () => {
  it("sha1 matches node:crypto for every padding edge and twice in a row (shared scratch)", () => {
    for (const n of [0, 1, 55, 56, 60, 63, 64, 65, 119, 120, 127, 128, 200, 1000]) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 255);
      const want = createHash("sha1").update(data).digest("hex");
      for (let round = 0; round < 2; round++) {
        const got = [...sha1(data)].map((b) => b.toString(16).padStart(2, "0")).join("");
        assert.equal(got, want, `length ${n}, round ${round}`);
      }
    }
  });
});
