/**
 * The published entry points load. From source (Deno, Bun): every deno.json
 * export imports and exports something. From the npm build (Node): the
 * package is imported by its name, as a user would, through every subpath of
 * its package.json; its `netstreams` bin runs; its package.json says what
 * the build promises (engines, bin, types next to every entry).
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(import.meta.url);
/** Compiled into `<npm dir>/esm/tests/`: the package is two folders up. */
const built = here.endsWith(".js");
const root = fileURLToPath(new URL(built ? "../../" : "../", import.meta.url));

test("every entry point loads and exports something", { skip: built }, async () => {
  const deno = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
  const entries = Object.entries(deno.exports as Record<string, string>);
  assert.ok(entries.length >= 8, `deno.json has ${entries.length} exports`);
  for (const [key, target] of entries) {
    const mod = await import(join(root, target));
    const names = Object.keys(mod);
    if (key !== "./cli") assert.ok(names.length > 0, `${key} (${target}) exports nothing`);
  }
  // The errors a user may need to tell apart, from the main entry.
  const main = await import(join(root, "mod.ts"));
  for (const name of ["NotSupportedError", "TlsError", "ServerError", "ConnectionError"]) {
    assert.equal(typeof main[name], "function", `mod.ts exports ${name}`);
  }
});

/** The built package's package.json. */
function pkg(): Record<string, any> {
  return JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
}

test("package.json of the npm build", { skip: !built }, () => {
  const p = pkg();
  assert.equal(p.name, "netstreams");
  assert.equal(p.type, "module");
  assert.equal(p.engines.node, ">=20.16");
  assert.equal(p.bin.netstreams, "./esm/cli.js");
  assert.equal(p.license, "MIT");
  for (const f of ["README.md", "LICENSE"]) assert.ok(existsSync(join(root, f)), `${f} is missing`);
  const subpaths = Object.keys(p.exports).filter((k) => k !== "./package.json");
  assert.deepEqual(
    subpaths.sort(),
    [".", "./cli", "./codec", "./components", "./net", "./proxy", "./tls", "./ws"],
  );
  for (const key of subpaths) {
    const { types, import: js } = p.exports[key];
    assert.ok(existsSync(join(root, js)), `${key}: ${js} is missing`);
    assert.ok(existsSync(join(root, types)), `${key}: ${types} is missing`);
  }
});

test("the package imports by its name through every subpath, and its bin runs", {
  skip: !built,
}, () => {
  const p = pkg();
  const dir = mkdtempSync(join(tmpdir(), "netstreams-pkg-"));
  try {
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(root, join(dir, "node_modules", "netstreams"), "dir");
    const subpaths = Object.keys(p.exports).filter((k) => k !== "./package.json");
    const specs = subpaths.map((k) => (k === "." ? "netstreams" : `netstreams/${k.slice(2)}`));
    const script = `const out = {};
for (const s of ${JSON.stringify(specs)}) out[s] = Object.keys(await import(s)).length;
console.log(JSON.stringify(out));`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: dir,
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const counts = JSON.parse(r.stdout) as Record<string, number>;
    for (const s of specs) {
      if (s !== "netstreams/cli") assert.ok(counts[s]! > 0, `${s} exports nothing`);
    }
    assert.ok(counts["netstreams"]! >= 20, `the main entry exports ${counts["netstreams"]} names`);
    const bin = spawnSync(process.execPath, [join(root, p.bin.netstreams), "--version"], {
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.equal(bin.status, 0, bin.stderr);
    assert.equal(bin.stdout.trim(), p.version);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;

test("deno publish --dry-run passes and every export is documented", {
  skip: deno === undefined,
}, () => {
  const run = (args: string[]) =>
    spawnSync(deno!.execPath(), args, { cwd: root, encoding: "utf8", timeout: 120_000 });
  const publish = run(["publish", "--dry-run", "--allow-dirty"]);
  assert.equal(publish.status, 0, publish.stderr + publish.stdout);
  const entries = Object.values(
    JSON.parse(readFileSync(join(root, "deno.json"), "utf8")).exports as Record<string, string>,
  );
  const lint = run(["doc", "--lint", ...entries]);
  assert.equal(lint.status, 0, lint.stderr + lint.stdout);
});
