#!/usr/bin/env node
/**
 * Makes sure what the tests and the demo need is installed, on a machine that
 * starts with only Node.js and npm. Plain Node ESM on purpose: it runs before
 * anything else exists.
 *
 * - npm devDependencies (Deno, Bun, TypeScript, test peers): when one is
 *   missing, has another version than package.json pins, or its binary does not
 *   start, runs `npm ci` (or `npm install` when there is no lockfile).
 * - real protocol peers for the interop tests: socat, /usr/bin/python3 with the
 *   `websockets` module, websockify, chromium, openssl. As root on Debian they
 *   are installed with apt-get (one `apt-get update` first); otherwise the
 *   missing ones are listed and the tests that need them skip.
 *
 * Use: `node scripts/ensure_deps.mjs [--no-peers]`, or import `ensureDeps`.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const log = (msg) => console.log(`[deps] ${msg}`);

/** Runs a command quietly; true when it exits 0. */
function ok(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: "ignore", timeout: 60_000, ...opts });
  return r.status === 0;
}

function onPath(cmd) {
  return ok("sh", ["-c", `command -v ${cmd}`]);
}

/** Why node_modules needs an install, or undefined when it is fine. */
function nodeModulesProblem() {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
  if (!fs.existsSync(path.join(ROOT, "node_modules"))) return "node_modules is missing";
  const wanted = { ...pkg.dependencies, ...pkg.devDependencies };
  for (const [name, range] of Object.entries(wanted)) {
    const file = path.join(ROOT, "node_modules", name, "package.json");
    if (!fs.existsSync(file)) return `${name} is not installed`;
    const have = JSON.parse(fs.readFileSync(file, "utf8")).version;
    if (/^\d+\.\d+\.\d+$/.test(range) && have !== range) {
      return `${name} is ${have}, package.json pins ${range}`;
    }
  }
  for (const bin of ["deno", "bun", "tsc"]) {
    const exe = path.join(ROOT, "node_modules", ".bin", bin);
    if (!fs.existsSync(exe)) return `node_modules/.bin/${bin} is missing`;
    if (!ok(exe, ["--version"], { cwd: ROOT })) return `node_modules/.bin/${bin} does not start`;
  }
  return undefined;
}

/** Installs the npm devDependencies when needed. Throws when that fails. */
export function ensureNodeModules() {
  const problem = nodeModulesProblem();
  if (problem === undefined) return;
  const hasLock = fs.existsSync(path.join(ROOT, "package-lock.json"));
  const args = hasLock ? ["ci", "--no-audit", "--no-fund"] : ["install", "--no-audit", "--no-fund"];
  log(`${problem}: running npm ${args[0]} ...`);
  let r = spawnSync("npm", args, { cwd: ROOT, stdio: "inherit" });
  if (r.status !== 0 && hasLock) {
    log("npm ci failed (package.json and package-lock.json out of step?); trying npm install");
    r = spawnSync("npm", ["install", "--no-audit", "--no-fund"], { cwd: ROOT, stdio: "inherit" });
  }
  const left = r.status === 0 ? nodeModulesProblem() : `npm exited with ${r.status}`;
  if (left !== undefined) throw new Error(`Cannot install the npm dependencies: ${left}`);
}

/** The interop peers: how to detect each, which Debian packages provide it, who needs it. */
export const PEERS = [
  {
    name: "socat",
    have: () => onPath("socat"),
    apt: ["socat"],
    for: "TCP/TLS interop tests with socat",
  },
  {
    name: "python3 websockets",
    have: () => ok("/usr/bin/python3", ["-c", "import websockets"]),
    apt: ["python3", "python3-websockets"],
    for: "WebSocket interop tests with the Python websockets client",
  },
  {
    name: "websockify",
    have: () => onPath("websockify"),
    apt: ["websockify"],
    for: "proxy comparison tests with websockify",
  },
  {
    name: "chromium",
    have: () => fs.existsSync("/usr/bin/chromium"),
    apt: ["chromium"],
    for: "browser WebSocket tests",
  },
  {
    name: "ss",
    have: () => onPath("ss"),
    apt: ["iproute2"],
    for: "socket state checks (keep-alive timers, backlog) with ss",
  },
  {
    name: "openssl",
    have: () => onPath("openssl"),
    apt: ["openssl"],
    for: "TLS interop tests and test certificates",
  },
];

/** Installs missing peers with apt-get when possible; returns the names still missing. */
export function ensurePeers() {
  let missing = PEERS.filter((p) => !p.have());
  if (missing.length === 0) return [];
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const canApt = isRoot && fs.existsSync("/etc/debian_version") && onPath("apt-get");
  if (canApt) {
    const pkgs = [...new Set(missing.flatMap((p) => p.apt))];
    log(`installing ${pkgs.join(" ")} with apt-get (quiet; this can take a minute) ...`);
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    for (const args of [["update", "-qq"], ["install", "-y", "-qq", ...pkgs]]) {
      const r = spawnSync("apt-get", args, {
        env,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
      if (r.status !== 0) {
        process.stderr.write(
          `${r.stdout ?? ""}${r.stderr ?? ""}`.split("\n").slice(-20).join("\n") + "\n",
        );
        log(`apt-get ${args[0]} failed (exit ${r.status})`);
        break;
      }
    }
    missing = missing.filter((p) => !p.have());
  }
  for (const p of missing) {
    log(
      `missing ${p.name}${
        canApt ? " (apt-get could not install it)" : ""
      }: ${p.for} will be skipped`,
    );
  }
  if (missing.length > 0 && !canApt) {
    log(
      `to install them: sudo apt-get install ${
        [...new Set(missing.flatMap((p) => p.apt))].join(" ")
      }`,
    );
  }
  return missing.map((p) => p.name);
}

/** The oldest Node the npm build runs on (`process.getBuiltinModule`). */
const MIN_NODE = [20, 16];

/** Throws when this Node is older than {@link MIN_NODE}: the Node tests would all fail. */
export function checkNode(version = process.versions.node) {
  const [major, minor] = version.split(".").map(Number);
  if (major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1])) return;
  throw new Error(
    `netstreams needs Node.js ${
      MIN_NODE.join(".")
    } or later (process.getBuiltinModule): this is ${version}`,
  );
}

/** The Node check, then both of the above. `peers: false` skips the peers (the demo needs none). */
export function ensureDeps({ peers = true } = {}) {
  checkNode();
  ensureNodeModules();
  return peers ? ensurePeers() : [];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const missing = ensureDeps({ peers: !process.argv.includes("--no-peers") });
    log(missing.length === 0 ? "all dependencies present" : `still missing: ${missing.join(", ")}`);
  } catch (err) {
    console.error(`[deps] ${err.message}`);
    process.exit(1);
  }
}
