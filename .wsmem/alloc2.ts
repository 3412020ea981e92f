import { latin1 } from "../src/ws/_http.ts";
import { parseHead } from "../src/ws/_request_head.ts";
const g = globalThis as any;
const text = "GET / HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
const bytes = new TextEncoder().encode(text);
const tests: [string, () => unknown][] = [
  ["latin1", () => latin1(bytes)],
  ["parseHead", () => parseHead(text)],
  ["headers7", () => { const h = new Headers(); for (let i = 0; i < 6; i++) h.append("Sec-WebSocket-Key" + i, "value"); return h; }],
  ["headers get x6", () => { const h = H; for (let i = 0; i < 6; i++) h.get("sec-websocket-version"); return 0; }],
  ["subarray x8", () => { for (let i = 0; i < 8; i++) bytes.subarray(i, 100).indexOf(10); return 0; }],
];
const H = new Headers([["Host","a"],["Upgrade","websocket"],["Connection","Upgrade"],["Sec-WebSocket-Key","x"],["Sec-WebSocket-Version","13"]]);
for (const [name, fn] of tests) {
  for (let i = 0; i < 2000; i++) fn();
  g.gc();
  const h0 = Deno.memoryUsage().heapUsed;
  const keep = [];
  for (let i = 0; i < 1000; i++) keep.push(fn());
  const h1 = Deno.memoryUsage().heapUsed;
  console.log(name, ((h1 - h0) / 1000).toFixed(0), "bytes");
}
function latin1b(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096) as unknown as number[]);
  }
  return s;
}
const dec = new TextDecoder("iso-8859-1");
for (const [name, fn] of [["latin1 apply", () => latin1b(bytes)], ["textdecoder latin1", () => dec.decode(bytes)]] as const) {
  for (let i = 0; i < 2000; i++) fn();
  g.gc();
  const h0 = Deno.memoryUsage().heapUsed;
  const keep = [];
  for (let i = 0; i < 1000; i++) keep.push(fn());
  const h1 = Deno.memoryUsage().heapUsed;
  console.log(name, ((h1 - h0) / 1000).toFixed(0), "bytes");
}
console.log(latin1b(new Uint8Array([0x80, 0x9f, 0xff])).split("").map(c => c.charCodeAt(0)));
