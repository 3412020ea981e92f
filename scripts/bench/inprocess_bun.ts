// inprocess_bun.ts: CPU time per echoed line or WebSocket message of the
// library on Bun, without the network. `Bun.listen` is replaced by a fake
// that captures the adapter's socket handlers; they are then fed chunks by
// hand, and the fake socket's write takes everything. The figure is process
// CPU time (user + system) per unit: on a shared host it moves much less than
// wall time or loopback throughput (the Bun rows of the README use it).
//
//   lines: chunks of N 64-byte CRLF lines, `tcp-echo --lines` as the CLI does it;
//   hand:  the same chunks through the hand loop of scripts/bench/echo_bun.ts;
//   ws:    chunks of N masked 64-byte text frames, `ws-echo` as the CLI does it
//          (after a real handshake);
//   bulk:  chunks of --chunk-size bytes (default 256 KiB, about what Bun reads
//          at once from a busy socket), `tcp-echo` plain mode as the CLI does it;
//   hand-bulk: the same chunks through `send` of scripts/bench/echo_bun.ts.
// In the bulk modes most of the time is the copy into each fresh chunk and the
// garbage collections it triggers: the figure is CPU time per chunk.
// --ballast KB keeps that many KB of small objects alive before measuring:
// JavaScriptCore starts a young collection after about 8 MiB minus the live
// heap has been allocated, so a larger heap collects more often. The hand
// loop with `--ballast 700` (about the library's code and state) collects as
// often as `bulk` does (BUN_JSC_logGC=1 prints each collection).
//
// Run (from the repository root, node_modules/.bin on PATH):
//   bun scripts/bench/inprocess_bun.ts lines|hand|ws|bulk|hand-bulk [--per-chunk N]
//     [--chunk-size BYTES] [--ballast KB] [--root DIR]
// --root measures another checkout (a `git worktree` of an older commit):
// alternate runs of two roots to compare them.
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { lineChunk, serveLineEcho } from "./_inprocess.ts";

declare const Bun: {
  listen: unknown;
  Transpiler: new (o: { loader: string }) => { transformSync(code: string): string };
};

/** The adapter's handlers, as far as used here. */
interface Handlers {
  open(raw: FakeRaw): void;
  data(raw: FakeRaw, chunk: Uint8Array): void;
}
type FakeRaw = ReturnType<typeof fakeRaw>;

const argv = process.argv.slice(2);
const mode = argv[0] ?? "lines";
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(name);
  return i === -1 ? dflt : argv[i + 1] ?? dflt;
};
const perChunk = Number(opt("--per-chunk", "16"));
const root = path.resolve(opt("--root", "."));
const chunkSize = Number(opt("--chunk-size", "262144"));
const ballastKb = Number(opt("--ballast", "0"));
if (
  !["lines", "hand", "ws", "bulk", "hand-bulk"].includes(mode) || !(perChunk >= 1) ||
  !(ballastKb >= 0) ||
  !(chunkSize >= 1)
) {
  console.error(
    "usage: inprocess_bun.ts lines|hand|ws|bulk|hand-bulk [--per-chunk N] [--chunk-size BYTES] " +
      "[--ballast KB] [--root DIR]",
  );
  process.exit(2);
}
const UNITS = 6_000_000; // per measured run
const BULK_CHUNKS = 20_000; // per measured run of the bulk modes

let sink = 0;
function fakeRaw() {
  return {
    data: undefined as unknown,
    remoteAddress: "127.0.0.1",
    remotePort: 40000,
    localAddress: "127.0.0.1",
    localPort: 7000,
    write(b: Uint8Array, _off?: number, len?: number): number {
      const n = len ?? b.byteLength;
      sink += n;
      return n;
    },
    shutdown() {},
    end() {},
    terminate() {},
    pause() {},
    resume() {},
    setNoDelay: () => true,
    setKeepAlive: () => true,
  };
}

/** Runs `feed` on fresh copies of `chunk` (Bun gives a fresh buffer per read); CPU ns per unit. */
function measure(
  feed: (c: Uint8Array) => void,
  chunk: Uint8Array,
  units: number,
  chunks = Math.max(1, Math.floor(UNITS / units)),
): number {
  const run = (n: number) => {
    for (let i = 0; i < n; i++) feed(Buffer.from(chunk));
  };
  run(chunks >> 2);
  const c0 = process.cpuUsage();
  run(chunks);
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) * 1000) / (chunks * units);
}

/** Captures the handlers the Bun adapter passes to `Bun.listen`. */
function fakeListen(): () => Handlers {
  let handlers: Handlers | undefined;
  (globalThis as unknown as { Bun: { listen: unknown } }).Bun.listen = (
    o: { hostname: string; socket: Handlers },
  ) => {
    handlers = o.socket;
    return { hostname: o.hostname, port: 7000, stop() {} };
  };
  return () => handlers!;
}

/** Opens one fake connection on the captured handlers; resolves once the server has it. */
async function openFake(handlers: () => Handlers): Promise<FakeRaw> {
  const raw = fakeRaw();
  handlers().open(raw);
  await new Promise((r) => setTimeout(r, 10));
  return raw;
}

