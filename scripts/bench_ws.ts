/**
 * bench_ws.ts: WebSocket echo benchmark of our `ws-echo` against each runtime's
 * usual WebSocket server (scripts/bench/ws_echo_*), with one C load generator
 * (scripts/loadgen/loadgen.c, compiled here with `gcc -O2` into bench_results/).
 *
 * For each runtime and case, the same load generator (HTTP upgrade, then masked
 * client frames; server frames parsed and checked):
 *   small: 50 connections x 64-byte text messages, 16 in flight on each;
 *   large: 10 connections x 16 KiB binary messages, 4 in flight on each;
 * echoed messages/s over `--duration` seconds after a warm-up. Each server is
 * started alone as a child process and stopped after its run; runs alternate
 * peer/ours `--repeat` times and the median is kept. The server's CPU% over the
 * window (all threads, and its busiest thread) shows which side was saturated.
 * Then idle memory: 10,000 upgraded idle connections, server RSS before/after.
 *
 * Peers (started in the same run):
 *   node  `ws` WebSocketServer (perMessageDeflate off)  scripts/bench/ws_echo_node.mjs
 *   bun   Bun.serve native WebSocket (uWebSockets)       scripts/bench/ws_echo_bun.ts
 *   deno  Deno.serve + Deno.upgradeWebSocket             scripts/bench/ws_echo_deno.ts
 * Ours: `deno run -A cli.ts ws-echo`, `bun cli.ts ws-echo`, `node npm/esm/cli.js ws-echo`.
 * Prints ratios (ours / peer) next to the targets of the WebSocket issue and
 * writes everything to bench_results/ws.json.
 *
 * Run (from the repository root; Linux, gcc on PATH):
 *   deno run -A scripts/bench_ws.ts [options]
 * Options:
 *   --duration S      measured seconds per run (default 5)    --warmup S  (default 1)
 *   --repeat N        runs per server, alternating (default 3; the median is kept)
 *   --runtimes LIST   default deno,bun,node                   --cases LIST  default small,large
 *   --idle-conns N    idle connections (default 10000; 0 skips the idle test)
 *   --max-other-cpu P the host may be shared: each run waits (60 s at most) until other
 *                     processes use less than P% of a core, and a run during which they
 *                     used more is measured again, twice at most (default 25)
 *   --build           build the npm package first (node "ours" runs npm/esm/cli.js)
 *   --validate        harness check: the peer also plays "ours" (ratio ≈ 1.0)
 *   --deflate         also the permessage-deflate section (--deflate-only: just it):
 *                     50 conns x 8 in flight of a 256-byte JSON text, compressed both
 *                     ways (the client offers client_no_context_takeover so each
 *                     request is one precompressed frame; the server inflates it and
 *                     compresses its echo, with context takeover unless it declines),
 *                     from the C load generator built with -DLOADGEN_ZLIB -lz into
 *                     bench_results/loadgen_zlib (mode ws-deflate: echoes inflated and
 *                     checked; needs zlib1g-dev); then RSS per connection after 1000
 *                     connections each echoed one compressed message (Deno client
 *                     scripts/bench/ws_deflate_load.ts). Peers:
 *                     `ws` with perMessageDeflate (scripts/bench/ws_deflate_echo_node.mjs),
 *                     Bun.serve perMessageDeflate (scripts/bench/ws_deflate_echo_bun.ts);
 *                     Deno's native server cannot compress, so Deno has no peer. Ours
 *                     runs twice: defaults (context takeover) and
 *                     --deflate-no-context-takeover (no zlib state per connection).
 *
 * When the CLI has no `ws-echo` command yet, only the peers are measured.
 * Every child is killed on exit, error or Ctrl-C.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  buildLoadgen,
  buildNpm,
  BUN,
  DENO,
  fdCount,
  fmtRate,
  killAll,
  listOption,
  loadgen,
  median,
  NODE,
  numOption,
  OUT_DIR,
  pct,
  ROOT,
  rssKiB,
  type Server,
  sleep,
  spread,
  startServer,
  stop,
  table,
  versions,
  waitForQuietHost,
  warnIfStaleNpmBuild,
} from "./_bench_util.ts";

type Runtime = "deno" | "bun" | "node";
type Case = "small" | "large";
type Side = "peer" | "ours";

const HOST = ["--hostname", "127.0.0.1", "--port", "0"];

/** Load generator mode and shape of each case. */
const CASES: Record<Case, { mode: string; args: string[]; what: string }> = {
  small: {
    mode: "ws-small",
    args: ["--conns", "50", "--inflight", "16", "--size", "64"],
    what: "64 B text, 50 conns x 16",
  },
  large: {
    mode: "ws-large",
    args: ["--conns", "10", "--inflight", "4", "--size", "16384"],
    what: "16 KiB binary, 10 conns x 4",
  },
};

