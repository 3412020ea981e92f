/**
 * What permessage-deflate costs and saves on small JSON messages, to pick
 * the default `threshold` (issue 5). For chat-like JSON of 64 B to 4 KiB,
 * with the server's default settings (12-bit window, memLevel 5, level 1)
 * and context takeover on and off: CPU per message (µs) of our `node:zlib`
 * engine against the plain frame copy, compressed size, and bytes saved per
 * µs of CPU.
 *
 * Run: deno run -A scripts/bench/deflate_threshold.mjs
 *      bun scripts/bench/deflate_threshold.mjs
 *      node scripts/bench/deflate_threshold.mjs ./.npm_NAME/esm/src/runtime/zlib.js  (after build_npm)
 */

const path = process.argv[2] ?? globalThis.Deno?.args?.[0] ?? "../../src/runtime/zlib.ts";
const { zlibEngine } = await import(
  path.startsWith(".") && !path.startsWith("../")
    ? new URL("../../" + path.slice(2), import.meta.url).href
    : path
);
const engine = zlibEngine();
const enc = new TextEncoder();
const runtime = globalThis.Deno ? "deno" : globalThis.Bun ? "bun" : "node";

const users = ["alice", "bob", "carol", "dave", "eve"];
const phrases = [
  "hello everyone",
  "did you see the game last night?",
  "lunch at noon?",
  "ok",
  "the build is green again",
  "can someone review my pull request",
  "brb",
  "ship it",
  "I think the proxy needs a restart",
  "thanks!",
];
/** A chat message of about `size` bytes, different each `k`. */
function chat(size, k) {
  let text = "";
  for (let j = k; text.length < size; j = (j * 7 + 3) % 101) {
    text += phrases[j % phrases.length] + " ";
  }
  const base = { type: "msg", user: users[k % users.length], seq: k };
  const overhead = JSON.stringify({ ...base, text: "" }).length;
  return enc.encode(JSON.stringify({ ...base, text: text.slice(0, Math.max(0, size - overhead)) }));
}

const N = 20000;
const SIZES = [64, 128, 256, 512, 1024, 4096];
const sink = [];

function time(fn) {
  const t0 = performance.now();
  fn();
  return ((performance.now() - t0) * 1000) / N;
}

console.log(`# ${runtime}: ${N} messages per row, median of 5 runs`);
console.log(
  "size | takeover | plain copy µs | deflate µs | bytes out (incl. 2-4 B header) | saved B/msg | saved B per µs",
);
for (const size of SIZES) {
  const msgs = Array.from({ length: N }, (_, k) => chat(size, k));
  for (const takeover of [true, false]) {
    const copies = [], deflates = [];
    let out = 0;
    for (let run = 0; run < 5; run++) {
      copies.push(time(() => {
        for (const m of msgs) {
          const b = new Uint8Array(m.length + 4);
          b.set(m, 4);
          sink[0] = b;
        }
      }));
      const d = engine.createDeflater({
        windowBits: 12,
        memLevel: 5,
        level: 1,
        noContextTakeover: !takeover,
      });
      out = 0;
      deflates.push(time(() => {
        for (const m of msgs) {
          const z = d.deflate(m);
          out += z.length;
          sink[0] = z;
        }
      }));
      d.close();
    }
    const med = (a) => a.sort((x, y) => x - y)[2];
    const head = (n) => (n < 126 ? 2 : 4);
    const inLen = msgs.reduce((n, m) => n + m.length + head(m.length), 0) / N;
    const outLen = out / N + head(out / N);
    const saved = inLen - outLen;
    const extra = med(deflates) - med(copies);
    console.log(
      `${size} | ${takeover ? "on " : "off"} | ${med(copies).toFixed(2)} | ${
        med(deflates).toFixed(2)
      } | ` +
        `${outLen.toFixed(0)} of ${inLen.toFixed(0)} | ${saved.toFixed(0)} | ${
          (saved / extra).toFixed(1)
        }`,
    );
  }
}
