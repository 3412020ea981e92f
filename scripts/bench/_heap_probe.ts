// _heap_probe.ts: preloaded into a Bun server by heap_bun.ts
// (`bun --preload scripts/bench/_heap_probe.ts ...`). On SIGUSR2 it runs a
// full collection and writes what stays live to $HEAP_PROBE_OUT as JSON:
// `bun:jsc` heapStats (heap size, the part of it outside the collector's
// cells, object count) and the bytes per class of a heap snapshot (code
// blocks, module records, structures, ...).
import fs from "node:fs";
import process from "node:process";
// @ts-ignore: bun:jsc exists on Bun only, and no Bun type package is installed.
import { heapStats } from "bun:jsc";

declare const Bun: { gc(full: boolean): void; generateHeapSnapshot(): Snapshot };

/** JavaScriptCore's heap snapshot: nodes are [id, size, class index, flags] runs. */
interface Snapshot {
  nodes: number[];
  nodeClassNames: string[];
}

process.on("SIGUSR2", () => {
  Bun.gc(true);
  const stats = heapStats() as { heapSize: number; extraMemorySize: number; objectCount: number };
  const snapshot = Bun.generateHeapSnapshot();
  const byClass: Record<string, number> = {};
  const { nodes, nodeClassNames } = snapshot;
  for (let i = 0; i < nodes.length; i += 4) {
    const name = nodeClassNames[nodes[i + 2]];
    byClass[name] = (byClass[name] ?? 0) + nodes[i + 1];
  }
  fs.writeFileSync(
    process.env.HEAP_PROBE_OUT!,
    JSON.stringify({
      heapSize: stats.heapSize,
      extraMemorySize: stats.extraMemorySize,
      objectCount: stats.objectCount,
      byClass,
    }),
  );
});