/**
 * How each server is started (argv, from the repository root). Each prints
 * `listening on HOST:PORT` first and is the server process itself (its PID is
 * sampled). `extra` is added for ours (e.g. a connection limit for the idle test).
 */
const SERVERS: Record<Runtime, { peer: string[]; ours: (extra: string[]) => string[] }> = {
  deno: {
    peer: [DENO, "run", "-A", "scripts/bench/ws_echo_deno.ts", ...HOST],
    ours: (x) => [DENO, "run", "-A", "cli.ts", "ws-echo", ...HOST, ...x],
  },
  bun: {
    peer: [BUN, "scripts/bench/ws_echo_bun.ts", ...HOST],
    ours: (x) => [BUN, "cli.ts", "ws-echo", ...HOST, ...x],
  },
  node: {
    peer: [NODE, "scripts/bench/ws_echo_node.mjs", ...HOST],
    ours: (x) => [NODE, "npm/esm/cli.js", "ws-echo", ...HOST, ...x],
  },
};
const PEER_NAME: Record<Runtime, string> = {
  deno: "Deno.upgradeWebSocket",
  bun: "Bun.serve",
  node: "ws",
};

/** Targets of the WebSocket issue: minimum ours/peer ratios, maximum idle KiB per connection. */
const TARGETS: Record<Runtime, { small: number; large: number; idleKiB: number }> = {
  node: { small: 3, large: 1.5, idleKiB: 4 },
  deno: { small: 3, large: 1.2, idleKiB: 8 },
  bun: { small: 0.7, large: 0.8, idleKiB: 2 },
};

// ---------------------------------------------------------------- options

interface Options {
  duration: number;
  warmup: number;
  repeat: number;
  runtimes: Runtime[];
  cases: Case[];
  idleConns: number;
  maxOtherCpu: number;
  build: boolean;
  validate: boolean;
  deflate: boolean;
  deflateOnly: boolean;
}

function parseOptions(argv: string[]): Options {
  const o: Options = {
    duration: 5,
    warmup: 1,
    repeat: 3,
    runtimes: ["deno", "bun", "node"],
    cases: ["small", "large"],
    idleConns: 10000,
    maxOtherCpu: 25,
    build: false,
    validate: false,
    deflate: false,
    deflateOnly: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--duration") o.duration = numOption(argv[++i], a, 0.1);
    else if (a === "--warmup") o.warmup = numOption(argv[++i], a, 0);
    else if (a === "--repeat") o.repeat = Math.floor(numOption(argv[++i], a, 1));
    else if (a === "--idle-conns") o.idleConns = Math.floor(numOption(argv[++i], a, 0));
    else if (a === "--max-other-cpu") o.maxOtherCpu = numOption(argv[++i], a, 0);
    else if (a === "--runtimes") o.runtimes = listOption(argv[++i], ["deno", "bun", "node"], a);
    else if (a === "--cases") o.cases = listOption(argv[++i], ["small", "large"], a);
    else if (a === "--build") o.build = true;
    else if (a === "--validate") o.validate = true;
    else if (a === "--deflate") o.deflate = true;
    else if (a === "--deflate-only") o.deflate = o.deflateOnly = true;
    else if (a === "--help" || a === "-h") {
      console.log(fs.readFileSync(fileURLToPath(import.meta.url), "utf8").split(" */")[0]);
      process.exit(0);
    } else throw new TypeError(`Unknown option ${a}: see --help`);
  }
  return o;
}

