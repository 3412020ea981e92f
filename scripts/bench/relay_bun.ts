// relay_bun.ts: the hand-written Bun WebSocket-to-TCP relay that
// scripts/bench_proxy.ts --hand measures `netstreams proxy` against (Bun's
// ceiling: no library, one process, one thread).
//
// `Bun.listen` / `Bun.connect` callbacks. Per connection: gather the HTTP/1.1
// upgrade request (at most 8 KiB, else close), answer 101 (Sec-WebSocket-
// Protocol: binary if offered), connect to the target (client reading is
// paused meanwhile; payload bytes that still come are kept until it is up).
//   client -> target: client frames are parsed (7/16/64-bit lengths, any split
//          across chunks); each payload run is unmasked in place a 32-bit word
//          at a time, then moved towards the front of the same chunk
//          (copyWithin); then one write of the payload bytes of that chunk. A
//          close frame closes both sides; other control frames are dropped.
//   target -> client: each chunk becomes one unmasked binary frame, its 2/4/10-
//          byte header and the chunk copied into one reused buffer, one write
//          (one send(2) and one TCP segment per frame, not two).
// Backpressure: Bun's `write` takes what the kernel accepts and returns that
// count without buffering the rest, so a short write queues the remainder
// (copied) and pauses the other socket; `drain` flushes the queue and resumes
// it. Either side closing ends the other (after its queue is flushed). The
// frame parsing and unmasking, the frame header, the 101 response and the
// arguments are _relay_core.mjs's.
//
// Run: bun scripts/bench/relay_bun.ts --target HOST:PORT [--port 0] [--hostname 127.0.0.1]
// The first stdout line is "listening on HOST:PORT". SIGINT/SIGTERM exit.
import { Buffer } from "node:buffer";
import process from "node:process";
import {
  frameHeader,
  HEAD_MAX,
  newParser,
  parseArgs,
  type Parser,
  response,
  unmaskCompact,
} from "./_relay_core.mjs";

/** The part of Bun's socket API used here (no Bun type package is installed). */
interface BunSocket {
  data: Relay;
  write(bytes: Uint8Array): number;
  pause(): void;
  resume(): void;
  end(): void;
  setNoDelay(on: boolean): boolean;
}
interface BunSocketHandlers {
  open(s: BunSocket): void;
  data(s: BunSocket, chunk: Buffer): void;
  drain(s: BunSocket): void;
  close(s: BunSocket): void;
  error(s: BunSocket, err: Error): void;
  connectError?(s: BunSocket, err: Error): void;
}
declare const Bun: {
  listen(o: { hostname: string; port: number; socket: BunSocketHandlers }): {
    hostname: string;
    port: number;
  };
  connect(
    o: { hostname: string; port: number; data: Relay; socket: BunSocketHandlers },
  ): Promise<BunSocket>;
};

interface Relay {
  client: BunSocket;
  target: BunSocket | null; // null until connected
  head: Buffer | null; // the upgrade request gathered so far; null once upgraded
  upgraded: boolean;
  early: Uint8Array[]; // payload bytes that came before the target was up
  toClient: Uint8Array[] | null; // bytes the kernel did not take yet
  toTarget: Uint8Array[] | null;
  ending: boolean; // one side closed: end each socket once its queue is empty
  p: Parser;
}

let out = new Uint8Array(64 * 1024 + 10); // frames to the client, reused (copied if queued)

const args = parseArgs(process.argv.slice(2)) ?? usage();

const targetHandlers: BunSocketHandlers = {
  open(t) {
    const r = t.data;
    t.setNoDelay(true);
    r.target = t;
    for (const bytes of r.early) toTarget(r, bytes);
    r.early.length = 0;
    if (r.ending) {
      if (!r.toTarget) t.end();
    } else if (!r.toTarget) r.client.resume();
  },
  data(t, chunk) {
    const r = t.data;
    if (r.ending) return;
    const n = chunk.length;
    if (out.length < n + 10) out = new Uint8Array(n + 10);
    out.set(chunk, 10);
    const h = frameHeader(out, n);
    toClient(r, out.subarray(h, 10 + n));
  },
  drain(t) {
    const r = t.data;
    if (!flush(t, r.toTarget)) return;
    r.toTarget = null;
    if (r.ending) t.end();
    else r.client.resume();
  },
  close(t) {
    closeBoth(t.data);
  },
  error(t) {
    closeBoth(t.data);
  },
  connectError(t) {
    closeBoth(t.data);
  },
};

