/**
 * Shared pieces of the benchmark scripts (scripts/bench_*.ts): child processes
 * that are always killed, servers that announce `listening on HOST:PORT`, the
 * C load generator (scripts/loadgen/loadgen.c), /proc readings, and tables.
 * Runs on Deno, Bun and Node (node: APIs only).
 *
 * @module
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** Where results and the compiled load generator go (gitignored). */
export const OUT_DIR = path.join(ROOT, "bench_results");

/** node_modules/.bin/NAME when installed there, else NAME from PATH. */
export function localBin(name: string): string {
  const p = path.join(ROOT, "node_modules", ".bin", name);
  return fs.existsSync(p) ? p : name;
}
export const DENO = localBin("deno");
export const BUN = localBin("bun");
/**
 * The Node binary the benches run: `node` on PATH, or the one named by the
 * environment variable BENCH_NODE (for example a current LTS installed with
 * `npm i node@24` when the host's Node is older). Its version is printed.
 */
export const NODE = Deno.env.get("BENCH_NODE") || "node";
/** Builds the npm package (node runs `npm/esm/cli.js`). */
export const BUILD_NPM = [DENO, "run", "-A", "scripts/build_npm.ts", "--no-test"];

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- child processes

const children = new Set<ChildProcess>();

/** Kills every child started with {@linkcode start} that is still running. */
export function killAll(signal: "SIGTERM" | "SIGKILL" = "SIGKILL"): void {
  for (const c of children) {
    try {
      c.kill(signal);
    } catch { /* already gone */ }
  }
}
process.on("exit", () => killAll());
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    console.error(`\n${sig}: stopping every child process`);
    killAll();
    process.exit(130);
  });
}

/**
 * Spawns argv (cwd: the repository root) with the fd soft limit raised to the
 * hard one (`exec` keeps the PID, so the PID is the program's). Tracks it for
 * {@linkcode killAll}; keeps the last 4 KiB of stderr.
 */
export function start(argv: string[]): { child: ChildProcess; stderrTail: () => string } {
  const child = spawn("sh", [
    "-c",
    'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"',
    "sh",
    ...argv,
  ], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  child.on("exit", () => children.delete(child));
  child.on("error", () => {});
  let tail = "";
  child.stderr!.on("data", (d: Uint8Array) => {
    tail = (tail + new TextDecoder().decode(d)).slice(-4096);
  });
  return { child, stderrTail: () => tail.trim() };
}

/** Stops a child: SIGTERM, then SIGKILL after 3 s. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
  await exited;
  clearTimeout(timer);
}

/** A server command that did not come up. */
export class StartError extends Error {}

/** A running server child. */
export interface Server {
  child: ChildProcess;
  pid: number;
  host: string;
  port: number;
  argv: string[];
  stderrTail(): string;
}

const shown = (argv: string[]) =>
  argv.map((a) => a.startsWith(ROOT + "/") ? a.slice(ROOT.length + 1) : a).join(" ");

/** Starts a server and waits for its `listening on HOST:PORT` line (30 s). */
export async function startServer(argv: string[]): Promise<Server> {
  for (const a of argv.slice(1)) {
    if (/\.(ts|js|mjs)$/.test(a) && !fs.existsSync(path.resolve(ROOT, a))) {
      throw new StartError(
        `command failed to start: ${shown(argv)}: ${a} does not exist` +
          (a.startsWith("npm/")
            ? ` (build it: deno ${BUILD_NPM.slice(1).join(" ")}, or pass --build)`
            : ""),
      );
    }
  }
  const { child, stderrTail } = start(argv);
  let out = "";
  const line = await new Promise<string | Error>((resolve) => {
    const timer = setTimeout(() => resolve(new Error("no `listening on` line within 30 s")), 30000);
    child.stdout!.on("data", (d: Uint8Array) => {
      if (out.includes("\n")) return; // keep draining so the pipe never fills
      out += new TextDecoder().decode(d);
      if (out.includes("\n")) {
        clearTimeout(timer);
        resolve(out.slice(0, out.indexOf("\n")));
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve(new Error(`exited (${signal ?? `code ${code}`}) before listening`));
    });
  });
  const m = typeof line === "string" ? /listening on (\[[^\]]+\]|[^\s,]+):(\d+)/.exec(line) : null;
  if (!m) {
    await stop(child);
    const why = line instanceof Error
      ? line.message
      : `first stdout line was ${JSON.stringify(line)}`;
    const err = stderrTail();
    throw new StartError(
      `command failed to start: ${shown(argv)}: ${why}${
        err ? `\n    stderr: ${err.split("\n").slice(-6).join("\n            ")}` : ""
      }`,
    );
  }
  let host = m[1].replace(/^\[|\]$/g, "");
  if (host === "0.0.0.0") host = "127.0.0.1";
  if (host === "::") host = "::1";
  return { child, pid: child.pid!, host, port: Number(m[2]), argv, stderrTail };
}

// ---------------------------------------------------------------- load generator

const LOADGEN_SRC = path.join(ROOT, "scripts", "loadgen", "loadgen.c");
/** The compiled load generator. */
export const LOADGEN = path.join(OUT_DIR, "loadgen");

/** Compiles loadgen.c with `gcc -O2` unless the binary is newer than the source. */
export function buildLoadgen(): void {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const fresh = fs.existsSync(LOADGEN) &&
    fs.statSync(LOADGEN).mtimeMs >= fs.statSync(LOADGEN_SRC).mtimeMs;
  if (fresh) return;
  const r = spawnSync("gcc", ["-O2", "-Wall", "-o", LOADGEN, LOADGEN_SRC], { encoding: "utf8" });
  if (r.status !== 0) {
    throw new Error(`gcc -O2 ${LOADGEN_SRC} failed: ${r.error?.message ?? r.stderr}`);
  }
}

/**
 * Starts the load generator. `result` is the JSON of its last stdout line once
 * it exits (by itself, after `timeoutMs`, or on SIGTERM); `onLine` sees every
 * stdout line as it comes (progress lines of the idle modes).
 */
export function loadgen(
  args: string[],
  timeoutMs: number,
  onLine?: (line: string) => void,
  /** A command that runs the load generator, e.g. `["taskset", "-c", "1"]`. */
  wrap: string[] = [],
) {
  const { child, stderrTail } = start([...wrap, LOADGEN, ...args]);
  let out = "";
  let seen = 0;
  child.stdout!.on("data", (d: Uint8Array) => {
    out += new TextDecoder().decode(d);
    for (let nl; (nl = out.indexOf("\n", seen)) !== -1; seen = nl + 1) {
      onLine?.(out.slice(seen, nl));
    }
  });
  const result = (async (): Promise<Record<string, any>> => {
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    await new Promise((resolve) => child.once("exit", resolve));
    clearTimeout(timer);
    const last = out.trim().split("\n").pop() ?? "";
    try {
      return JSON.parse(last);
    } catch {
      throw new Error(`loadgen ${args.join(" ")} gave no result: ${stderrTail() || out}`);
    }
  })();
  return { child, result };
}

// ---------------------------------------------------------------- /proc

/** Resident memory of a process, KiB (VmRSS). */
export function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : NaN;
}

