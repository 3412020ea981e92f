// relay_node.mjs: the hand-written node:net WebSocket-to-TCP relay that
// scripts/bench_proxy.ts --hand measures `netstreams proxy` against (Node's
// ceiling: no library, one process, one thread).
//
// Per connection: gather the HTTP/1.1 upgrade request (at most 8 KiB, else
// close), answer 101 (Sec-WebSocket-Protocol: binary if offered) and connect
// to the target at once (writes made while it connects are queued by Node).
//   client -> target: client frames are parsed (7/16/64-bit lengths, any split
//          across chunks); each payload run is unmasked in place a 32-bit word
//          at a time, then moved towards the front of the same chunk
//          (copyWithin); then one write of the payload bytes of that chunk. A
//          close frame closes both sides; other control frames are dropped.
//   target -> client: each chunk becomes one unmasked binary frame: a 2/4/10-
//          byte header and the chunk written corked (one writev).
// Backpressure: a write() that returns false (over a 256 KiB high-water mark)
// pauses the other socket until 'drain'. Either side closing ends the other
// (after its queued writes); an error destroys both. The frame parsing and
// unmasking, the frame header, the 101 response and the arguments are
// _relay_core.mjs's.
//
// Run: node scripts/bench/relay_node.mjs --target HOST:PORT [--port 0]
//        [--hostname 127.0.0.1]
// The first stdout line is "listening on HOST:PORT". SIGINT/SIGTERM exit.
import net from "node:net";
import process from "node:process";
import {
  frameHeader,
  HEAD_MAX,
  newParser,
  parseArgs,
  response,
  unmaskCompact,
} from "./_relay_core.mjs";

// Node's default (16 KiB) is below one 64 KiB read: write() would return false, and the
// other socket pause, after nearly every chunk.
const HIGH_WATER_MARK = 256 * 1024;

const args = parseArgs(process.argv.slice(2)) ?? usage();
const server = net.createServer({ noDelay: true, highWaterMark: HIGH_WATER_MARK }, accept);
server.on("error", (err) => {
  console.error(err);
  process.exit(1);
});
server.listen({ host: args.hostname, port: args.port, backlog: 4096 }, () => {
  const { address, port } = server.address();
  console.log(`listening on ${address.includes(":") ? `[${address}]` : address}:${port}`);
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(0));

/** Gathers the upgrade request, then hands the connection to relay(). */
function accept(client) {
  let head = null;
  client.on("error", () => {});
  const onHead = (chunk) => {
    head = head ? Buffer.concat([head, chunk]) : chunk;
    const end = head.indexOf("\r\n\r\n");
    if (end < 0 ? head.length >= HEAD_MAX : end + 4 > HEAD_MAX) return void client.destroy();
    if (end < 0) return;
    client.removeListener("data", onHead);
    const res = response(head.toString("latin1", 0, end + 4));
    if (res === null) return void client.end("HTTP/1.1 400 Bad Request\r\n\r\n");
    client.write(res);
    relay(client, head.subarray(end + 4));
  };
  client.on("data", onHead);
}

function relay(client, rest) {
  const target = net.connect({
    host: args.targetHost,
    port: args.targetPort,
    noDelay: true,
    highWaterMark: HIGH_WATER_MARK,
  });
  const p = newParser();
  let clientPaused = false, targetPaused = false;

  const up = (chunk) => {
    const words = new Int32Array(chunk.buffer, 0, chunk.buffer.byteLength >> 2);
    const dst = unmaskCompact(p, chunk, words, chunk.length);
    if (dst > 0 && !target.write(chunk.subarray(0, dst)) && !clientPaused) {
      clientPaused = true;
      client.pause();
    }
    if (p.closed) {
      client.removeListener("data", up);
      client.end();
      target.end();
    }
  };
  target.on("drain", () => {
    if (clientPaused) {
      clientPaused = false;
      client.resume();
    }
  });
  target.on("data", (chunk) => {
    const header = Buffer.allocUnsafe(10); // fresh: a corked write keeps a reference
    const h = frameHeader(header, chunk.length);
    client.cork();
    client.write(header.subarray(h));
    const ok = client.write(chunk);
    client.uncork();
    if (!ok && !targetPaused) {
      targetPaused = true;
      target.pause();
    }
  });
  client.on("drain", () => {
    if (targetPaused) {
      targetPaused = false;
      target.resume();
    }
  });
  client.on("error", () => target.destroy());
  target.on("error", () => client.destroy());
  client.on("close", () => target.end());
  target.on("close", () => client.end());
  if (rest.length > 0) up(rest);
  if (!p.closed) client.on("data", up);
}

/** @returns {never} */
function usage() {
  console.error("usage: relay_node.mjs --target HOST:PORT [--port N] [--hostname H]");
  process.exit(2);
}
