/**
 * heap_bun.ts: why a Bun echo server collects garbage more or less often.
 * JavaScriptCore starts a young collection once the bytes allocated since
 * the last one pass a budget, about 8.5 MiB minus the heap left live after
 * the last full collection ("bytes allowed" of BUN_JSC_logGC=1); Bun
 * allocates every read afresh, so a server that keeps more live (its code
 * counts: module code, code blocks of the functions that ran, structures)
 * collects more often per byte echoed.
 *
 * Runs our `tcp-echo` and the hand loop of echo_bun.ts (alternately,
 * `--repeat` times each) under the load generator of bench_tcp.ts, with
 * BUN_JSC_logGC=1 and the probe `_heap_probe.ts` preloaded. Prints, per run:
 * throughput, young and full collections per GB, collection time per GB,
 * the median budget, and the heap after a full collection at the end; then
 * the heap snapshot's bytes per class, ours against the hand loop.
 *
 * Run (from the repository root; Linux, gcc on PATH):
 *   deno run -A scripts/bench/heap_bun.ts [--mode bulk|lines] [--seconds S] [--repeat N]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import {
  buildLoadgen,
  BUN,
  killAll,
  listOption,
  loadgen,
  median,
  numOption,
  sleep,
  startServer,
  stop,
  table,
} from "../_bench_util.ts";

type Side = "ours" | "hand";
type Mode = "bulk" | "lines";

const PROBE = "./scripts/bench/_heap_probe.ts";

/** What one run measured. */
interface Run {
  side: Side;
  mbPerS: number;
  gb: number;
  young: number;
  full: number;
  gcMs: number;
  allowed: number;
  probe: { heapSize: number; extraMemorySize: number; byClass: Record<string, number> };
}

const args = parseArgs(process.argv.slice(2));
process.on("SIGINT", () => {
  killAll();
  process.exit(130);
});
buildLoadgen();
const runs: Run[] = [];
for (let i = 0; i < args.repeat; i++) {
  for (const side of (i % 2 === 0 ? ["ours", "hand"] : ["hand", "ours"]) as Side[]) {
    const run = await measure(side);
    runs.push(run);
    console.log(
      `  ${side} run ${i + 1}/${args.repeat}: ${run.mbPerS.toFixed(0)} ${unit()}, ` +
        `${(run.young / run.gb).toFixed(0)} young + ${(run.full / run.gb).toFixed(1)} full ` +
        `collections per ${perUnit()} (${(run.gcMs / run.gb).toFixed(0)} ms), budget ` +
        `${(run.allowed / 1e6).toFixed(2)} MB, heap after a full collection ` +
        `${kb(run.probe.heapSize)} (outside cells ${kb(run.probe.extraMemorySize)})`,
    );
  }
}
report(runs);
killAll();

async function measure(side: Side): Promise<Run> {
  const out = path.join(os.tmpdir(), `heap_probe_${process.pid}_${side}.json`);
  fs.rmSync(out, { force: true });
  const program = side === "ours"
    ? ["cli.ts", "tcp-echo", "--hostname", "127.0.0.1", "--port", "0"]
    : ["scripts/bench/echo_bun.ts", "--mode", args.mode, "--port", "0"];
  if (side === "ours" && args.mode === "lines") program.push("--lines");
  const server = await startServer([
    "env",
    "BUN_JSC_logGC=1",
    `HEAP_PROBE_OUT=${out}`,
    BUN,
    "--preload",
    PROBE,
    ...program,
  ]);
  // Every line of the collector's log from here on (startServer keeps a tail only).
  let log = "";
  const lines: string[] = [];
  server.child.stderr!.on("data", (d: Uint8Array) => {
    log += new TextDecoder().decode(d);
    const nl = log.lastIndexOf("\n");
    if (nl === -1) return;
    for (const line of log.slice(0, nl).split("\n")) {
      if (line.startsWith("[GC") || line.startsWith("Requesting")) lines.push(line);
    }
    log = log.slice(nl + 1);
  });
  const lgArgs = args.mode === "bulk"
    ? ["bulk", "--block", "65536"]
    : ["lines", "--conns", "50", "--inflight", "16"];
  const r = await loadgen([
    ...lgArgs,
    "--host",
    server.host,
    "--port",
    String(server.port),
    "--duration",
    String(args.seconds),
    "--warmup",
    "0",
    "--pid",
    String(server.pid),
  ], (args.seconds + 30) * 1000).result;
  const counted = lines.slice(); // collections while the load ran (and the few at start)
  server.child.kill("SIGUSR2");
  for (let t = 0; t < 100 && !fs.existsSync(out); t++) await sleep(100);
  await sleep(200); // the probe's write completes
  await stop(server.child);
  const probe = JSON.parse(fs.readFileSync(out, "utf8"));
  fs.rmSync(out, { force: true });
  const allowed = counted.map((l) => /bytes allowed: (\d+)/.exec(l)?.[1]).filter((x) =>
    x !== undefined
  )
    .map(Number);
  const gcMs = counted.map((l) => /cycle ([\d.]+)ms END/.exec(l)?.[1]).filter((x) =>
    x !== undefined
  )
    .map(Number).reduce((a, b) => a + b, 0);
  const units = args.mode === "bulk" ? r.bytes / 1e9 : r.msgs / 1e6;
  return {
    side,
    mbPerS: args.mode === "bulk" ? r.mb_per_s : r.msgs_per_s / 1e6,
    gb: units,
    young: counted.filter((l) => l.includes("=> EdenCollection")).length,
    full: counted.filter((l) => l.includes("=> FullCollection")).length,
    gcMs,
    allowed: median(allowed) ?? 0,
    probe,
  };
}

