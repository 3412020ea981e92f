#!/usr/bin/env node
/**
 * `npm run demo`: installs what is missing (npm devDependencies), then starts
 * the chat demo (examples/chat/main.ts) on Deno: the page on
 * http://127.0.0.1:8080/, terminals on `nc 127.0.0.1 7000`, the WS→TCP proxy
 * on ws://127.0.0.1:8081/. Extra arguments are passed on:
 * `npm run demo -- --web-port 9090 --tcp-port 7001 --proxy-port 9091`.
 * Stop it with Ctrl-C (the chat says goodbye and exits 0).
 *
 * @module
 */

import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ensureDeps, ROOT } from "./ensure_deps.mjs";

const EXAMPLE = "examples/chat/main.ts";

try {
  ensureDeps({ peers: false });
} catch (err) {
  console.error(`[demo] ${err.message}`);
  process.exit(1);
}
if (!fs.existsSync(path.join(ROOT, EXAMPLE))) {
  console.error(`[demo] ${EXAMPLE} does not exist yet.`);
  process.exit(1);
}
const deno = path.join(ROOT, "node_modules", ".bin", "deno");
const child = spawn(deno, ["run", "-A", EXAMPLE, ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: "inherit",
});
// Ctrl-C reaches the child through the terminal; a plain kill of this process is passed on.
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, () => child.kill(sig));
}
child.on("error", (err) => {
  console.error(`[demo] cannot start deno: ${err.message}`);
  process.exit(1);
});
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 + 2 : 0)));