// ---------------------------------------------------------------- ours

/** Why "ours" cannot run on `runtime` (the CLI it would start has no ws-echo), or null. */
function oursMissing(runtime: Runtime): string | null {
  const file = runtime === "node" ? "npm/esm/cli.js" : "cli.ts";
  const abs = path.join(ROOT, file);
  if (!fs.existsSync(abs)) {
    return `${file} does not exist${runtime === "node" ? " (pass --build)" : ""}`;
  }
  if (!fs.readFileSync(abs, "utf8").includes("ws-echo")) {
    return `${file} has no ws-echo command yet`;
  }
  return null;
}

/** Extra ws-echo options for the idle test: a connection limit above the count, when the CLI has one. */
function idleExtra(conns: number): string[] {
  const r = spawnSync(DENO, ["run", "-A", "cli.ts", "ws-echo", "--help"], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 30_000,
  });
  return /--max-connections\b/.test(r.stdout ?? "")
    ? ["--max-connections", String(Math.max(conns + 100, 1000))]
    : [];
}

// ---------------------------------------------------------------- measurements

interface Run {
  side: Side;
  msgsPerS: number;
  serverCpu: number;
  serverThreadCpu: number;
  loadgenCpu: number;
  /** Host busy time minus server, load generator and softirq: other processes. */
  otherCpu: number;
  raw: Record<string, any>;
}

interface Row {
  runtime: Runtime;
  case: Case;
  peer: number | null;
  ours: number | null;
  ratio: number | null;
  target: number;
  peerCpu: number | null;
  oursCpu: number | null;
  peerThreadCpu: number | null;
  oursThreadCpu: number | null;
  loadgenCpu: number | null;
  otherCpu: number | null;
  oursSkipped: string | null;
  runs: Run[];
  errors: string[];
}

async function throughputRun(argv: string[], c: Case, side: Side, o: Options): Promise<Run> {
  const server = await startServer(argv);
  try {
    const args = [
      CASES[c].mode,
      "--host",
      server.host,
      "--port",
      String(server.port),
      "--pid",
      String(server.pid),
      "--duration",
      String(o.duration),
      "--warmup",
      String(o.warmup),
      ...CASES[c].args,
    ];
    const r = await loadgen(args, (o.duration + o.warmup + 30) * 1000).result;
    if (r.errors || r.bad_msgs || !r.msgs) {
      throw new Error(`echo check failed: ${JSON.stringify(r)}`);
    }
    return {
      side,
      msgsPerS: r.msgs_per_s,
      serverCpu: r.server_cpu_pct,
      serverThreadCpu: r.server_busiest_thread_pct,
      loadgenCpu: r.loadgen_cpu_pct,
      otherCpu: Math.max(0, r.other_cpu_pct - r.host_softirq_pct),
      raw: r,
    };
  } finally {
    await stop(server.child);
  }
}

