/**
 * bench_proxy.ts: the WebSocket-to-TCP proxy (`netstreams proxy`) on Deno,
 * Bun and Node against websockify (Debian's, Python), both in front of the
 * same TCP echo, in the same run.
 *
 * Throughput: the C load generator (scripts/loadgen/loadgen.c) through the
 * proxy to a Bun echo (scripts/bench/echo_bun.ts --mode bulk), over
 * `--duration` seconds after a warm-up, in two modes: `ws-stream` (10
 * connections x 16 KiB binary messages, at most 4 x 16 KiB payload bytes
 * unechoed per connection; echoed payload bytes/s, every piece checked by
 * its offset in the byte stream: a proxy does not keep message boundaries)
 * decides the >= 2x column; `ws-large` (a window of 4 messages counted per
 * server frame, which re-framing shrinks) is shown for comparison. The
 * echo's CPU is printed so it can be seen not to be the bottleneck.
 * Latency: one WebSocket (this process's native client), 64-byte binary
 * ping-pong through the proxy to the echo, `--rtts` round trips after 200
 * warm-up ones; median and p99 in microseconds.
 * CPU: the proxy's process tree (websockify forks one process per client)
 * over the throughput window, from /proc.
 *
 * Runs alternate websockify and ours `--repeat` times per runtime; the
 * median is kept and ours/websockify ratios are printed next to the issue's
 * target (>= 2x). Results go to bench_results/proxy.json.
 * With `--hand`, each round also measures, right after ours, the runtime's
 * ceiling: a minimal hand-written single-threaded relay with no library
 * (scripts/bench/relay_deno.ts, relay_bun.ts, relay_node.mjs); its rows get
 * the same columns, and "ours x hand" compares ours with it.
 *
 * Run (repository root; Linux, gcc, websockify on PATH):
 *   deno run -A scripts/bench_proxy.ts [options]
 * Options:
 *   --duration S     measured seconds per run (default 5)   --warmup S (default 1)
 *   --repeat N       runs per side (default 3)             --rtts N   (default 2000)
 *   --runtimes LIST  default deno,bun,node
 *   --npm-dir DIR    the npm build Node runs ours from (default npm; see --build)
 *   --build          build the npm package into --npm-dir first
 *   --max-other-cpu P  wait for a quiet host (see bench_ws.ts) (default 25)
 *   --hand           also measure the hand-written relay of each runtime
 */
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  buildLoadgen,
  BUN,
  DENO,
  listOption,
  loadgen,
  median,
  NODE,
  numOption,
  OUT_DIR,
  ROOT,
  type Server,
  sleep,
  spread,
  startServer,
  stop,
  table,
  versions,
  waitForQuietHost,
} from "./_bench_util.ts";

type Runtime = "deno" | "bun" | "node";
const HOST = ["--hostname", "127.0.0.1", "--port", "0"];
const TARGET_RATIO = 2;

interface Options {
  duration: number;
  warmup: number;
  repeat: number;
  rtts: number;
  runtimes: Runtime[];
  npmDir: string;
  build: boolean;
  maxOtherCpu: number;
  hand: boolean;
}

function parseOptions(argv: string[]): Options {
  const o: Options = {
    duration: 5,
    warmup: 1,
    repeat: 3,
    rtts: 2000,
    runtimes: ["deno", "bun", "node"],
    npmDir: "npm",
    build: false,
    maxOtherCpu: 25,
    hand: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--duration") o.duration = numOption(argv[++i], a, 0.1);
    else if (a === "--warmup") o.warmup = numOption(argv[++i], a, 0);
    else if (a === "--repeat") o.repeat = Math.floor(numOption(argv[++i], a, 1));
    else if (a === "--rtts") o.rtts = Math.floor(numOption(argv[++i], a, 10));
    else if (a === "--runtimes") o.runtimes = listOption(argv[++i], ["deno", "bun", "node"], a);
    else if (a === "--npm-dir") o.npmDir = argv[++i] ?? "npm";
    else if (a === "--build") o.build = true;
    else if (a === "--max-other-cpu") o.maxOtherCpu = numOption(argv[++i], a, 0);
    else if (a === "--hand") o.hand = true;
    else if (a === "--help" || a === "-h") {
      console.log(fs.readFileSync(fileURLToPath(import.meta.url), "utf8").split(" */")[0]);
      process.exit(0);
    } else throw new TypeError(`Unknown option ${a}: see --help`);
  }
  return o;
}

