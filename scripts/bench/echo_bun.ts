// echo_bun.ts: the hand-written Bun echo server that scripts/bench_tcp.ts
// measures the library against (the "peer" to beat on Bun).
//
// `Bun.listen` callbacks. Bun's `write` takes what the kernel accepts and
// returns that count without buffering the rest, so a short write queues the
// remainder (copied), pauses reading, and the `drain` callback flushes the
// queue and resumes.
//   lines: split on "\n" (a trailing "\r" is dropped); the replies to one `data`
//          event (each line + "\r\n") are gathered in a reused buffer, one write.
//   bulk:  write every chunk back as it came.
//
// Run: bun scripts/bench/echo_bun.ts --mode lines|bulk --port 0 [--hostname 127.0.0.1]
// The first stdout line is "listening on HOST:PORT". SIGINT/SIGTERM exit.
import process from "node:process";

/** The part of Bun's socket API used here (no Bun type package is installed). */
interface BunSocket {
  data: State;
  write(bytes: Uint8Array): number;
  pause(): void;
  resume(): void;
  end(): void;
}
interface BunSocketHandlers {
  open(s: BunSocket): void;
  data(s: BunSocket, chunk: Uint8Array): void;
  drain(s: BunSocket): void;
  error(s: BunSocket, err: Error): void;
}
declare const Bun: {
  listen(o: { hostname: string; port: number; socket: BunSocketHandlers }): {
    hostname: string;
    port: number;
  };
};

interface State {
  queue: Uint8Array[] | null; // bytes the kernel did not take yet
  out: Uint8Array | null; // reply buffer of one data event (lines), reused
  carry: Uint8Array | null; // an unfinished line is carry[0, carried)
  carried: number;
}

const MAX_LINE = 64 * 1024; // a longer partial line is echoed as it is (bounded memory)
const args = parseArgs(process.argv.slice(2));

const server = Bun.listen({
  hostname: args.hostname,
  port: args.port,
  socket: {
    open(s) {
      s.data = { queue: null, out: null, carry: null, carried: 0 };
    },
    data: args.mode === "lines" ? lineData : send,
    drain(s) {
      const queue = s.data.queue;
      while (queue && queue.length > 0) {
        const head = queue[0];
        const w = s.write(head);
        if (w < head.length) {
          queue[0] = head.subarray(Math.max(w, 0));
          return;
        }
        queue.shift();
      }
      s.data.queue = null;
      s.resume();
    },
    error() {},
  },
});
const host = server.hostname.includes(":") ? `[${server.hostname}]` : server.hostname;
console.log(`listening on ${host}:${server.port}`);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(0));

/** Writes now, or queues behind earlier bytes; pauses reading while a queue exists. */
function send(s: BunSocket, bytes: Uint8Array): void {
  const st = s.data;
  if (st.queue) {
    st.queue.push(bytes.slice());
    return;
  }
  const w = s.write(bytes);
  if (w < bytes.length) {
    st.queue = [bytes.slice(Math.max(w, 0))];
    s.pause();
  }
}

function lineData(s: BunSocket, chunk: Uint8Array): void {
  const st = s.data;
  const need = st.carried + 2 * chunk.length; // each "\n" becomes at most "\r\n"
  if (!st.out || st.out.length < need) st.out = new Uint8Array(Math.max(need, 16 * 1024));
  const out = st.out;
  let o = 0, start = 0;
  for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
    if (st.carried > 0) { // the first line of this chunk completes the carried one
      out.set(st.carry!.subarray(0, st.carried), 0);
      o = st.carried;
      st.carried = 0;
    }
    out.set(chunk.subarray(start, nl), o);
    o += nl - start;
    if (o > 0 && out[o - 1] === 13) o--; // drop the line's own "\r" (out[o-1] is "\n" otherwise)
    out[o++] = 13;
    out[o++] = 10;
    start = nl + 1;
  }
  if (o > 0) send(s, out.subarray(0, o));
  if (start < chunk.length) {
    const rest = chunk.length - start;
    if (!st.carry || st.carry.length < st.carried + rest) {
      const grown = new Uint8Array(Math.max(2 * (st.carried + rest), 256));
      if (st.carry) grown.set(st.carry.subarray(0, st.carried), 0);
      st.carry = grown;
    }
    st.carry.set(chunk.subarray(start), st.carried);
    st.carried += rest;
    if (st.carried > MAX_LINE) { // too long to be a line: pass the piece on as it is
      send(s, st.carry.subarray(0, st.carried));
      st.carried = 0;
    }
  }
}

function parseArgs(argv: string[]): { mode: "lines" | "bulk"; port: number; hostname: string } {
  const out = { mode: "bulk" as "lines" | "bulk", port: 0, hostname: "127.0.0.1" };
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (key === "--mode" && (value === "lines" || value === "bulk")) out.mode = value;
    else if (key === "--port") out.port = Number(value);
    else if (key === "--hostname") out.hostname = value;
    else {
      console.error("usage: echo_bun.ts --mode lines|bulk --port N [--hostname H]");
      process.exit(2);
    }
  }
  return out;
}
