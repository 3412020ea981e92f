/**
 * bench_tls.ts: TLS echo throughput of our `tcp-echo` against plaintext on each
 * runtime, and against a hand-written echo on the runtime's fastest native TLS API
 * (scripts/bench/tls_echo_peer.mjs: Deno.listenTls, Bun.listen({tls}),
 * tls.createServer), with the C load generator (scripts/loadgen/loadgen.c built
 * with -DLOADGEN_TLS, into bench_results/loadgen_tls; the same binary drives the
 * plaintext runs, so both sides pay the same client costs).
 *
 * For each runtime (deno, bun, node) and mode:
 *   bulk:  1 connection, 64 KiB writes, at most 1 MiB unechoed: MB/s;
 *   lines: 50 connections, 16 lines of 64 bytes in flight on each: lines/s
 *          (ours runs --lines; the peer echoes bytes as they come);
 * servers: plain = ours without TLS, tls = ours with --tls-cert/--tls-key
 * (node:tls over node:net on every runtime), peer = native TLS byte echo; in lines
 * mode also tlsbytes = ours with TLS echoing bytes unframed, the fair match for the
 * peer (so "TLS / native" compares TLS stacks, "TLS / plaintext" the same framing).
 * Each is started alone, measured for `--duration` s after `--warmup` s; runs
 * alternate `--repeat` times and the median is kept. Prints the numbers, the
 * ratios tls/plain and tls/peer, the server and loadgen CPU% (the client
 * encrypts and decrypts too: at ~100% it, not the server, is the limit), and
 * writes bench_results/tls.json. Certificates: P-256, made with openssl. Before each
 * run it waits for a quiet host, and repeats a run during which other processes
 * used more than 25% of a core (twice at most).
 *
 * Run (repository root; Linux, gcc, openssl and libssl-dev). Node runs npm/esm/cli.js
 * when built (deno run -A scripts/build_npm.ts --no-test), else cli.ts with
 * --experimental-strip-types (Node 22.6+); NODE_BIN picks the node binary:
 *   deno run -A scripts/bench_tls.ts [--duration 5] [--warmup 1] [--repeat 3]
 *                                    [--runtimes deno,bun,node] [--modes bulk,lines]
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

type Runtime = "deno" | "bun" | "node";
type Mode = "bulk" | "lines";
type Side = "plain" | "tls" | "tlsbytes" | "peer";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const OUT = path.join(ROOT, "bench_results");
const bin = (n: string) => {
  const p = path.join(ROOT, "node_modules", ".bin", n);
  return fs.existsSync(p) ? p : n;
};
const NODE = process.env.NODE_BIN ?? "node";
const BUILT = fs.existsSync(path.join(ROOT, "npm/esm/cli.js"));
const RUN: Record<Runtime, string[]> = {
  deno: [bin("deno"), "run", "-A"],
  bun: [bin("bun")],
  node: [NODE],
};
// Node runs the built package; without one, the sources with --experimental-strip-types (Node 22.6+).
const CLI: Record<Runtime, string[]> = {
  deno: ["cli.ts"],
  bun: ["cli.ts"],
  node: BUILT ? ["npm/esm/cli.js"] : ["--experimental-strip-types", "--no-warnings", "cli.ts"],
};
const LOADGEN = path.join(OUT, "loadgen_tls");

function options() {
  const o = {
    duration: 5,
    warmup: 1,
    repeat: 3,
    runtimes: ["deno", "bun", "node"] as Runtime[],
    modes: ["bulk", "lines"] as Mode[],
  };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    const v = a[++i] ?? "";
    if (a[i - 1] === "--duration") o.duration = Number(v);
    else if (a[i - 1] === "--warmup") o.warmup = Number(v);
    else if (a[i - 1] === "--repeat") o.repeat = Math.max(1, Math.floor(Number(v)));
    else if (a[i - 1] === "--runtimes") o.runtimes = v.split(",") as Runtime[];
    else if (a[i - 1] === "--modes") o.modes = v.split(",") as Mode[];
    else throw new TypeError(`Unknown option ${a[i - 1]}: see the header of scripts/bench_tls.ts`);
  }
  if (!(o.duration > 0) || !(o.warmup >= 0)) {
    throw new RangeError("Cannot run: --duration must be > 0 and --warmup >= 0");
  }
  return o;
}

const children = new Set<ChildProcess>();
process.on("exit", () => children.forEach((c) => c.kill("SIGKILL")));
for (const s of ["SIGINT", "SIGTERM"] as const) {
  process.on(s, () => {
    children.forEach((c) => c.kill("SIGKILL"));
    process.exit(130);
  });
}

function spawnTracked(argv: string[]): ChildProcess {
  const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** Starts a server and resolves with it and its port, from its `listening on` line (30 s). */