function ours(runtime: Runtime, o: Options, target: string): string[] {
  const args = ["proxy", ...HOST, "--target", target, "--heartbeat", "0"];
  if (runtime === "deno") return [DENO, "run", "-A", "cli.ts", ...args];
  if (runtime === "bun") return [BUN, "cli.ts", ...args];
  return [NODE, `${o.npmDir}/esm/cli.js`, ...args];
}

/** The hand-written relay of a runtime (the runtime's ceiling). */
function hand(runtime: Runtime, target: string): string[] {
  const args = [...HOST, "--target", target];
  if (runtime === "deno") return [DENO, "run", "-A", "scripts/bench/relay_deno.ts", ...args];
  if (runtime === "bun") return [BUN, "scripts/bench/relay_bun.ts", ...args];
  return [NODE, "scripts/bench/relay_node.mjs", ...args];
}

/** Result keys: "websockify", the runtime (ours), or "hand <runtime>". */
const HAND = "hand ";

/** websockify does not print its port: a free one is picked first. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function startWebsockify(target: string): Promise<Server> {
  const port = await freePort();
  // A wrapper prints the line startServer expects once the port accepts connections.
  const script = `websockify 127.0.0.1:${port} ${target} >/dev/null 2>&1 & pid=$!; ` +
    `for i in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null && break; sleep 0.05; done; ` +
    `echo "listening on 127.0.0.1:${port}"; trap 'kill $pid' TERM; wait $pid`;
  const server = await startServer(["bash", "-c", script]);
  // The PID that matters is websockify's (the child of the wrapper).
  const kids = spawnSync("pgrep", ["-P", String(server.pid)], { encoding: "utf8" }).stdout.trim()
    .split("\n");
  return { ...server, pid: Number(kids.find((k) => k) ?? server.pid) };
}

// ---------------------------------------------------------------- /proc CPU of a process tree

const TICK = 100; // USER_HZ on Linux

function treeTicks(pid: number): number {
  let total = 0;
  const stat = (p: number): number[] | undefined => {
    try {
      const s = fs.readFileSync(`/proc/${p}/stat`, "utf8");
      return s.slice(s.lastIndexOf(")") + 2).split(" ").map(Number);
    } catch {
      return undefined;
    }
  };
  const walk = (p: number) => {
    const f = stat(p);
    if (f === undefined) return;
    total += f[11]! + f[12]! + f[13]! + f[14]!; // utime stime cutime cstime
    let kids: string[] = [];
    try {
      kids = fs.readFileSync(`/proc/${p}/task/${p}/children`, "utf8").trim().split(/\s+/).filter(
        Boolean,
      );
    } catch { /* gone */ }
    for (const k of kids) walk(Number(k));
  };
  walk(pid);
  return total;
}

// ---------------------------------------------------------------- measurements

interface Run {
  side: string;
  /** ws-stream: echoed payload bytes/s (the window counted in bytes). */
  streamBytesPerS: number;
  /** The proxy's process tree during ws-stream, % of one core. */
  streamCpuPct: number;
  /** The TCP echo's CPU during ws-stream, % of one core. */
  echoCpuPct: number;
  /** The load generator's own CPU during ws-stream. */
  loadgenCpuPct: number;
  /** ws-large: frame bytes/s read (a window of messages; see the note). */
  largeBytesPerS: number;
  largeCpuPct: number;
}