const server = Bun.listen({
  hostname: args.hostname,
  port: args.port,
  socket: {
    open(s) {
      s.setNoDelay(true);
      s.data = {
        client: s,
        target: null,
        head: null,
        upgraded: false,
        early: [],
        toClient: null,
        toTarget: null,
        ending: false,
        p: newParser(),
      };
    },
    data(s, chunk) {
      const r = s.data;
      if (r.ending) return;
      if (!r.upgraded) {
        const head = r.head = r.head ? Buffer.concat([r.head, chunk]) : chunk;
        const end = head.indexOf("\r\n\r\n");
        if (end < 0 ? head.length >= HEAD_MAX : end + 4 > HEAD_MAX) return closeBoth(r);
        if (end < 0) return;
        const res = response(head.toString("latin1", 0, end + 4));
        if (res === null) {
          s.write(Buffer.from("HTTP/1.1 400 Bad Request\r\n\r\n"));
          return closeBoth(r);
        }
        r.upgraded = true;
        r.head = null;
        toClient(r, Buffer.from(res, "latin1"));
        s.pause(); // until the target is up
        Bun.connect({
          hostname: args.targetHost,
          port: args.targetPort,
          data: r,
          socket: targetHandlers,
        }).catch(() => closeBoth(r));
        chunk = head.subarray(end + 4);
        if (chunk.length === 0) return;
      }
      const words = new Int32Array(chunk.buffer, 0, chunk.buffer.byteLength >> 2);
      const dst = unmaskCompact(r.p, chunk, words, chunk.length);
      if (dst > 0) {
        if (r.target) toTarget(r, chunk.subarray(0, dst));
        else r.early.push(chunk.slice(0, dst));
      }
      if (r.p.closed) closeBoth(r);
    },
    drain(s) {
      const r = s.data;
      if (!flush(s, r.toClient)) return;
      r.toClient = null;
      if (r.ending) s.end();
      else r.target?.resume();
    },
    close(s) {
      closeBoth(s.data);
    },
    error(s) {
      closeBoth(s.data);
    },
  },
});
const host = server.hostname.includes(":") ? `[${server.hostname}]` : server.hostname;
console.log(`listening on ${host}:${server.port}`);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(0));

/** Writes now, or queues behind earlier bytes; a queue pauses the target's reading. */
function toClient(r: Relay, bytes: Uint8Array): void {
  if (r.toClient) return void r.toClient.push(bytes.slice());
  const w = r.client.write(bytes);
  if (w < bytes.length) {
    r.toClient = [bytes.slice(Math.max(w, 0))];
    r.target?.pause();
  }
}

/** Writes now, or queues behind earlier bytes; a queue pauses the client's reading. */
function toTarget(r: Relay, bytes: Uint8Array): void {
  if (r.toTarget) return void r.toTarget.push(bytes.slice());
  const w = r.target!.write(bytes);
  if (w < bytes.length) {
    r.toTarget = [bytes.slice(Math.max(w, 0))];
    r.client.pause();
  }
}

/** Writes the queue out as far as the kernel takes it; true when it is empty. */
function flush(s: BunSocket, queue: Uint8Array[] | null): boolean {
  while (queue && queue.length > 0) {
    const head = queue[0];
    const w = s.write(head);
    if (w < head.length) {
      queue[0] = head.subarray(Math.max(w, 0));
      return false;
    }
    queue.shift();
  }
  return true;
}

/** Ends both sockets, each once its queue is written (idempotent). */
function closeBoth(r: Relay): void {
  if (r.ending) return;
  r.ending = true;
  if (!r.toClient) r.client.end();
  if (r.target && !r.toTarget) r.target.end();
}

function usage(): never {
  console.error("usage: relay_bun.ts --target HOST:PORT [--port N] [--hostname H]");
  process.exit(2);
}