/** Open file descriptors of a process. */
export function fdCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** Busy and total ticks of all CPUs (/proc/stat). */
function hostTicks(): { busy: number; total: number } {
  const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].split(/\s+/).slice(1, 8).map(
    Number,
  );
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - f[4], total }; // minus idle and iowait
}

/**
 * The host may be shared: waits (60 s at most) until everything else uses less
 * than `maxPct` of one core over a 1 s sample.
 */
export async function waitForQuietHost(maxPct: number): Promise<void> {
  const cores = os.cpus().length;
  for (let waited = 0; waited < 60; waited++) {
    const a = hostTicks();
    await sleep(1000);
    const b = hostTicks();
    const busyPct = (b.busy - a.busy) / (b.total - a.total) * 100 * cores;
    if (busyPct <= maxPct) return;
    if (waited === 0) {
      process.stderr.write(`(host busy: ${busyPct.toFixed(0)}% of a core, waiting) `);
    }
  }
}

/** The newest modification time under `dir` (ms). */
export function newestMtime(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

/** Warns when npm/esm/cli.js is older than src/ (node "ours" would measure a stale build). */
export function warnIfStaleNpmBuild(): void {
  const npmCli = path.join(ROOT, "npm", "esm", "cli.js");
  if (fs.existsSync(npmCli) && fs.statSync(npmCli).mtimeMs < newestMtime(path.join(ROOT, "src"))) {
    console.error(
      "warning: npm/esm/cli.js is older than src/: node 'ours' measures a stale build (pass --build)",
    );
  }
}

/** Runs the npm build; returns false when it failed. */
export function buildNpm(): boolean {
  console.error(`building the npm package: deno ${BUILD_NPM.slice(1).join(" ")}`);
  const r = spawnSync(BUILD_NPM[0], BUILD_NPM.slice(1), { cwd: ROOT, stdio: "inherit" });
  return r.status === 0;
}

// ---------------------------------------------------------------- numbers and output

/** The median, or null for no values. */
export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** (max - min) / median, in percent ("-" for fewer than two values). */
export function spread(values: number[]): string {
  return values.length < 2
    ? "-"
    : `${((Math.max(...values) - Math.min(...values)) / median(values)! * 100).toFixed(0)}%`;
}

/** 1234567 -> "1.23M", 123456 -> "123k". */
export function fmtRate(v: number | null): string {
  if (v === null) return "-";
  return v >= 1e6
    ? `${(v / 1e6).toFixed(2)}M`
    : v >= 1e4
    ? `${(v / 1e3).toFixed(0)}k`
    : `${(v / 1e3).toFixed(1)}k`;
}

/** Whole-number percentage or "-". */
export const pct = (v: number | null): string => v === null ? "-" : `${v.toFixed(0)}`;

/** A Markdown table. */
export function table(header: string[], rows: string[][]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => "| " + r.map((c, i) => c.padEnd(w[i])).join(" | ") + " |";
  return [line(header), "|" + w.map((n) => "-".repeat(n + 2)).join("|") + "|", ...rows.map(line)]
    .join("\n");
}

/** Versions of the three runtimes. */
export function versions(): Record<string, string> {
  const v = (argv: string[]) => {
    const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8" });
    return r.status === 0 ? r.stdout.split("\n")[0].trim() : "unavailable";
  };
  return { deno: v([DENO, "--version"]), bun: v([BUN, "--version"]), node: v([NODE, "--version"]) };
}

// ---------------------------------------------------------------- options

/** A number option >= min, with a message that names it and the value. */
export function numOption(v: string | undefined, name: string, min: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isFinite(n) || n < min) {
    throw new RangeError(`Cannot parse ${name}: must be a number >= ${min}: current value is ${v}`);
  }
  return n;
}

/** A comma-separated list whose items must be in `allowed`. */
export function listOption<T extends string>(
  v: string | undefined,
  allowed: readonly T[],
  name: string,
): T[] {
  const items = (v ?? "").split(",").filter(Boolean);
  for (const x of items) {
    if (!allowed.includes(x as T)) {
      throw new TypeError(`Cannot parse ${name}: "${x}" is not one of ${allowed.join(", ")}`);
    }
  }
  return items as T[];
}
