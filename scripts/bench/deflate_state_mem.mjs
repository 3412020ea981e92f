// deflate_state_mem.mjs: zlib state per permessage-deflate connection, for one
// option set: creates 1000 deflaters (or inflaters) of src/runtime/zlib.ts,
// passes one 250-byte JSON message through each and keeps them, then prints
// the process RSS growth per stream. Run once per set (a fresh process each):
//   node scripts/bench/deflate_state_mem.mjs .npm_deflate/esm/src/runtime/zlib.js 12 5 d
//   deno run -A scripts/bench/deflate_state_mem.mjs src/runtime/zlib.ts 15 8 i
//   bun scripts/bench/deflate_state_mem.mjs src/runtime/zlib.ts 9 1 d
// Arguments: module path (from the repository root), windowBits, memLevel,
// d (deflater) or i (inflater).
import process from "node:process";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [mod, wb, ml, which] = process.argv.slice(-4);
const { zlibEngine } = await import(pathToFileURL(path.resolve(mod)).href);
const e = zlibEngine();
const rss = () => process.memoryUsage().rss / 1024;
const msg = new TextEncoder().encode(JSON.stringify({ a: "hello world ".repeat(20) }));
const N = 1000;
const before = rss();
const keep = [];
for (let k = 0; k < N; k++) {
  const d = e.createDeflater({ windowBits: +wb, memLevel: +ml, level: 1, noContextTakeover: false });
  const i = e.createInflater({ windowBits: +wb, noContextTakeover: false });
  i.inflate(d.deflate(msg), true, 1e6);
  if (which === "d") keep.push(d), i.close();
  else keep.push(i), d.close();
}
console.log(
  `windowBits ${wb} memLevel ${ml} ${which === "d" ? "deflater" : "inflater"}: ` +
    `${((rss() - before) / N).toFixed(1)} KiB per connection`,
);
