/**
 * Clients for the chat demo's tests: a `ws` client that collects the JSON
 * events of the room (the page's side), and the example started as its
 * own process (for the Ctrl-C test).
 */

import WebSocket from "ws";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { ROOT } from "../interop/_servers.ts";

/** A page-like client: JSON events in, JSON or raw text out. */
export interface WebClient {
  ws: any;
  /** Every event received, parsed. */
  events: any[];
  /** Sends an object as JSON, or a string / bytes as they are. */
  send(message: object | string | Uint8Array): void;
  /** Resolves with the first event (from the start) for which `pred` holds (default 3 s). */
  waitFor(pred: (event: any) => boolean, ms?: number, what?: string): Promise<any>;
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

/** Opens `ws://127.0.0.1:port/chat` and waits for the welcome. */
export async function joinWeb(port: number): Promise<WebClient> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/chat`);
  const events: any[] = [];
  const waiters = new Set<() => void>();
  const wake = () => [...waiters].forEach((w) => w());
  let isClosed = false;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on("close", (code: number, reason: Uint8Array) => {
      isClosed = true;
      resolve({ code, reason: new TextDecoder().decode(reason) });
      wake();
    });
  });
  ws.on("error", () => {});
  ws.on("message", (data: Uint8Array, binary: boolean) => {
    events.push(binary ? { binary: true } : JSON.parse(new TextDecoder().decode(data)));
    wake();
  });
  const waitFor = (pred: (e: any) => boolean, ms = 3000, what = "an event") =>
    new Promise<any>((resolve, reject) => {
      const check = () => {
        const hit = events.find(pred);
        if (hit !== undefined || isClosed) {
          waiters.delete(check);
          clearTimeout(timer);
          if (hit !== undefined) resolve(hit);
          else reject(new Error(`closed while waiting for ${what}; got ${JSON.stringify(events)}`));
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(`no ${what} within ${ms} ms; got ${JSON.stringify(events).slice(0, 800)}`),
        );
      }, ms);
      waiters.add(check);
      check();
    });
  const client: WebClient = {
    ws,
    events,
    send: (m) => ws.send(typeof m === "string" || m instanceof Uint8Array ? m : JSON.stringify(m)),
    waitFor,
    closed,
    close: () => ws.close(),
  };
  await waitFor((e) => e.type === "welcome", 5000, "welcome");
  return client;
}

/** The example's entry point: examples/chat/main.ts, or main.js in the npm build. */
export const CHAT_MAIN = fileURLToPath(
  new URL(
    import.meta.url.endsWith(".js") ? "../../examples/chat/main.js" : "../../examples/chat/main.ts",
    import.meta.url,
  ),
);

/** The chat running as a child process on this test's runtime. */
export interface ChatProcess {
  child: ChildProcess;
  pageUrl: string;
  tcpPort: number;
  stdout(): string;
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: string | null }>;
}

const FREE_PORTS = ["--web-port", "0", "--tcp-port", "0", "--proxy-port", "0"];

/** Starts the example with free ports on this runtime and waits until it prints its addresses (15 s). */
export function startChatProcess(extra: string[] = []): Promise<ChatProcess> {
  const g = globalThis as { Deno?: { execPath(): string }; process?: { execPath: string } };
  const argv = g.Deno
    ? [g.Deno.execPath(), "run", "-A", CHAT_MAIN]
    : [g.process!.execPath, CHAT_MAIN];
  return started(
    spawn(argv[0]!, [...argv.slice(1), ...FREE_PORTS, ...extra], {
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
}

/**
 * Starts `node scripts/demo.mjs` (what `npm run demo` runs) with free ports,
 * in its own process group, as a terminal would (30 s: it checks node_modules first).
 */
export function startDemoScript(): Promise<ChatProcess> {
  const script = join(ROOT, "scripts", "demo.mjs");
  const child = spawn("node", [script, ...FREE_PORTS], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  return started(child, 30_000);
}

function started(child: ChildProcess, ms = 15_000): Promise<ChatProcess> {
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) =>
    child.once("exit", (code, signal) => r({ code, signal }))
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the chat did not start in ${ms} ms: ${out} ${err}`));
    }, ms);
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`the chat exited with ${code}: ${out} ${err}`));
    });
    child.stdout!.on("data", (d: string) => {
      out += d;
      const page = /browser: +(http:\/\/\S+)/.exec(out);
      const tcp = /terminal: +nc \S+ (\d+)/.exec(out);
      if (!page || !tcp) return;
      clearTimeout(timer);
      resolve({ child, pageUrl: page[1]!, tcpPort: Number(tcp[1]), stdout: () => out, exited });
    });
  });
}
