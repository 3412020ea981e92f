/**
 * Socket state read from outside the process with iproute2's `ss` (what the
 * runtime matrix used): the keep-alive timer of an accepted connection and
 * the backlog of a listener. Tests that need it skip when `ss` is missing.
 */

import { execFile, spawnSync } from "node:child_process";

/** True when `ss` can be run. */
export const HAS_SS: boolean = (() => {
  try {
    const r = spawnSync("ss", ["-V"]);
    return r.error === undefined && r.status === 0;
  } catch {
    return false;
  }
})();

function ss(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("ss", args, (error, stdout) => (error ? reject(error) : resolve(String(stdout))));
  });
}

/**
 * Parses an `ss` timer ("4.896ms" is 4 s 896 ms, "29sec", "1min29sec",
 * "119min": iproute2's format_ms_timer) into milliseconds.
 */
export function parseTimer(text: string): number {
  const m = /^(?:(\d+)min)?(?:(\d+)(?:sec|\.))?(?:(\d+)ms)?$/.exec(text);
  if (m === null || text === "") throw new Error(`Cannot parse the ss timer "${text}"`);
  return Number(m[1] ?? 0) * 60_000 + Number(m[2] ?? 0) * 1000 + Number(m[3] ?? 0);
}

/**
 * Milliseconds left on the keep-alive timer of the established connection
 * whose local (server) port is `port`; undefined when it has no keep-alive.
 */
export async function keepAliveTimer(port: number): Promise<number | undefined> {
  const out = await ss(["-tnoH", "state", "established", `( sport = :${port} )`]);
  const line = out.split("\n").find((l) => l.trim() !== "");
  if (line === undefined) throw new Error(`ss shows no established connection on port ${port}`);
  const m = /timer:\(keepalive,([^,]+),/.exec(line);
  return m === null ? undefined : parseTimer(m[1]!);
}

/** The backlog of the listener on `port` (the Send-Q column of `ss -l`). */
export async function listenBacklog(port: number): Promise<number> {
  const out = await ss(["-ltnH", `( sport = :${port} )`]);
  const fields = out.trim().split(/\s+/);
  if (fields[0] !== "LISTEN") throw new Error(`ss shows no listener on port ${port}: ${out}`);
  return Number(fields[2]);
}