/** One load generator run; the proxy's tree and the echo's CPU sampled over its window. */
async function loadRun(
  mode: "ws-stream" | "ws-large",
  server: Server,
  echoPid: number,
  o: Options,
): Promise<{ r: Record<string, any>; cpuPct: number; echoPct: number }> {
  const args = [
    mode,
    "--host",
    server.host,
    "--port",
    String(server.port),
    "--duration",
    String(o.duration),
    "--warmup",
    String(o.warmup),
  ];
  const lg = loadgen(args, (o.duration + o.warmup + 30) * 1000);
  await sleep(o.warmup * 1000 + 300); // connections are up and warm
  const t0 = Date.now();
  const c0 = treeTicks(server.pid);
  const e0 = treeTicks(echoPid);
  await sleep(o.duration * 1000 - 600);
  const c1 = treeTicks(server.pid);
  const e1 = treeTicks(echoPid);
  const secs = (Date.now() - t0) / 1000;
  const r = await lg.result;
  if (r.errors || !r.bytes_per_s || (mode === "ws-stream" && r.bad_msgs)) {
    throw new Error(`${mode}: load generator failed: ${JSON.stringify(r)}`);
  }
  return { r, cpuPct: (c1 - c0) / TICK / secs * 100, echoPct: (e1 - e0) / TICK / secs * 100 };
}

async function throughputRun(
  server: Server,
  echoPid: number,
  o: Options,
  side: string,
): Promise<Run> {
  const stream = await loadRun("ws-stream", server, echoPid, o);
  const large = await loadRun("ws-large", server, echoPid, o);
  return {
    side,
    streamBytesPerS: stream.r.payload_in_per_s,
    streamCpuPct: stream.cpuPct,
    echoCpuPct: stream.echoPct,
    loadgenCpuPct: stream.r.loadgen_cpu_pct,
    largeBytesPerS: large.r.bytes_per_s,
    largeCpuPct: large.cpuPct,
  };
}

/** 64-byte binary round trips through the proxy with this process's WebSocket client. */
async function latency(server: Server, count: number): Promise<{ p50: number; p99: number }> {
  const ws = new WebSocket(`ws://${server.host}:${server.port}/`, ["binary"]);
  ws.binaryType = "arraybuffer";
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("latency client: connection failed"));
  });
  const payload = new Uint8Array(64).fill(7);
  let got = 0;
  let done: (() => void) | undefined;
  ws.onmessage = (e) => {
    got += (e.data as ArrayBuffer).byteLength;
    if (got >= 64) {
      got -= 64;
      done?.();
    }
  };
  const times: number[] = [];
  for (let i = 0; i < count + 200; i++) {
    const t = performance.now();
    await new Promise<void>((r) => {
      done = r;
      ws.send(payload);
    });
    if (i >= 200) times.push((performance.now() - t) * 1000);
  }
  ws.close();
  times.sort((a, b) => a - b);
  return {
    p50: times[Math.floor(times.length / 2)]!,
    p99: times[Math.floor(times.length * 0.99)]!,
  };
}