function report(all: Run[]): void {
  const med = (side: Side, f: (r: Run) => number) =>
    median(all.filter((r) => r.side === side).map(f)) ?? 0;
  const rows: string[][] = [];
  for (
    const [name, f, fmt] of [
      [unit(), (r: Run) => r.mbPerS, (v: number) => v.toFixed(args.mode === "bulk" ? 0 : 2)],
      [
        `young collections per ${perUnit()}`,
        (r: Run) => r.young / r.gb,
        (v: number) => v.toFixed(0),
      ],
      [`full collections per ${perUnit()}`, (r: Run) => r.full / r.gb, (v: number) => v.toFixed(1)],
      [`collection ms per ${perUnit()}`, (r: Run) => r.gcMs / r.gb, (v: number) => v.toFixed(0)],
      [
        "young budget (bytes allowed), MB",
        (r: Run) => r.allowed / 1e6,
        (v: number) => v.toFixed(2),
      ],
      ["heap after a full collection", (r: Run) => r.probe.heapSize, kb],
      ["  of it outside cells (extra memory)", (r: Run) => r.probe.extraMemorySize, kb],
    ] as [string, (r: Run) => number, (v: number) => string][]
  ) {
    rows.push([name, fmt(med("hand", f)), fmt(med("ours", f))]);
  }
  console.log(`\nBun ${args.mode} echo, medians of ${args.repeat} run(s) of ${args.seconds} s`);
  console.log(table(["", "hand loop", "ours"], rows));
  const last = (side: Side) => all.filter((r) => r.side === side).at(-1)!.probe.byClass;
  const hand = last("hand"), ours = last("ours");
  const classes = Object.keys({ ...hand, ...ours })
    .map((c) => [c, (ours[c] ?? 0) - (hand[c] ?? 0)] as const)
    .sort((a, b) => b[1] - a[1]).slice(0, 12);
  console.log("\nHeap snapshot after a full collection (last runs): bytes per class");
  console.log(table(
    ["class", "hand loop", "ours", "ours - hand"],
    classes.map(([c, d]) => [c, kb(hand[c] ?? 0), kb(ours[c] ?? 0), kb(d)]),
  ));
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KB`;
}
function unit(): string {
  return args.mode === "bulk" ? "MB/s" : "M lines/s";
}
function perUnit(): string {
  return args.mode === "bulk" ? "GB" : "M lines";
}

function parseArgs(argv: string[]): { mode: Mode; seconds: number; repeat: number } {
  const o = { mode: "bulk" as Mode, seconds: 4, repeat: 2 };
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (key === "--mode") o.mode = listOption(value, ["bulk", "lines"], "--mode")[0];
    else if (key === "--seconds") o.seconds = numOption(value, "--seconds", 1);
    else if (key === "--repeat") o.repeat = numOption(value, "--repeat", 1);
    else {
      console.error("usage: heap_bun.ts [--mode bulk|lines] [--seconds S] [--repeat N]");
      process.exit(2);
    }
  }
  return o;
}