async function throughput(runtime: Runtime, c: Case, o: Options): Promise<Row> {
  const missing = o.validate ? null : oursMissing(runtime);
  const cmd: Record<Side, string[]> = {
    peer: SERVERS[runtime].peer,
    ours: o.validate ? SERVERS[runtime].peer : SERVERS[runtime].ours([]),
  };
  const runs: Run[] = [];
  const errors: string[] = [];
  const failed = new Set<Side>(missing ? ["ours"] : []);
  for (let i = 0; i < o.repeat; i++) {
    // alternate which side goes first, so neither always runs on a "warmer" host
    for (const side of i % 2 ? ["ours", "peer"] as const : ["peer", "ours"] as const) {
      if (failed.has(side)) continue;
      try {
        for (let attempt = 0;; attempt++) {
          process.stderr.write(`  ${runtime} ${c} ${side} run ${i + 1}/${o.repeat} ... `);
          await waitForQuietHost(o.maxOtherCpu);
          const run = await throughputRun(cmd[side], c, side, o);
          process.stderr.write(
            `${fmtRate(run.msgsPerS)} msgs/s, CPU% server ${run.serverCpu.toFixed(0)} ` +
              `(thread ${run.serverThreadCpu.toFixed(0)}), loadgen ${run.loadgenCpu.toFixed(0)}, ` +
              `softirq ${run.raw.host_softirq_pct.toFixed(0)}, other ${run.otherCpu.toFixed(0)}\n`,
          );
          if (run.otherCpu <= o.maxOtherCpu || attempt >= 2) {
            runs.push(run);
            break;
          }
          process.stderr.write(`    other processes used the CPU: measuring again\n`);
        }
      } catch (e) {
        failed.add(side); // a server that failed once is not retried
        const msg = `${side}: ${(e as Error).message}`;
        errors.push(msg);
        process.stderr.write(`FAILED\n    ${msg}\n`);
      }
    }
  }
  const pick = (side: Side, f: (r: Run) => number) =>
    median(runs.filter((r) => r.side === side).map(f));
  const peer = pick("peer", (r) => r.msgsPerS), ours = pick("ours", (r) => r.msgsPerS);
  return {
    runtime,
    case: c,
    peer,
    ours,
    ratio: peer && ours ? ours / peer : null,
    target: TARGETS[runtime][c],
    peerCpu: pick("peer", (r) => r.serverCpu),
    oursCpu: pick("ours", (r) => r.serverCpu),
    peerThreadCpu: pick("peer", (r) => r.serverThreadCpu),
    oursThreadCpu: pick("ours", (r) => r.serverThreadCpu),
    loadgenCpu: median(runs.map((r) => r.loadgenCpu)),
    otherCpu: median(runs.map((r) => r.otherCpu)),
    oursSkipped: missing,
    runs,
    errors,
  };
}

interface IdleRow {
  runtime: Runtime;
  side: Side;
  requested: number;
  upgraded: number | null;
  rssBeforeKiB: number | null;
  rssAfterKiB: number | null;
  kibPerConn: number | null;
  target: number;
  loadgen: Record<string, any> | null;
  skipped: string | null;
  error: string | null;
}