async function measure(
  start: () => Promise<Server>,
  side: string,
  echoPid: number,
  o: Options,
): Promise<{ run: Run; p50: number; p99: number }> {
  await waitForQuietHost(o.maxOtherCpu);
  const server = await start();
  try {
    const lat = await latency(server, o.rtts);
    const run = await throughputRun(server, echoPid, o, side);
    const mb = (n: number) => (n / 1e6).toFixed(0).padStart(5);
    const pct = (n: number) => n.toFixed(0).padStart(3);
    process.stderr.write(
      `  ${side.padEnd(11)} ws-stream ${mb(run.streamBytesPerS)} MB/s CPU ${
        pct(run.streamCpuPct)
      }% ` +
        `(echo ${pct(run.echoCpuPct)}%, loadgen ${pct(run.loadgenCpuPct)}%)  ` +
        `ws-large ${mb(run.largeBytesPerS)} MB/s CPU ${pct(run.largeCpuPct)}%  ` +
        `RTT p50 ${lat.p50.toFixed(0)} us p99 ${lat.p99.toFixed(0)} us\n`,
    );
    return { run, ...lat };
  } finally {
    await stop(server.child);
  }
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  buildLoadgen();
  if (o.build) {
    const r = spawnSync(
      DENO,
      ["run", "-A", "scripts/build_npm.ts", "--no-test", "--out", o.npmDir],
      {
        cwd: ROOT,
        stdio: "inherit",
      },
    );
    if (r.status !== 0) throw new Error("npm build failed");
  }
  if (o.runtimes.includes("node") && !fs.existsSync(path.join(ROOT, o.npmDir, "esm", "cli.js"))) {
    throw new Error(`${o.npmDir}/esm/cli.js does not exist: pass --build (and --npm-dir DIR)`);
  }
  const echo = await startServer([BUN, "scripts/bench/echo_bun.ts", "--mode", "bulk", ...HOST]);
  const target = `${echo.host}:${echo.port}`;
  console.error(
    `TCP echo (Bun) on ${target}; ${os.cpus().length} cores; ${o.repeat} runs per side`,
  );
  type Series = {
    smbs: number[];
    scpu: number[];
    ecpu: number[];
    lmbs: number[];
    lcpu: number[];
    p50: number[];
    p99: number[];
  };
  const results: Record<string, Series> = {};
  const add = (side: string, m: { run: Run; p50: number; p99: number }) => {
    const r = results[side] ??= {
      smbs: [],
      scpu: [],
      ecpu: [],
      lmbs: [],
      lcpu: [],
      p50: [],
      p99: [],
    };
    r.smbs.push(m.run.streamBytesPerS / 1e6);
    r.scpu.push(m.run.streamCpuPct);
    r.ecpu.push(m.run.echoCpuPct);
    r.lmbs.push(m.run.largeBytesPerS / 1e6);
    r.lcpu.push(m.run.largeCpuPct);
    r.p50.push(m.p50);
    r.p99.push(m.p99);
  };
  try {
    for (let i = 0; i < o.repeat; i++) {
      console.error(`round ${i + 1}/${o.repeat}`);
      add("websockify", await measure(() => startWebsockify(target), "websockify", echo.pid, o));
      for (const rt of o.runtimes) {
        add(rt, await measure(() => startServer(ours(rt, o, target)), rt, echo.pid, o));
        if (o.hand) {
          const side = HAND + rt;
          add(side, await measure(() => startServer(hand(rt, target)), side, echo.pid, o));
        }
      }
    }
  } finally {
    await stop(echo.child);
  }
  const w = results.websockify!;
  const base = median(w.smbs)!;
  const lbase = median(w.lmbs)!;
  // Work per CPU: on a shared host the share of the CPU a proxy gets varies (websockify's
  // process per connection gets more of it), so bytes per CPU-second are printed too.
  const perCpu = (r: Series) => median(r.smbs)! / Math.max(1, median(r.scpu)!) * 100;
  const ebase = perCpu(w);
  const baseP50 = median(w.p50)!;
  const ratio = (side: string, x: number) => side === "websockify" ? "1.00" : x.toFixed(2);
  const isHand = (side: string) => side.startsWith(HAND);
  const label = (side: string) =>
    side === "websockify"
      ? "websockify (Python)"
      : isHand(side)
      ? `hand relay on ${side.slice(HAND.length)}`
      : `netstreams proxy on ${side}`;
  /** ours / hand on the same runtime (ws-stream MB/s), for the "ours x hand" column. */
  const oursXHand = (side: string): string => {
    const h = results[HAND + side];
    return side === "websockify" || isHand(side) || !h
      ? "-"
      : (median(results[side]!.smbs)! / median(h.smbs)!).toFixed(2);
  };
  const rows = Object.entries(results).map(([side, r]) => {
    const mbs = median(r.smbs)!;
    const row = [
      label(side),
      mbs.toFixed(0),
      `${Math.min(...r.smbs).toFixed(0)}-${Math.max(...r.smbs).toFixed(0)} (${spread(r.smbs)})`,
      ratio(side, mbs / base),
      median(r.scpu)!.toFixed(0),
      perCpu(r).toFixed(0),
      ratio(side, perCpu(r) / ebase),
      median(r.ecpu)!.toFixed(0),
      median(r.lmbs)!.toFixed(0),
      ratio(side, median(r.lmbs)! / lbase),
      median(r.p50)!.toFixed(0),
      median(r.p99)!.toFixed(0),
      ratio(side, median(r.p50)! / baseP50),
      side === "websockify" || isHand(side) ? "-" : mbs / base >= TARGET_RATIO ? "yes" : "NO",
    ];
    if (o.hand) row.push(oursXHand(side));
    return row;
  });
  console.log(
    `\nWS->TCP proxy, 10 conns x 16 KiB binary messages, 64 KiB unechoed per connection, through each proxy to one Bun TCP echo:`,
  );
  console.log(table(
    [
      "proxy",
      "ws-stream MB/s",
      "range (spread)",
      "x websockify",
      "CPU %",
      "MB per CPU-s",
      "x websockify",
      "echo CPU %",
      "ws-large MB/s",
      "x websockify",
      "RTT p50 us",
      "RTT p99 us",
      "p50 x websockify",
      `>= ${TARGET_RATIO}x`,
      ...(o.hand ? ["ours x hand"] : []),
    ],
    rows,
  ));
  if (o.hand) {
    // Every ratio of ours to the hand relay on the same runtime (> 1: ours is faster;
    // for RTT, < 1 is faster).
    for (const rt of o.runtimes) {
      const us = results[rt], h = results[HAND + rt];
      if (!us || !h) continue;
      const x = (a: number[], b: number[]) => (median(a)! / median(b)!).toFixed(2);
      console.log(
        `ours x hand on ${rt}: ws-stream ${x(us.smbs, h.smbs)}, MB per CPU-s ${
          (perCpu(us) / perCpu(h)).toFixed(2)
        }, ws-large ${x(us.lmbs, h.lmbs)}, RTT p50 ${x(us.p50, h.p50)}, p99 ${x(us.p99, h.p99)}`,
      );
    }
  }
  console.log(
    "\nws-stream (loadgen.c): echoed payload bytes/s; each connection sends 16 KiB messages while at most\n" +
      "4 x 16 KiB payload bytes are unechoed, whatever frames the proxy makes of the target's reads;\n" +
      "every echoed piece is checked against its offset in the byte stream. The >= 2x column uses it.\n" +
      "ws-large: the same shape with a window of 4 messages counted per server frame: a proxy that\n" +
      "re-frames the target's bytes into fewer, larger frames (ours: one frame per target read, up to\n" +
      "64 KiB) refills that window more slowly, so it favours websockify; shown for comparison only.\n" +
      "CPU %: the proxy's process tree (websockify forks one process per connection, so it can use both\n" +
      "cores; ours is one process). On a shared 2-core host the shares of the CPU decide much of this." +
      (o.hand
        ? "\nhand relay: the runtime's ceiling, a minimal single-threaded WS->TCP relay with no library\n" +
          "(scripts/bench/relay_*); ours x hand: ours / hand on the same runtime (ws-stream MB/s)."
        : ""),
  );
  fs.mkdirSync(OUT_DIR, { recursive: true });
  fs.writeFileSync(
    path.join(OUT_DIR, "proxy.json"),
    JSON.stringify(
      { date: new Date().toISOString(), versions: versions(), options: o, results },
      null,
      2,
    ),
  );
}

await main();
