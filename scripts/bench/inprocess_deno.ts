// inprocess_deno.ts: CPU time per echoed line of the library on Deno, without
// the network. `Deno.listen` is replaced by a fake whose connections answer
// `read` with chunks of N 64-byte CRLF lines (once the echo of the earlier
// ones is written, like the load generator's clients) and whose `write`
// takes everything, so the adapter's read and write loops,
// the connection and the line codec run as they do on a real socket, minus
// the system calls. The figure is process CPU time per line: on a shared
// host it moves much less than loopback throughput.
//
//   lines: `tcp-echo --lines` as the CLI does it (serve + writeLine);
//   hand:  the hand loop of scripts/bench/echo_deno.ts (lineEcho) on the same
//          fake connections.
// --conns N fake connections (default 50, as scripts/bench_tcp.ts) read in turn.
// --busy: reads do not wait for the echo (a client that sends faster than the
//         server answers: every socket always has writes waiting).
//
// Run (from the repository root):
//   deno run -A scripts/bench/inprocess_deno.ts lines|hand [--per-chunk N] [--conns N] [--busy]
//     [--root DIR]
// --root measures another checkout (a `git worktree` of an older commit):
// alternate runs of two roots to compare them.
import path from "node:path";
import process from "node:process";
import { lineChunk, serveLineEcho } from "./_inprocess.ts";

const argv = Deno.args;
const mode = argv[0] ?? "lines";
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(name);
  return i === -1 ? dflt : argv[i + 1] ?? dflt;
};
const perChunk = Number(opt("--per-chunk", "16"));
const conns = Number(opt("--conns", "50"));
const busy = argv.includes("--busy");
const root = path.resolve(opt("--root", "."));
if (!["lines", "hand"].includes(mode) || !(perChunk >= 1) || !(conns >= 1)) {
  console.error(
    "usage: inprocess_deno.ts lines|hand [--per-chunk N] [--conns N] [--busy] [--root DIR]",
  );
  Deno.exit(2);
}
const UNITS = 4_000_000; // lines per measured run

const chunk = lineChunk(perChunk);

/**
 * A fake `Deno.TcpConn` that reads `reads` times `chunk` as one stream (a
 * read of at most the rest of the chunk; a smaller read buffer gets the next
 * bytes of it), then calls `done` and leaves the next read pending. Like the
 * load generator's clients, it sends more only once everything sent so far
 * came back: a read waits until the echo of the earlier ones is written.
 */
function fakeConn(reads: number, done: () => void) {
  let left = reads * chunk.length;
  let at = 0; // position in chunk
  let sent = 0;
  let written = 0;
  let waiting: (() => void) | undefined;
  const addr = { transport: "tcp", hostname: "127.0.0.1", port: 40000 };
  const next = (p: Uint8Array): number => {
    // At most to the end of the chunk: N lines in flight, as from the load generator.
    const n = Math.min(p.length, chunk.length - at);
    p.set(at === 0 && n === chunk.length ? chunk : chunk.subarray(at, at + n));
    left -= n;
    sent += n;
    at = (at + n) % chunk.length;
    return n;
  };
  return {
    remoteAddr: addr,
    localAddr: { ...addr, port: 7000 },
    get written() {
      return written;
    },
    read(p: Uint8Array): Promise<number | null> {
      if (left <= 0) {
        done();
        return new Promise(() => {}); // stays pending: the loop ends with the process
      }
      if (busy || written >= sent) return Promise.resolve(next(p));
      return new Promise((resolve) => waiting = () => resolve(next(p)));
    },
    write(p: Uint8Array): Promise<number> {
      const n = p.byteLength;
      // The peer sees the bytes once the write is done (not while it is being made).
      queueMicrotask(() => {
        written += n;
        const w = waiting;
        if (w !== undefined && written >= sent) {
          waiting = undefined;
          queueMicrotask(w);
        }
      });
      return Promise.resolve(n);
    },
    closeWrite: () => Promise.resolve(),
    close() {},
    setNoDelay() {},
    setKeepAlive() {},
  };
}

/**
 * CPU nanoseconds per line over `reads` reads of each of `conns` fake
 * connections made by `start` (their reads resolve in turn, as busy sockets do).
 */
async function measure(start: (conn: ReturnType<typeof fakeConn>) => void, reads: number) {
  let left = conns;
  let finished!: () => void;
  const over = new Promise<void>((r) => finished = r);
  const all = Array.from(
    { length: conns },
    () => fakeConn(reads, () => --left === 0 && finished()),
  );
  const c0 = process.cpuUsage();
  for (const conn of all) start(conn);
  await over;
  const c = process.cpuUsage(c0);
  await new Promise((r) => setTimeout(r, 0)); // the last writes
  const expect = reads * perChunk * 64;
  for (const conn of all) {
    if (conn.written !== expect) throw new Error(`echo check: ${conn.written} of ${expect} bytes`);
  }
  return ((c.user + c.system) * 1000) / (conns * reads * perChunk);
}

/** Makes `Deno.listen` hand out the connections given to `accept`. */
function fakeListen(): (conn: unknown) => void {
  const waiting: ((c: unknown) => void)[] = [];
  const queued: unknown[] = [];
  (Deno as unknown as { listen: unknown }).listen = (o: { hostname: string }) => ({
    addr: { transport: "tcp", hostname: o.hostname, port: 7000 },
    accept: () =>
      queued.length > 0 ? Promise.resolve(queued.shift()) : new Promise((r) => waiting.push(r)),
    close() {},
    [Symbol.asyncIterator]() {
      throw new Error("not used");
    },
  });
  return (conn) => {
    const w = waiting.shift();
    if (w) w(conn);
    else queued.push(conn);
  };
}

const reads = Math.floor(UNITS / perChunk / conns);
let ns: number;
if (mode === "lines") {
  const accept = fakeListen();
  await serveLineEcho(root);
  await measure(accept, reads >> 2); // warm-up
  ns = await measure(accept, reads);
} else {
  const src = await Deno.readTextFile(path.join(root, "scripts/bench/echo_deno.ts"));
  const body = src.slice(src.indexOf("async function writeAll("), src.indexOf("interface Args"));
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(
    file,
    `const MAX_LINE = 65536; const READ_SIZE = 4096;\n${body}\nexport { lineEcho };`,
  );
  const { lineEcho } = await import(`file://${file}`);
  await Deno.remove(file);
  const run = (conn: unknown) => void lineEcho(conn).catch((e: unknown) => console.error(e));
  await measure(run, reads >> 2);
  ns = await measure(run, reads);
}
console.log(`${mode} per-chunk=${perChunk} ${ns.toFixed(1)} ns of CPU per line`);
Deno.exit(0);