function startServer(argv: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawnTracked(argv);
  let out = "";
  let err = "";
  child.stderr!.on("data", (d) => (err = (err + d).slice(-2000)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${argv.join(" ")}: no "listening on" in 30 s ${err}`)),
      30_000,
    );
    child.once(
      "exit",
      (code) => reject(new Error(`${argv.join(" ")} exited with ${code}: ${err}`)),
    );
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /listening on \S+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const t = setTimeout(() => child.kill("SIGKILL"), 3000);
  await exited;
  clearTimeout(t);
}

/** Runs the load generator to completion; resolves with its JSON result. */
function loadgen(args: string[], ms: number): Promise<Record<string, number>> {
  const child = spawnTracked([LOADGEN, ...args]);
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => child.kill("SIGTERM"), ms);
    child.once("exit", () => {
      clearTimeout(t);
      try {
        resolve(JSON.parse(out.trim().split("\n").pop() ?? ""));
      } catch {
        reject(new Error(`loadgen ${args.join(" ")} gave no result: ${err || out}`));
      }
    });
  });
}

function makeCerts(): { cert: string; key: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "netstreams-bench-tls-"));
  process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  const cert = path.join(dir, "server.pem");
  const key = path.join(dir, "server.key");
  execFileSync("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    key,
    "-out",
    cert,
    "-days",
    "2",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=DNS:localhost,IP:127.0.0.1",
  ], { stdio: "ignore" });
  return { cert, key };
}

function serverArgv(
  rt: Runtime,
  side: Side,
  mode: Mode,
  certs: { cert: string; key: string },
): string[] {
  const host = ["--hostname", "127.0.0.1", "--port", "0"];
  if (side === "peer") {
    return [
      ...RUN[rt],
      "scripts/bench/tls_echo_peer.mjs",
      ...host,
      "--cert",
      certs.cert,
      "--key",
      certs.key,
    ];
  }
  const tls = side === "plain" ? [] : ["--tls-cert", certs.cert, "--tls-key", certs.key];
  const framed = mode === "lines" && side !== "tlsbytes";
  return [...RUN[rt], ...CLI[rt], "tcp-echo", ...host, ...(framed ? ["--lines"] : []), ...tls];
}

interface Result {
  value: number; // MB/s (bulk) or lines/s (lines)
  serverCpu: number;
  loadgenCpu: number;
  otherCpu: number;
}

/** Busy and total CPU ticks of the host (/proc/stat). */
function hostTicks(): { busy: number; total: number } {
  const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!.split(/\s+/).slice(1, 8).map(
    Number,
  );
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - f[4]!, total };
}

/** The host may be shared: waits (60 s at most) until others use under 25% of a core. */
async function quietHost(): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const a = hostTicks();
    await new Promise((r) => setTimeout(r, 1000));
    const b = hostTicks();
    if ((b.busy - a.busy) / (b.total - a.total) * os.cpus().length * 100 <= 25) return;
  }
}

/** One measurement; repeated (twice at most) when other processes took more than 25% of a core. */
async function measure(
  rt: Runtime,
  side: Side,
  mode: Mode,
  certs: { cert: string; key: string },
  o: ReturnType<typeof options>,
): Promise<Result> {
  for (let attempt = 0;; attempt++) {
    await quietHost();
    const r = await measureOnce(rt, side, mode, certs, o);
    if (!(r.otherCpu > 25) || attempt === 2) return r;
  }
}

async function measureOnce(
  rt: Runtime,
  side: Side,
  mode: Mode,
  certs: { cert: string; key: string },
  o: ReturnType<typeof options>,
): Promise<Result> {
  const server = await startServer(serverArgv(rt, side, mode, certs));
  try {
    const args = [
      mode,
      "--port",
      String(server.port),
      "--duration",
      String(o.duration),
      "--warmup",
      String(o.warmup),
      "--pid",
      String(server.child.pid),
    ];
    if (side !== "plain") args.push("--tls", "localhost");
    const r = await loadgen(args, (o.duration + o.warmup + 30) * 1000);
    if (r.errors) {
      throw new Error(`${rt} ${side} ${mode}: loadgen reported errors ${JSON.stringify(r)}`);
    }
    return {
      value: mode === "bulk" ? r.mb_per_s! : r.msgs_per_s!,
      serverCpu: r.server_cpu_pct ?? NaN,
      loadgenCpu: r.loadgen_cpu_pct ?? NaN,
      otherCpu: r.other_cpu_pct ?? NaN,
    };
  } finally {
    await stop(server.child);
  }
}

const median = (xs: Result[]): Result =>
  [...xs].sort((a, b) => a.value - b.value)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const o = options();
  fs.mkdirSync(OUT, { recursive: true });
  execFileSync("gcc", [
    "-O2",
    "-DLOADGEN_TLS",
    "-o",
    LOADGEN,
    path.join(ROOT, "scripts/loadgen/loadgen.c"),
    "-lssl",
    "-lcrypto",
  ], { stdio: "inherit" });
  const certs = makeCerts();
  const results: Record<string, Result> = {};
  const sidesOf = (
    m: Mode,
  ): Side[] => (m === "lines" ? ["plain", "tls", "tlsbytes", "peer"] : ["plain", "tls", "peer"]);
  for (const rt of o.runtimes) {
    for (const mode of o.modes) {
      const sides = sidesOf(mode);
      const runs: Record<Side, Result[]> = { plain: [], tls: [], tlsbytes: [], peer: [] };
      for (let i = 0; i < o.repeat; i++) {
        for (const side of sides) {
          process.stderr.write(`${rt} ${mode} ${side} run ${i + 1}/${o.repeat}\r`);
          runs[side].push(await measure(rt, side, mode, certs, o));
        }
      }
      for (const side of sides) results[`${rt} ${mode} ${side}`] = median(runs[side]);
    }
  }
  process.stderr.write("\n");
  const unit = (m: Mode) => (m === "bulk" ? "MB/s" : "lines/s");
  const fmt = (r: Result, m: Mode) =>
    `${m === "bulk" ? r.value.toFixed(0) : (r.value / 1000).toFixed(0) + "k"} (srv ${
      r.serverCpu.toFixed(0)
    }%, lg ${r.loadgenCpu.toFixed(0)}%)`;
  console.log(
    "| runtime | mode | plaintext | TLS (node:tls) | TLS, bytes | native TLS peer | TLS / plaintext | TLS / native |",
  );
  console.log("|---|---|---|---|---|---|---|---|");
  for (const rt of o.runtimes) {
    for (const mode of o.modes) {
      const r = (s: Side) => results[`${rt} ${mode} ${s}`];
      const [p, t, n] = [r("plain")!, r("tls")!, r("peer")!];
      const b = r("tlsbytes") ?? t; // bulk: ours already echoes bytes
      console.log(
        `| ${rt} | ${mode} (${unit(mode)}) | ${fmt(p, mode)} | ${fmt(t, mode)} | ${
          mode === "lines" ? fmt(b, mode) : "="
        } | ` +
          `${fmt(n, mode)} | ${(t.value / p.value).toFixed(2)} | ${
            (b.value / n.value).toFixed(2)
          } |`,
      );
    }
  }
  fs.writeFileSync(path.join(OUT, "tls.json"), JSON.stringify({ options: o, results }, null, 2));
}

await main();
