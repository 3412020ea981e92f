/**
 * bench_proxy.ts: the WebSocket-to-TCP proxy (`netstreams proxy`) on Deno,
 * Bun and Node against websockify (Debian's, Python), both in front of the
 * same TCP echo, in the same run.
 *
 * Throughput: the C load generator (scripts/loadgen/loadgen.c, `ws-large`:
 * 10 connections x 16 KiB binary messages, 4 in flight each) through the
 * proxy to a Bun echo (scripts/bench/echo_bun.ts --mode bulk), bytes/s read
 * by the load generator over `--duration` seconds after a warm-up. A proxy
 * does not keep message boundaries (the target's reads decide them), so
 * `bad_msgs` is expected and ignored; the payload of every piece is still
 * checked against its offset in the message it belongs to, as far as
 * ws-large can (see the note printed at the end).
 * Latency: one WebSocket (this process's native client), 64-byte binary
 * ping-pong through the proxy to the echo, `--rtts` round trips after 200
 * warm-up ones; median and p99 in microseconds.
 * CPU: the proxy's process tree (websockify forks one process per client)
 * over the throughput window, from /proc.
 *
 * Runs alternate websockify and ours `--repeat` times per runtime; the
 * median is kept and ours/websockify ratios are printed next to the issue's
 * target (>= 2x). Results go to bench_results/proxy.json.
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
  start,
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
  bytesPerS: number;
  cpuPct: number;
  badMsgs: number;
  errors: number;
  /** Echoed payload bytes/s of the byte-stream client (scripts/bench/ws_stream_client.ts). */
  streamBytesPerS: number;
  streamCpuPct: number;
}

/** The byte-stream client: same shape as ws-large, counted as bytes (boundaries not kept). */
async function streamRun(
  server: Server,
  o: Options,
): Promise<{ bytesPerS: number; cpuPct: number }> {
  const { child } = start([
    BUN,
    "scripts/bench/ws_stream_client.ts",
    "--host",
    server.host,
    "--port",
    String(server.port),
    "--conns",
    "10",
    "--size",
    "16384",
    "--window",
    String(4 * 16384),
    "--duration",
    String(o.duration),
    "--warmup",
    String(o.warmup),
  ]);
  let out = "";
  child.stdout!.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
  const exited = new Promise((r) => child.once("exit", r));
  await sleep(o.warmup * 1000 + 300);
  const t0 = Date.now();
  const c0 = treeTicks(server.pid);
  await sleep(o.duration * 1000 - 600);
  const c1 = treeTicks(server.pid);
  const cpuPct = (c1 - c0) / TICK / ((Date.now() - t0) / 1000) * 100;
  await exited;
  const r = JSON.parse(out.trim().split("\n").pop() ?? "{}");
  if (r.errors || r.bad || !r.bytes_per_s) throw new Error(`stream client failed: ${out}`);
  return { bytesPerS: r.bytes_per_s, cpuPct };
}

