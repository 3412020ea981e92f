import { HandshakeParser } from "../src/ws/handshake.ts";
import { buildAcceptResponse } from "../src/ws/handshake_response.ts";
const g = globalThis as any;
const req = new TextEncoder().encode(
  "GET / HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
function once() {
  const r = new HandshakeParser().push(req.slice())!;
  const o = r.request.webSocket!;
  return buildAcceptResponse({ key: o.key });
}
function parseOnly() { return new HandshakeParser().push(req.slice())!; }
function respOnly() { return buildAcceptResponse({ key: "dGhlIHNhbXBsZSBub25jZQ==" }); }
for (const [name, fn] of [["parse+respond", once], ["parse", parseOnly], ["respond", respOnly]] as const) {
  for (let i = 0; i < 2000; i++) fn();
  g.gc();
  const h0 = Deno.memoryUsage().heapUsed;
  const keep = [];
  for (let i = 0; i < 1000; i++) keep.push(fn());
  const h1 = Deno.memoryUsage().heapUsed;
  console.log(name, ((h1 - h0) / 1000).toFixed(0), "bytes/handshake (incl. result)");
}
