/**
 * Starts the `netstreams` CLI as a child process on the runtime running the
 * tests (Deno: `deno run -A cli.ts`, Bun: `bun cli.ts`, Node: the built
 * package's `cli.js`), and reads its "listening on" line.
 */

import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { existsSync, readFileSync } from "node:fs";

/** The command that runs the CLI on this runtime. */
export function cliCommand(): string[] {
  const here = fileURLToPath(import.meta.url);
  const built = here.endsWith(".js");
  const cli = fileURLToPath(new URL(built ? "../cli.js" : "../cli.ts", import.meta.url));
  const g = globalThis as { Deno?: { execPath(): string }; Bun?: unknown; process?: { execPath: string } };
  if (g.Deno) return [g.Deno.execPath(), "run", "-A", cli];
  return [g.process!.execPath, cli];
}

/** A running CLI server. */
export interface CliServer {
  child: ChildProcess;
  /** Addresses from the first stdout line. */
  addrs: { hostname: string; port: number }[];
  /** Everything printed so far. */
  stdout(): string;
  stderr(): string;
  /** Resident memory of the child in KiB (Linux). */
  rssKiB(): number;
  /** Sends SIGTERM and waits for exit (SIGKILL after 5 s); resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Runs `cli args`, waits for "listening on ..." (10 s). */
export function startCli(args: string[]): Promise<CliServer> {
  const [cmd, ...pre] = cliCommand();
  const child = spawn(cmd!, [...pre, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`CLI did not start in 10 s: ${out} ${err}`));
    }, 10_000);
    child.stderr!.on("data", (d: string) => (err += d));
    const early = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`CLI exited with ${code}: ${out} ${err}`));
    };
    child.once("exit", early);
    child.stdout!.on("data", (d: string) => {
      const had = out.includes("\n");
      out += d;
      if (had || !out.includes("\n")) return;
      clearTimeout(timer);
      const line = out.slice(0, out.indexOf("\n"));
      const m = /^listening on (.+)$/.exec(line);
      if (!m) return reject(new Error(`unexpected first line: ${line}`));
      const addrs = m[1]!.split(" ").map((a) => {
        const i = a.lastIndexOf(":");
        return { hostname: a.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(a.slice(i + 1)) };
      });
      resolve({
        child,
        addrs,
        stdout: () => out,
        stderr: () => err,
        rssKiB: () => {
          const status = existsSync(`/proc/${child.pid}/status`) ? readFileSync(`/proc/${child.pid}/status`, "utf8") : "";
          return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
        },
        stop: () => {
          child.off("exit", early);
          child.kill("SIGTERM");
          const t = setTimeout(() => child.kill("SIGKILL"), 5000);
          return exited.finally(() => clearTimeout(t));
        },
      });
    });
  });
}

/** Runs `cli args` to completion; resolves with exit code and output (20 s limit). */
export function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [cmd, ...pre] = cliCommand();
  const child = spawn(cmd!, [...pre, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Uint8Array) => (stdout += new TextDecoder().decode(d)));
  child.stderr!.on("data", (d: Uint8Array) => (stderr += new TextDecoder().decode(d)));
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.once("exit", (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a program with `input` on stdin; resolves with its stdout bytes (limit `ms`). */
export function runWithInput(cmd: string, args: string[], input: string | Uint8Array, ms = 10_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Uint8Array) => (stdout += new TextDecoder().decode(d)));
  child.stderr!.on("data", (d: Uint8Array) => (stderr += new TextDecoder().decode(d)));
  child.stdin!.end(input);
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill("SIGKILL"), ms);
    child.once("exit", (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

/** True when `cmd` can be run (for skipping interop tests with a clear message). */
export function have(cmd: string): boolean {
  return existsSync(cmd);
}