/** Opens `n` upgraded idle connections, waits until all are up, reads the server's RSS. */
async function idle(
  runtime: Runtime,
  side: Side,
  n: number,
  o: Options,
  extra: string[],
): Promise<IdleRow> {
  const row: IdleRow = {
    runtime,
    side,
    requested: n,
    upgraded: null,
    rssBeforeKiB: null,
    rssAfterKiB: null,
    kibPerConn: null,
    target: TARGETS[runtime].idleKiB,
    loadgen: null,
    skipped: side === "ours" && !o.validate ? oursMissing(runtime) : null,
    error: null,
  };
  if (row.skipped) return row;
  process.stderr.write(`  ${runtime} idle ${side} (${n} connections) ... `);
  let server: Server | null = null;
  let lg: ReturnType<typeof loadgen> | null = null;
  try {
    const argv = side === "ours" && !o.validate
      ? SERVERS[runtime].ours(extra)
      : SERVERS[runtime].peer;
    server = await startServer(argv);
    await sleep(1000); // let start-up allocation settle
    row.rssBeforeKiB = rssKiB(server.pid);
    const fd0 = fdCount(server.pid);
    let holding: Record<string, any> | null = null;
    lg = loadgen(
      [
        "ws-idle",
        "--host",
        server.host,
        "--port",
        String(server.port),
        "--count",
        String(n),
        "--hold",
        "300",
      ],
      330_000,
      (line) => {
        if (line.includes('"phase":"holding"')) holding = JSON.parse(line);
      },
    );
    let lgExited = false;
    lg.result.then(() => lgExited = true, () => lgExited = true);
    const t0 = Date.now();
    while (!holding && !lgExited && Date.now() - t0 < 90_000) await sleep(100);
    if (!holding) {
      throw new Error(
        `the load generator did not get to hold its connections: ${
          JSON.stringify(await lg.result.catch((e) => String(e)))
        }`,
      );
    }
    await sleep(2000); // per-connection state allocated right after the upgrade
    row.upgraded = (holding as Record<string, any>).upgraded;
    row.rssAfterKiB = rssKiB(server.pid);
    const held = fdCount(server.pid) - fd0;
    row.kibPerConn = row.upgraded! > 0
      ? (row.rssAfterKiB - row.rssBeforeKiB) / row.upgraded!
      : null;
    lg.child.kill("SIGTERM"); // ends the hold; it closes the connections and reports
    row.loadgen = await lg.result;
    process.stderr.write(
      `${row.upgraded} upgraded (server fds +${held}), ${row.kibPerConn?.toFixed(2)} KiB/conn\n`,
    );
    if (row.upgraded! < n) row.error = `only ${row.upgraded} of ${n} connections were upgraded`;
    else if (row.loadgen.closed_by_server) {
      row.error = `the server closed ${row.loadgen.closed_by_server} idle connections`;
    }
  } catch (e) {
    row.error = (e as Error).message;
    process.stderr.write(`FAILED\n    ${row.error}\n`);
  } finally {
    if (lg) await stop(lg.child);
    if (server) await stop(server.child);
  }
  return row;
}

// ---------------------------------------------------------------- main

// ---------------------------------------------------------------- deflate

const DEFLATE_PEERS: Record<Runtime, string[] | null> = {
  deno: null, // Deno.upgradeWebSocket has no permessage-deflate
  bun: [BUN, "scripts/bench/ws_deflate_echo_bun.ts", ...HOST],
  node: [NODE, "scripts/bench/ws_deflate_echo_node.mjs", ...HOST],
};
const DEFLATE_PEER_NAME: Record<Runtime, string> = {
  deno: "(none)",
  bun: "Bun.serve perMessageDeflate",
  node: "ws perMessageDeflate",
};
const DEFLATE_CONNS = 50, DEFLATE_INFLIGHT = 8, DEFLATE_MEM_CONNS = 1000;

const LOADGEN_ZLIB = path.join(ROOT, "bench_results", "loadgen_zlib");

