/**
 * The servers the interop tests talk to, and why a test skips (a missing
 * peer: Chromium, Debian's python3-websockets; scripts/ensure_deps.mjs
 * installs them, so in CI nothing skips but Node 20's missing WebSocket).
 *
 * - the echo server: our CLI, `netstreams ws-echo --hostname 127.0.0.1 --port 0`,
 *   on the runtime running the tests (see ../_cli.ts);
 * - the fixture server: `_fixture_server.ts`, a few lines over our library API
 *   with an open-request hook, run as a child on the same runtime. Its contract:
 *     `/private`                 refused with 401 and
 *                                `WWW-Authenticate: Bearer realm="netstreams-interop"`
 *     `/close?code=C&reason=R`   accepted, then closed by the server with C and R
 *     `/last-close?code=C`       one text message: `{code, reason}` (JSON) of the latest
 *                                close frame with code C a client sent, or `null`
 *     subprotocols               the first offered of `chat.v1` / `chat.v2` is selected
 *     any other path             every message is echoed with the same type
 *
 * `NETSTREAMS_INTEROP_SERVER="node tests/interop/_ref_server.mjs"` (any command
 * that prints `listening on HOST:PORT` first and keeps the contract above; run
 * from the repository root with `--hostname 127.0.0.1 --port 0` appended) plays
 * both roles instead: that is how the suite itself is checked against `ws`.
 */

import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { type CliServer, startCli } from "../_cli.ts";

const BUILT = import.meta.url.endsWith(".js");
/** The repository root (tests run from `tests/interop/` or `npm/esm/tests/interop/`). */
export const ROOT = fileURLToPath(new URL(BUILT ? "../../../../" : "../../", import.meta.url));
/** A file next to this one (the npm build copies non-TypeScript fixtures beside the tests). */
export const here = (name: string): string => fileURLToPath(new URL(name, import.meta.url));

const OVERRIDE = (process.env.NETSTREAMS_INTEROP_SERVER ?? "").trim();

/** A running WebSocket server under test. */
export interface RunningServer {
  /** `ws://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** Its stderr so far, for failure messages. */
  stderr(): string;
  stop(): Promise<unknown>;
}

function wrap(s: CliServer): RunningServer {
  const { hostname, port } = s.addrs[0]!;
  const host = hostname === "0.0.0.0" ? "127.0.0.1" : hostname;
  return { url: `ws://${host}:${port}`, port, stderr: s.stderr, stop: s.stop };
}

/** Starts `argv` (cwd: the repository root) and waits for its `listening on` line (10 s). */
function startCommand(argv: string[]): Promise<RunningServer> {
  const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (d: string) => (err += d));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`${argv.join(" ")}: ${why}\n${out}${err}`));
    };
    const timer = setTimeout(() => fail("no `listening on` line within 10 s"), 10_000);
    const early = (code: number | null) => fail(`exited with ${code} before listening`);
    child.once("exit", early);
    child.on("error", (e) => fail(e.message));
    child.stdout!.on("data", (d: string) => {
      if (out.includes("\n")) return;
      out += d;
      const nl = out.indexOf("\n");
      if (nl === -1) return;
      const m = /^listening on (\[[^\]]+\]|[^\s,]+):(\d+)/.exec(out.slice(0, nl));
      if (!m) return fail(`unexpected first line: ${out.slice(0, nl)}`);
      clearTimeout(timer);
      child.off("exit", early);
      const port = Number(m[2]);
      resolve({
        url: `ws://127.0.0.1:${port}`,
        port,
        stderr: () => err,
        stop: () => {
          if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
          child.kill("SIGTERM");
          const t = setTimeout(() => child.kill("SIGKILL"), 5000);
          return exited.finally(() => clearTimeout(t));
        },
      });
    });
  });
}

const LOCAL = ["--hostname", "127.0.0.1", "--port", "0"];
const overrideArgv = () => [...OVERRIDE.split(/\s+/), ...LOCAL];

/** The runtime's command for a script (as `cliCommand` does for cli.ts). */
function runtimeCommand(script: string): string[] {
  const g = globalThis as { Deno?: { execPath(): string }; process?: { execPath: string } };
  if (g.Deno) return [g.Deno.execPath(), "run", "-A", script];
  return [g.process!.execPath, script];
}

/** Starts the echo server: ours (`ws-echo`), or the override. */
export async function startEcho(): Promise<RunningServer> {
  if (OVERRIDE) return startCommand(overrideArgv());
  return wrap(await startCli(["ws-echo", ...LOCAL]));
}

/** Starts the fixture server (contract above): ours, or the override. */
export function startFixture(): Promise<RunningServer> {
  if (OVERRIDE) return startCommand(overrideArgv());
  return startCommand(
    runtimeCommand(here(BUILT ? "./_fixture_server.js" : "./_fixture_server.ts")).concat(LOCAL),
  );
}

/** What serves these tests, for test output. */
export const SERVER_NAME = OVERRIDE ? `override "${OVERRIDE}"` : "netstreams";

// ------------------------------------------------------------ skip reasons

function noted(what: string, reason: string | false): string | false {
  // Deno's runner does not print skip reasons: say it once here.
  if (reason) console.log(`[interop] ${what} skipped: ${reason}`);
  return reason;
}

export const PY = "/usr/bin/python3";
/** Why Debian's python3-websockets cannot run, or false. */
export const NO_PYTHON: string | false = !existsSync(PY)
  ? `${PY} not installed (apt-get install python3-websockets)`
  : spawnSync(PY, ["-c", "import websockets"], { stdio: "ignore", timeout: 10_000 }).status !== 0
  ? `the websockets module is missing for ${PY} (apt-get install python3-websockets)`
  : false;

export const CHROMIUM = "/usr/bin/chromium";
/** Why Chromium cannot run, or false. */
export const NO_CHROMIUM: string | false = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} not installed (apt-get install chromium)`;

/** Joins skip reasons: the first that applies, or false; printed once per file. */
export function skipReason(what: string, ...reasons: (string | false)[]): string | false {
  return noted(what, reasons.find((r) => r !== false) ?? false);
}

/** Rejects after `ms` with `what` in the message. */
export function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
