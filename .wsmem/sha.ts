import { sha1 } from "../src/ws/_sha1.ts";
import { createHash } from "node:crypto";
for (const n of [0, 1, 55, 56, 60, 63, 64, 65, 119, 120, 200, 1000]) {
  const d = new Uint8Array(n).map((_, i) => (i * 7 + n) & 255);
  const a = Buffer.from(sha1(d)).toString("hex");
  const b = createHash("sha1").update(d).digest("hex");
  if (a !== b) throw new Error(`mismatch at ${n}`);
  // twice, to check the scratch is reset
  if (Buffer.from(sha1(d)).toString("hex") !== b) throw new Error(`mismatch 2 at ${n}`);
}
console.log("sha1 ok");