/**
 * A function of the hand loop (scripts/bench/echo_bun.ts: `send` or
 * `lineData`), and a fake socket carrying its per-connection state.
 */
function handLoop(name: "send" | "lineData"): [(raw: FakeRaw, c: Uint8Array) => void, FakeRaw] {
  const src = fs.readFileSync(path.join(root, "scripts/bench/echo_bun.ts"), "utf8");
  const code = src.slice(src.indexOf("function send("), src.indexOf("function parseArgs"));
  const js = new Bun.Transpiler({ loader: "ts" }).transformSync(
    `const MAX_LINE = 65536;${code};export { ${name} };`,
  );
  const fn = new Function(js.replace(/export\s*\{[^}]*\};?/, `return ${name};`))();
  const raw = fakeRaw();
  raw.data = { queue: null, out: null, carry: null, carried: 0 };
  return [fn, raw];
}

async function lines(): Promise<number> {
  const handlers = fakeListen();
  await serveLineEcho(root);
  const raw = await openFake(handlers);
  return measure((c) => handlers().data(raw, c), lineChunk(perChunk), perChunk);
}

function hand(): number {
  const [lineData, raw] = handLoop("lineData");
  return measure((c) => lineData(raw, c), lineChunk(perChunk), perChunk);
}

/** `tcp-echo` plain mode: every chunk written back as it is. */
async function bulk(): Promise<number> {
  const handlers = fakeListen();
  // server.ts, as the CLI loads it, not mod.ts: the whole library's code on the
  // heap makes Bun collect garbage more often (about 7 % more collections here).
  const { serve } = await import(path.join(root, "src/net/server.ts"));
  await serve({
    hostname: "127.0.0.1",
    port: 7000,
    onData: (
      conn: { connected: boolean; write(b: Uint8Array): boolean; pause(): void },
      b: Uint8Array,
    ) => {
      if (conn.connected && !conn.write(b)) conn.pause();
    },
    onDrain: (conn: { resume(): void }) => conn.resume(),
  });
  const raw = await openFake(handlers);
  return checkedBulk((c) => handlers().data(raw, c));
}

function handBulk(): number {
  const [send, raw] = handLoop("send");
  return checkedBulk((c) => send(raw, c));
}

/** Measures `feed` per chunk of `chunkSize` bytes, after checking one is echoed whole. */
function checkedBulk(feed: (c: Uint8Array) => void): number {
  const chunk = new Uint8Array(chunkSize).fill(0x78);
  const before = sink;
  feed(Buffer.from(chunk));
  if (sink - before !== chunkSize) throw new Error(`echo check failed: ${sink - before} bytes`);
  return measure(feed, chunk, 1, BULK_CHUNKS);
}

async function ws(): Promise<number> {
  const handlers = fakeListen();
  const { serveWs } = await import(path.join(root, "src/ws/ws_server.ts"));
  await serveWs({
    hostname: "127.0.0.1",
    port: 7000,
    maxWriteBuffer: 8 * 1024 * 1024,
    onMessage: (
      w: { readyState: number; send(d: Uint8Array, t: boolean): boolean; pause(): void },
      data: Uint8Array,
      text: boolean,
    ) => {
      if (w.readyState === 1 && !w.send(data, text)) w.pause();
    },
  });
  const raw = await openFake(handlers);
  handlers().data(
    raw,
    Buffer.from(
      "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    ),
  );
  await new Promise((r) => setTimeout(r, 50));
  const key = [1, 2, 3, 4];
  const frame = [
    0x81,
    0x80 | 64,
    ...key,
    ...Array.from({ length: 64 }, (_, j) => 0x61 ^ key[j & 3]!),
  ];
  const chunk = new Uint8Array(frame.length * perChunk);
  for (let i = 0; i < perChunk; i++) chunk.set(frame, i * frame.length);
  const before = sink;
  handlers().data(raw, Buffer.from(chunk));
  if (sink - before !== perChunk * 66) throw new Error(`echo check failed: ${sink - before} bytes`);
  return measure((c) => handlers().data(raw, c), chunk, perChunk);
}

// Small objects, about 64 bytes each, alive for the whole run.
(globalThis as { ballast?: unknown }).ballast = Array.from(
  { length: Math.round((ballastKb * 1024) / 64) },
  (_, i) => ({ a: i, b: i + 1, c: String(i), d: null }),
);
const ns = mode === "hand"
  ? hand()
  : mode === "ws"
  ? await ws()
  : mode === "bulk"
  ? await bulk()
  : mode === "hand-bulk"
  ? handBulk()
  : await lines();
if (mode === "bulk" || mode === "hand-bulk") {
  const extra = ballastKb > 0 ? ` ballast=${ballastKb}KB` : "";
  console.log(
    `${mode} chunk-size=${chunkSize}${extra} ${(ns / 1000).toFixed(2)} µs of CPU per chunk`,
  );
} else {
  console.log(
    `${mode} per-chunk=${perChunk} ${ns.toFixed(1)} ns of CPU per ${
      mode === "ws" ? "message" : "line"
    }`,
  );
}
process.exit(0);
