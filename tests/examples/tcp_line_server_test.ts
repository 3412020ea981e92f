/**
 * examples/tcp_line_server.ts, the line chat over the event-style
 * TcpServer component, run as its own process on this runtime.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { connectClient } from "../_client.ts";

const SCRIPT = fileURLToPath(
  new URL(
    import.meta.url.endsWith(".js")
      ? "../../examples/tcp_line_server.js"
      : "../../examples/tcp_line_server.ts",
    import.meta.url,
  ),
);

/** Starts the example on a free port; resolves with the port from its first line (15 s). */
function start() {
  const g = globalThis as { Deno?: { execPath(): string } };
  const argv = g.Deno
    ? [g.Deno.execPath(), "run", "-A", SCRIPT, "0"]
    : [process.execPath, SCRIPT, "0"];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.setEncoding("utf8");
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const port = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in 15 s: ${out}`)), 15_000);
    void exited.then((code) => reject(new Error(`exited with ${code}: ${out}`)));
    child.stdout!.on("data", (d: string) => {
      out += d;
      const m = /^listening on 127\.0\.0\.1:(\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  return { child, port, exited, stdout: () => out };
}

describe("examples/tcp_line_server.ts", () => {
  it("passes lines between users, answers /who and stops on SIGTERM with exit code 0", async () => {
    const p = start();
    try {
      const port = await p.port;
      const a = await connectClient(port);
      await a.waitFor((t) => t.includes("Welcome"));
      const b = await connectClient(port);
      await a.waitFor((t) => /\* user\d+ joined\r\n/.test(t));
      b.send("hello\n");
      await a.waitFor((t) => /user\d+: hello\r\n/.test(t));
      a.send("/who\n");
      await a.waitFor((t) => /\* here: user\d+, user\d+\r\n/.test(t));
      process.kill(p.child.pid!, "SIGTERM");
      assert.equal(await p.exited, 0);
      assert.match(p.stdout(), /stopped\n$/);
      await Promise.all([a.closed, b.closed]);
      assert.match(b.text(), /server shutting down/);
    } finally {
      if (p.child.exitCode === null) p.child.kill("SIGKILL");
    }
  });
});
