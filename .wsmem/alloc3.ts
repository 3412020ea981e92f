import { acceptKey } from "../src/ws/handshake_response.ts";
import { HandshakeParser } from "../src/ws/handshake.ts";
const g = globalThis as any;
const enc = new TextEncoder();
const req = enc.encode("GET / HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
const tests: [string, () => unknown][] = [
  ["acceptKey", () => acceptKey("dGhlIHNhbXBsZSBub25jZQ==")],
  ["lean 101", () => enc.encode(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey("dGhlIHNhbXBsZSBub25jZQ==")}\r\n\r\n`)],
  ["new parser", () => new HandshakeParser()],
];
for (const [name, fn] of tests) {
  for (let i = 0; i < 2000; i++) fn();
  g.gc();
  const h0 = Deno.memoryUsage().heapUsed;
  const keep = [];
  for (let i = 0; i < 1000; i++) keep.push(fn());
  const h1 = Deno.memoryUsage().heapUsed;
  console.log(name, ((h1 - h0) / 1000).toFixed(0), "bytes");
}