/** Compiles the load generator with its ws-deflate mode (-DLOADGEN_ZLIB -lz). */
function buildLoadgenZlib(): void {
  const src = path.join(ROOT, "scripts", "loadgen", "loadgen.c");
  if (fs.existsSync(LOADGEN_ZLIB) && fs.statSync(LOADGEN_ZLIB).mtimeMs >= fs.statSync(src).mtimeMs) return;
  fs.mkdirSync(path.dirname(LOADGEN_ZLIB), { recursive: true });
  const r = spawnSync("gcc", ["-O2", "-Wall", "-DLOADGEN_ZLIB", "-o", LOADGEN_ZLIB, src, "-lz"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`gcc -DLOADGEN_ZLIB ... -lz failed (zlib1g-dev missing?): ${r.stderr}`);
}

/**
 * Starts the server `argv`, runs a client against it (the C load generator's
 * ws-deflate mode, or with `mem` the Deno client of scripts/bench/ws_deflate_load.ts)
 * and returns the client's JSON line.
 */
async function deflateRun(argv: string[], extra: (pid: number) => string[], timeoutMs: number, mem = false): Promise<Record<string, any>> {
  const server = await startServer(argv);
  try {
    const where = ["--host", server.host, "--port", String(server.port), ...extra(server.pid)];
    const r = mem
      ? spawnSync(DENO, ["run", "-A", "scripts/bench/ws_deflate_load.ts", ...where], { cwd: ROOT, encoding: "utf8", timeout: timeoutMs })
      : spawnSync(LOADGEN_ZLIB, ["ws-deflate", ...where], { cwd: ROOT, encoding: "utf8", timeout: timeoutMs });
    const line = (r.stdout ?? "").trim().split("\n").pop() ?? "";
    try {
      return JSON.parse(line);
    } catch {
      throw new Error(`deflate load client gave no result: ${r.stderr?.slice(-500)}`);
    }
  } finally {
    await stop(server.child);
  }
}

/** Compressed echo msgs/s and memory per connection with compression on, ours vs each runtime's peer. */
async function deflateSection(o: Options): Promise<void> {
  buildLoadgenZlib();
  const out: string[][] = [];
  for (const runtime of o.runtimes) {
    type DSide = Side | "shared";
    const sides: [DSide, string[] | null][] = [
      ["peer", DEFLATE_PEERS[runtime]],
      ["ours", SERVERS[runtime].ours([])],
      ["shared", SERVERS[runtime].ours(["--deflate-no-context-takeover"])],
    ];
    const rates: Record<DSide, number[]> = { peer: [], ours: [], shared: [] };
    const mem: Record<DSide, number | null> = { peer: null, ours: null, shared: null };
    for (let i = 0; i < o.repeat; i++) {
      for (const [side, argv] of i % 2 ? [...sides].reverse() : sides) {
        if (argv === null) continue;
        process.stderr.write(`  ${runtime} deflate ${side} run ${i + 1}/${o.repeat} ... `);
        try {
          await waitForQuietHost(o.maxOtherCpu);
          const r = await deflateRun(argv, (pid) => [
            "--conns", String(DEFLATE_CONNS), "--inflight", String(DEFLATE_INFLIGHT), "--pid", String(pid),
            "--duration", String(o.duration), "--warmup", String(o.warmup), "--size", "256",
          ], (o.duration + o.warmup + 30) * 1000);
          if (r.errors || r.bad_msgs || !r.msgs || !r.compressed) throw new Error(JSON.stringify(r));
          rates[side].push(r.msgs_per_s);
          process.stderr.write(
            `${fmtRate(r.msgs_per_s)} msgs/s, ${(r.bytes_per_s / r.msgs_per_s).toFixed(0)} B/echo on the wire, ` +
              `CPU% server ${r.server_cpu_pct.toFixed(0)}, loadgen ${r.loadgen_cpu_pct.toFixed(0)}, ` +
              `other ${r.other_cpu_pct.toFixed(0)}\n`,
          );
        } catch (e) {
          process.stderr.write(`FAILED ${(e as Error).message}\n`);
        }
      }
    }
    for (const [side, argv] of sides) {
      if (argv === null) continue;
      try {
        const r = await deflateRun(argv, (pid) => ["--mem-conns", String(DEFLATE_MEM_CONNS), "--pid", String(pid)], 120_000, true);
        if (r.compressedFirst === DEFLATE_MEM_CONNS) mem[side] = r.kibPerConn;
        process.stderr.write(`  ${runtime} deflate ${side} memory: ${r.kibPerConn?.toFixed(1)} KiB/conn\n`);
      } catch (e) {
        process.stderr.write(`  ${runtime} deflate ${side} memory FAILED ${(e as Error).message}\n`);
      }
    }
    const peer = median(rates.peer), ours = median(rates.ours), shared = median(rates.shared);
    const range = (xs: number[]) => xs.length ? `${fmtRate(Math.min(...xs))}-${fmtRate(Math.max(...xs))}` : "-";
    out.push([
      runtime,
      DEFLATE_PEER_NAME[runtime],
      peer ? `${fmtRate(peer)} (${range(rates.peer)})` : "-",
      ours ? `${fmtRate(ours)} (${range(rates.ours)})` : "-",
      peer && ours ? `${(ours / peer).toFixed(2)}x` : "-",
      shared ? `${fmtRate(shared)} (${range(rates.shared)})` : "-",
      mem.peer === null ? "-" : mem.peer.toFixed(1),
      mem.ours === null ? "-" : mem.ours.toFixed(1),
      mem.shared === null ? "-" : mem.shared.toFixed(1),
    ]);
  }
  console.log(
    `\npermessage-deflate echo: ${DEFLATE_CONNS} conns x ${DEFLATE_INFLIGHT} in flight, 256-byte JSON text compressed both ways ` +
      `(median of ${o.repeat} x ${o.duration} s, range in brackets); memory = server RSS growth per connection ` +
      `after ${DEFLATE_MEM_CONNS} connections each echoed one compressed message; "no-ctx" = ours with ` +
      "--deflate-no-context-takeover (shared zlib state, as Bun's default shared compressor)",
  );
  console.log(table(
    [
      "runtime",
      "peer",
      "peer msgs/s",
      "ours msgs/s",
      "ours/peer",
      "ours no-ctx msgs/s",
      "peer KiB/conn",
      "ours KiB/conn",
      "ours no-ctx KiB/conn",
    ],
    out,
  ));
}

async function main(): Promise<number> {
  const o = parseOptions(process.argv.slice(2));
  buildLoadgen();
  if (o.build && o.runtimes.includes("node") && !o.validate && !buildNpm()) {
    console.error("npm build failed: node 'ours' runs will fail to start");
  }
  if (!o.validate && o.runtimes.includes("node")) warnIfStaleNpmBuild();
  const ver = versions();
  console.error(
    `netstreams WebSocket bench: ${os.cpus().length} CPUs, ${os.release()}; ` +
      `deno ${ver.deno}, bun ${ver.bun}, node ${ver.node}` +
      (o.validate ? '\nVALIDATION: the peer also plays "ours"' : ""),
  );
  for (const rt of o.runtimes) {
    const why = o.validate ? null : oursMissing(rt);
    if (why) console.error(`${rt}: ours not measured: ${why}; peers only`);
  }

  if (o.deflate) {
    await deflateSection(o);
    if (o.deflateOnly) return 0;
  }
  const rows: Row[] = [];
  for (const runtime of o.runtimes) {
    for (const c of o.cases) rows.push(await throughput(runtime, c, o));
  }
  const idleRows: IdleRow[] = [];
  if (o.idleConns > 0) {
    const extra = o.validate || o.runtimes.every((rt) => oursMissing(rt))
      ? []
      : idleExtra(o.idleConns);
    for (const runtime of o.runtimes) {
      for (const side of ["peer", "ours"] as const) {
        idleRows.push(await idle(runtime, side, o.idleConns, o, extra));
      }
    }
  }

  console.log(
    `\nWebSocket echo (median of ${o.repeat} run(s) of ${o.duration} s; msgs/s = echoed messages; ` +
      `server CPU% = the server process over the window, 100 = one core, busiest thread in brackets)` +
      (o.validate ? " [VALIDATION: peer in both columns]" : ""),
  );
  for (const c of o.cases) console.log(`  ${c}: ${CASES[c].what}`);
  console.log(table(
    [
      "runtime",
      "case",
      "peer",
      "peer msgs/s",
      "ours msgs/s",
      "ratio",
      "target",
      "server CPU% peer",
      "server CPU% ours",
      "loadgen CPU%",
      "other CPU%",
      "spread peer/ours",
    ],
    rows.map((r) => [
      r.runtime,
      r.case,
      PEER_NAME[r.runtime],
      fmtRate(r.peer),
      r.oursSkipped ? "n/a" : r.ours === null ? "failed" : fmtRate(r.ours),
      r.ratio === null ? "-" : `${r.ratio.toFixed(2)}x`,
      `>= ${r.target}x` + (r.ratio === null ? "" : r.ratio >= r.target ? " ok" : " MISSED"),
      `${pct(r.peerCpu)} (${pct(r.peerThreadCpu)})`,
      r.oursSkipped ? "-" : `${pct(r.oursCpu)} (${pct(r.oursThreadCpu)})`,
      pct(r.loadgenCpu),
      pct(r.otherCpu) + (r.runs.some((x) => x.otherCpu > o.maxOtherCpu) ? " !" : ""),
      `${spread(r.runs.filter((x) => x.side === "peer").map((x) => x.msgsPerS))}/${
        spread(r.runs.filter((x) => x.side === "ours").map((x) => x.msgsPerS))
      }`,
    ]),
  ));
  const skipped = [...new Set(rows.map((r) => r.oursSkipped).filter(Boolean))];
  if (skipped.length) console.log(`ours n/a: ${skipped.join("; ")}`);
  if (rows.some((r) => r.runs.some((x) => x.otherCpu > o.maxOtherCpu))) {
    console.log(
      `! other processes used more than ${o.maxOtherCpu}% of a core during a kept run (three attempts): ` +
        "that row is unreliable, run it again on a quiet host. (other = host busy time minus server, " +
        "load generator and softirq.)",
    );
  }
  console.log(
    "The load generator, the server and loopback TCP (softirq, charged to no process) share the " +
      "host's cores: a server is the bottleneck when its busiest thread is near 100.",
  );
  if (idleRows.length) {
    console.log(
      `\nIdle memory (${o.idleConns} upgraded idle WebSocket connections; RSS of the server process)`,
    );
    console.log(table(
      ["runtime", "server", "upgraded", "RSS before", "RSS after", "KiB/conn", "target (ours)"],
      idleRows.map((r) => [
        r.runtime,
        r.side === "peer" ? `peer (${PEER_NAME[r.runtime]})` : o.validate ? "ours(=peer)" : "ours",
        r.skipped ? "n/a" : r.upgraded === null ? "failed" : String(r.upgraded),
        r.rssBeforeKiB === null ? "-" : `${(r.rssBeforeKiB / 1024).toFixed(1)} MiB`,
        r.rssAfterKiB === null ? "-" : `${(r.rssAfterKiB / 1024).toFixed(1)} MiB`,
        r.kibPerConn === null ? "-" : r.kibPerConn.toFixed(2),
        `<= ${r.target}` +
        (r.side === "ours" && r.kibPerConn !== null
          ? (r.kibPerConn <= r.target ? " ok" : " MISSED")
          : ""),
      ]),
    ));
  }
  const errors = [
    ...rows.flatMap((r) => r.errors.map((e) => `${r.runtime} ${r.case} ${e}`)),
    ...idleRows.filter((r) => r.error).map((r) => `${r.runtime} idle ${r.side}: ${r.error}`),
  ];
  if (errors.length) console.log(`\nFailures:\n${errors.map((e) => `  ${e}`).join("\n")}`);

  fs.mkdirSync(OUT_DIR, { recursive: true });
  const file = path.join(OUT_DIR, "ws.json");
  fs.writeFileSync(
    file,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: { cpus: os.cpus().length, kernel: os.release() },
        versions: ver,
        options: o,
        cases: CASES,
        targets: TARGETS,
        commands: Object.fromEntries(
          o.runtimes.map((rt) => [rt, { peer: SERVERS[rt].peer, ours: SERVERS[rt].ours([]) }]),
        ),
        throughput: rows,
        idle: idleRows,
        errors,
      },
      null,
      2,
    ) + "\n",
  );
  console.log(`\nwrote ${path.relative(ROOT, file)}`);
  return errors.length ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
} finally {
  killAll("SIGTERM");
  await sleep(100);
  killAll("SIGKILL");
}
process.exit(code);
