/**
 * idle_mem.ts: memory per idle connection of any echo server command, with
 * the C load generator (bench_results/loadgen, built by scripts/bench_tcp.ts
 * or scripts/bench_ws.ts). Used to try one change at a time quickly; the
 * bench scripts report the same number (RSS after - RSS before, per
 * connection) for their fixed server commands.
 *
 * Run (from the repository root):
 *   deno run -A scripts/bench/idle_mem.ts [--ws] [--count N] [--repeat N] -- SERVER ARGV...
 * e.g.
 *   deno run -A scripts/bench/idle_mem.ts --ws -- bun cli.ts ws-echo --port 0 --max-connections 20000
 *   deno run -A scripts/bench/idle_mem.ts -- node .npm_x/esm/cli.js tcp-echo --port 0 --max-connections 20000
 * The server must print `listening on HOST:PORT` first. Prints one JSON line
 * per run and the median.
 *
 * @module
 */
import process from "node:process";
import {
  buildLoadgen,
  fdCount,
  killAll,
  loadgen,
  median,
  rssKiB,
  type Server,
  sleep,
  startServer,
  stop,
} from "../_bench_util.ts";

const argv = process.argv.slice(2);
const sep = argv.indexOf("--");
if (sep < 0) {
  console.error("usage: idle_mem.ts [--ws] [--count N] [--repeat N] -- SERVER ARGV...");
  process.exit(2);
}
const opts = argv.slice(0, sep);
const server = argv.slice(sep + 1);
const ws = opts.includes("--ws");
const opt = (name: string, d: number) => {
  const i = opts.indexOf(name);
  return i < 0 ? d : Number(opts[i + 1]);
};
const count = opt("--count", 10000);
const repeat = opt("--repeat", 1);

async function once(): Promise<number> {
  let s: Server | null = null;
  let lg: ReturnType<typeof loadgen> | null = null;
  try {
    s = await startServer(server);
    await sleep(1000);
    const before = rssKiB(s.pid);
    const fd0 = fdCount(s.pid);
    let holding = false;
    lg = loadgen(
      [ws ? "ws-idle" : "idle", "--host", s.host, "--port", String(s.port), "--count", String(count), "--hold", "300"],
      330_000,
      (line) => {
        if (line.includes('"phase":"holding"')) holding = true;
      },
    );
    let exited = false;
    lg.result.then(() => exited = true, () => exited = true);
    const t0 = Date.now();
    let last = -1, lastChange = Date.now();
    while (!exited && Date.now() - t0 < 120_000) {
      const held = fdCount(s.pid) - fd0;
      if (held !== last) last = held, lastChange = Date.now();
      if ((ws ? holding : held >= count) || Date.now() - lastChange > 10_000) break;
      await sleep(200);
    }
    await sleep(2000);
    const held = fdCount(s.pid) - fd0;
    const after = rssKiB(s.pid);
    const kib = (after - before) / held;
    console.log(JSON.stringify({ held, rssBeforeKiB: before, rssAfterKiB: after, kibPerConn: +kib.toFixed(2) }));
    return kib;
  } finally {
    if (lg) await stop(lg.child);
    if (s) await stop(s.child);
  }
}

buildLoadgen();
const values: number[] = [];
try {
  for (let i = 0; i < repeat; i++) values.push(await once());
  console.log(`median ${median(values)!.toFixed(2)} KiB/conn over ${values.length} run(s): ${values.map((v) => v.toFixed(2)).join(", ")}`);
} finally {
  killAll();
}
process.exit(0);