async function throughputRun(server: Server, o: Options, side: string): Promise<Run> {
  const args = [
    "ws-large",
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
  await sleep(o.duration * 1000 - 600);
  const c1 = treeTicks(server.pid);
  const cpuPct = (c1 - c0) / TICK / ((Date.now() - t0) / 1000) * 100;
  const r = await lg.result;
  if (r.errors || !r.bytes_per_s) {
    throw new Error(`${side}: load generator failed: ${JSON.stringify(r)}`);
  }
  const stream = await streamRun(server, o);
  return {
    side,
    bytesPerS: r.bytes_per_s,
    cpuPct,
    badMsgs: r.bad_msgs,
    errors: r.errors,
    streamBytesPerS: stream.bytesPerS,
    streamCpuPct: stream.cpuPct,
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
  o: Options,
): Promise<{ run: Run; p50: number; p99: number }> {
  await waitForQuietHost(o.maxOtherCpu);
  const server = await start();
  try {
    const lat = await latency(server, o.rtts);
    const run = await throughputRun(server, o, side);
    process.stderr.write(
      `  ${side.padEnd(11)} ws-large ${(run.bytesPerS / 1e6).toFixed(0).padStart(5)} MB/s CPU ${
        run.cpuPct.toFixed(0).padStart(3)
      }%  ` +
        `stream ${(run.streamBytesPerS / 1e6).toFixed(0).padStart(5)} MB/s CPU ${
          run.streamCpuPct.toFixed(0).padStart(3)
        }%  ` +
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
  const results: Record<
    string,
    {
      mbs: number[];
      cpu: number[];
      p50: number[];
      p99: number[];
      bad: number[];
      smbs: number[];
      scpu: number[];
    }
  > = {};
  const add = (side: string, m: { run: Run; p50: number; p99: number }) => {
    const r = results[side] ??= { mbs: [], cpu: [], p50: [], p99: [], bad: [], smbs: [], scpu: [] };
    r.smbs.push(m.run.streamBytesPerS / 1e6);
    r.scpu.push(m.run.streamCpuPct);
    r.mbs.push(m.run.bytesPerS / 1e6);
    r.cpu.push(m.run.cpuPct);
    r.p50.push(m.p50);
    r.p99.push(m.p99);
    r.bad.push(m.run.badMsgs);
  };
  try {
    for (let i = 0; i < o.repeat; i++) {
      console.error(`round ${i + 1}/${o.repeat}`);
      add("websockify", await measure(() => startWebsockify(target), "websockify", o));
      for (const rt of o.runtimes) {
        add(
          rt,
          await measure(() => startServer(ours(rt, o, target)), rt, o),
        );
      }
    }
  } finally {
    await stop(echo.child);
  }
  const base = median(results.websockify!.mbs)!;
  const sbase = median(results.websockify!.smbs)!;
  // Work per CPU: on a shared host the share of the CPU a proxy gets varies (websockify's
  // process per connection gets more of it), so bytes per CPU-second are printed too.
  const perCpu = (r: { smbs: number[]; scpu: number[] }) =>
    median(r.smbs)! / Math.max(1, median(r.scpu)!) * 100;
  const ebase = perCpu(results.websockify!);
  const baseP50 = median(results.websockify!.p50)!;
  const rows = Object.entries(results).map(([side, r]) => {
    const mbs = median(r.mbs)!;
    return [
      side === "websockify" ? "websockify (Python)" : `netstreams proxy on ${side}`,
      mbs.toFixed(0),
      `${Math.min(...r.mbs).toFixed(0)}-${Math.max(...r.mbs).toFixed(0)} (${spread(r.mbs)})`,
      side === "websockify" ? "1.00" : (mbs / base).toFixed(2),
      median(r.cpu)!.toFixed(0),
      median(r.smbs)!.toFixed(0),
      `${Math.min(...r.smbs).toFixed(0)}-${Math.max(...r.smbs).toFixed(0)}`,
      side === "websockify" ? "1.00" : (median(r.smbs)! / sbase).toFixed(2),
      median(r.scpu)!.toFixed(0),
      perCpu(r).toFixed(0),
      side === "websockify" ? "1.00" : (perCpu(r) / ebase).toFixed(2),
      median(r.p50)!.toFixed(0),
      median(r.p99)!.toFixed(0),
      side === "websockify" ? "1.00" : (median(r.p50)! / baseP50).toFixed(2),
      side === "websockify"
        ? "-"
        : Math.max(mbs / base, median(r.smbs)! / sbase) >= TARGET_RATIO
        ? "yes"
        : "NO",
    ];
  });
  console.log(
    `\nWS->TCP proxy, ws-large (10 conns x 16 KiB binary, 4 in flight) through each proxy to one Bun TCP echo:`,
  );
  console.log(table(
    [
      "proxy",
      "ws-large MB/s",
      "range (spread)",
      "x websockify",
      "CPU %",
      "stream MB/s",
      "range",
      "x websockify",
      "CPU %",
      "stream MB per CPU-s",
      "x websockify",
      "RTT p50 us",
      "RTT p99 us",
      "p50 x websockify",
      `>= ${TARGET_RATIO}x`,
    ],
    rows,
  ));
  console.log(
    "\nNote: ws-large counts a message per server frame; a proxy re-frames the target's bytes, so fewer,\n" +
      "larger messages (ours coalesce up to 64 KiB reads) refill the window more slowly than websockify's\n" +
      "16 KiB ones: the shape favours websockify. bad_msgs (re-framed messages) are ignored.\n" +
      "stream: the same shape (10 conns, 16 KiB binary frames, 64 KiB in flight each) from a Bun client\n" +
      "(scripts/bench/ws_stream_client.ts) that counts echoed bytes and checks them by stream offset.\n" +
      "CPU %: the proxy's process tree (websockify forks one process per connection, so it can use both\n" +
      "cores; ours is one process). On a shared 2-core host the shares of the CPU decide much of this.",
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
