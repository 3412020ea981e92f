/**
 * Builds the npm package into `npm/` and runs the test suite on Node against it
 * (what dnt would do; dnt and JSR are unreachable from our machines).
 *
 * Run: `deno run -A scripts/build_npm.ts [options]` (also `bun scripts/build_npm.ts`).
 *
 * 1. Type-checks and compiles `mod.ts`, `cli.ts`, every `exports` entry of
 *    deno.json and all of `src/**` with the TypeScript compiler API to ES2022
 *    ESM plus `.d.ts` in `npm/esm/` (relative `.ts` specifiers become `.js`).
 *    The check uses `lib: ES2022 + DOM` and no `@types/node`: the source brings
 *    its own structural types for `Deno`, `Bun` and `node:*`. Any diagnostic
 *    fails the build.
 * 2. Transpiles `tests/**` and `examples/**` (no type check: `deno test`
 *    checks them) to `npm/esm/tests/` and `npm/esm/examples/`, next to the
 *    compiled source, so that `../../src/x.ts` imports in tests resolve to the
 *    built package's JavaScript. Other files there (fixtures) are copied.
 *    Neither tree is published.
 * 3. Writes `npm/package.json` (exports for every deno.json subpath, the
 *    `netstreams` bin with a Node shebang, engines, files), copies README.md and
 *    LICENSE.
 * 4. Runs `node --test` over every compiled `*_test.js` (cwd: the project root)
 *    and exits with its status.
 *
 * Options:
 *   --no-test              build only
 *   --out <dir>            output directory (default `npm`)
 *   --test-report <file>   also write Node's TAP report to <file> (used by
 *                          scripts/test_all.mjs to count tests)
 *   --concurrency <n>      `node --test --test-concurrency` (default: Node's,
 *                          that is one less than the number of CPUs)
 *
 * @module
 */

import ts from "typescript";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

interface Options {
  test: boolean;
  out: string;
  testReport: string | undefined;
  concurrency: string | undefined;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = {
    test: true,
    out: path.join(ROOT, "npm"),
    testReport: undefined,
    concurrency: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2) as [string, string | undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new TypeError(`Option ${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--no-test":
        opts.test = false;
        break;
      case "--out":
        opts.out = path.resolve(value());
        break;
      case "--test-report":
        opts.testReport = path.resolve(value());
        break;
      case "--concurrency":
        opts.concurrency = value();
        break;
      case "-h":
      case "--help":
        console.log(
          "usage: deno run -A scripts/build_npm.ts [--no-test] [--out DIR] " +
            "[--test-report FILE] [--concurrency N]",
        );
        process.exit(0);
        break;
      default:
        throw new TypeError(`Unknown option ${argv[i]} (try --help)`);
    }
  }
  return opts;
}

/** Every file under `dir` (relative to ROOT) whose name passes `keep`, sorted. */
function walk(dir: string, keep: (file: string) => boolean): string[] {
  const abs = path.join(ROOT, dir);
  if (!fs.existsSync(abs)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(rel, keep));
    else if (entry.isFile() && keep(rel)) out.push(rel);
  }
  return out.sort();
}

const isTs = (f: string) => /\.(ts|mts|tsx)$/.test(f) && !f.endsWith(".d.ts");
const jsName = (f: string) =>
  f.replace(/\.ts$/, ".js").replace(/\.mts$/, ".mjs").replace(/\.tsx$/, ".js");

/** Relative `.ts` specifiers in emitted `.d.ts` files become `.js`, as in the `.js` files. */
function rewriteDtsSpecifiers(text: string): string {
  return text
    .replace(/^#!.*\n/, "")
    .replace(
      /((?:\bfrom|\bimport)\s*\(?\s*)(["'])(\.{1,2}\/[^"'\n]*?)\.(m?)tsx?\2/g,
      (_m, head: string, q: string, spec: string, m: string) => `${head}${q}${spec}.${m}js${q}`,
    );
}

function formatDiagnostics(diags: readonly ts.Diagnostic[]): string {
  const host: ts.FormatDiagnosticsHost = {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => ROOT,
    getNewLine: () => "\n",
  };
  return process.stdout.isTTY
    ? ts.formatDiagnosticsWithColorAndContext(diags, host)
    : ts.formatDiagnostics(diags, host);
}

interface DenoJson {
  name?: string;
  version?: string;
  exports?: string | Record<string, string>;
  compilerOptions?: Record<string, unknown>;
}

function readDenoJson(): DenoJson {
  for (const name of ["deno.json", "deno.jsonc"]) {
    const file = path.join(ROOT, name);
    if (fs.existsSync(file)) {
      // deno.jsonc may hold comments; strip whole-line ones (enough for our file).
      const text = fs.readFileSync(file, "utf8").replace(/^\s*\/\/.*$/gm, "");
      return JSON.parse(text) as DenoJson;
    }
  }
  throw new Error("deno.json not found in " + ROOT);
}

function compilerOptions(denoJson: DenoJson, outDir: string): ts.CompilerOptions {
  // Boolean strictness flags of deno.json apply to the npm build too; `lib` does
  // not (Deno's lib names differ, and the npm build must hold on Node 20).
  const fromDeno: ts.CompilerOptions = {};
  for (const [k, v] of Object.entries(denoJson.compilerOptions ?? {})) {
    if (typeof v === "boolean") fromDeno[k] = v;
  }
  return {
    ...fromDeno,
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    // `Symbol.asyncDispose` exists at run time on Node >= 20 (TS downlevels `await using`).
    lib: [
      "lib.es2022.d.ts",
      "lib.esnext.disposable.d.ts",
      "lib.dom.d.ts",
      "lib.dom.iterable.d.ts",
      "lib.dom.asynciterable.d.ts",
    ],
    types: [],
    allowImportingTsExtensions: true,
    rewriteRelativeImportExtensions: true,
    isolatedModules: true,
    erasableSyntaxOnly: true,
    declaration: true,
    sourceMap: false,
    skipLibCheck: true,
    noEmitOnError: true,
    newLine: ts.NewLineKind.LineFeed,
    rootDir: ROOT,
    outDir,
  };
}

function exportsMap(denoJson: DenoJson): Record<string, string> {
  const e = denoJson.exports;
  if (e === undefined) return {};
  return typeof e === "string" ? { ".": e } : { ...e };
}

/** Compiles the package sources; returns the emitted files (relative to outDir). */
function buildPackage(denoJson: DenoJson, esmDir: string): { bareImports: Set<string> } {
  const roots = new Set<string>();
  for (const f of ["mod.ts", "cli.ts"]) {
    if (fs.existsSync(path.join(ROOT, f))) roots.add(f);
  }
  for (const [key, target] of Object.entries(exportsMap(denoJson))) {
    const rel = path.normalize(target);
    if (fs.existsSync(path.join(ROOT, rel))) roots.add(rel);
    else throw new Error(`deno.json export "${key}" -> ${target} does not exist`);
  }
  for (const f of walk("src", isTs)) {
    if (!/_test\.ts$/.test(f)) roots.add(f);
  }
  const options = compilerOptions(denoJson, esmDir);
  const program = ts.createProgram([...roots].map((f) => path.join(ROOT, f)), options);
  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length > 0) {
    console.error(formatDiagnostics(diagnostics));
    console.error(`build_npm: ${diagnostics.length} type error(s); nothing emitted.`);
    process.exit(1);
  }
  // Bare specifiers the package needs at run time (comments are not looked at).
  const bareImports = new Set<string>();
  for (const sf of program.getSourceFiles()) {
    if (sf.isDeclarationFile) continue;
    for (const ref of ts.preProcessFile(sf.text, true, true).importedFiles) {
      const spec = ref.fileName;
      if (!spec.startsWith(".") && !spec.startsWith("/") && !spec.startsWith("node:")) {
        bareImports.add(spec);
      }
    }
  }
  const cliOut = path.join(esmDir, "cli.js");
  const result = program.emit(undefined, (fileName, text) => {
    let out = text;
    if (fileName.endsWith(".d.ts")) out = rewriteDtsSpecifiers(text);
    else if (path.resolve(fileName) === cliOut) {
      out = "#!/usr/bin/env node\n" + text.replace(/^#!.*\n/, "");
    } else out = text.replace(/^#!.*\n/, "");
    fs.mkdirSync(path.dirname(fileName), { recursive: true });
    fs.writeFileSync(fileName, out);
  });
  if (result.emitSkipped || result.diagnostics.length > 0) {
    console.error(formatDiagnostics(result.diagnostics));
    console.error("build_npm: emit failed.");
    process.exit(1);
  }
  if (fs.existsSync(cliOut)) fs.chmodSync(cliOut, 0o755);
  console.log(
    `build_npm: compiled ${roots.size} root(s), ${
      program.getSourceFiles().filter((f) => !f.isDeclarationFile).length
    } module(s) -> ${path.relative(ROOT, esmDir)}/`,
  );
  return { bareImports };
}

/**
 * Transpiles tests/** (and examples/**, which tests may start) next to the
 * compiled source and copies their other files (fixtures). Neither is
 * published. Returns the test files.
 */
function buildTests(esmDir: string): string[] {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    allowImportingTsExtensions: true,
    rewriteRelativeImportExtensions: true,
    newLine: ts.NewLineKind.LineFeed,
  };
  const tests: string[] = [];
  for (const rel of [...walk("tests", () => true), ...walk("examples", () => true)]) {
    const src = path.join(ROOT, rel);
    if (isTs(rel)) {
      const out = path.join(esmDir, jsName(rel));
      const { outputText, diagnostics } = ts.transpileModule(fs.readFileSync(src, "utf8"), {
        compilerOptions: options,
        fileName: src,
        reportDiagnostics: true,
      });
      if (diagnostics && diagnostics.length > 0) {
        console.error(formatDiagnostics(diagnostics));
        process.exit(1);
      }
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(out, outputText);
      if (rel.startsWith("tests") && /_test\.(ts|mts|tsx)$/.test(rel)) tests.push(out);
    } else if (!rel.endsWith(".d.ts")) {
      const out = path.join(esmDir, rel);
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.copyFileSync(src, out);
    }
  }
  console.log(
    `build_npm: transpiled tests -> ${
      path.relative(ROOT, esmDir)
    }/tests/ and examples/ (${tests.length} test files)`,
  );
  return tests;
}

function writePackageJson(denoJson: DenoJson, outDir: string, bareImports: Set<string>): void {
  const rootPkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
  const known = { ...rootPkg.devDependencies, ...rootPkg.dependencies } as Record<string, string>;
  const exportsField: Record<string, unknown> = {};
  for (const [key, target] of Object.entries(exportsMap(denoJson))) {
    const js = "./esm/" + jsName(path.posix.normalize(target.replace(/^\.\//, "")));
    if (!fs.existsSync(path.join(outDir, js))) {
      throw new Error(`deno.json export "${key}" -> ${target} was not compiled to ${js}`);
    }
    exportsField[key] = { types: js.replace(/\.js$/, ".d.ts"), import: js };
  }
  exportsField["./package.json"] = "./package.json";
  const dependencies: Record<string, string> = {};
  for (const spec of bareImports) {
    const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
    if (!known[name]) throw new Error(`src imports "${spec}", which package.json does not list`);
    dependencies[name] = known[name];
  }
  const pkg: Record<string, unknown> = {
    name: "netstreams",
    version: denoJson.version,
    description:
      "TCP, TLS and WebSocket servers and a WebSocket-to-TCP proxy for Deno, Bun and Node, " +
      "built on web streams: every protocol layer is a TransformStream",
    keywords: [
      "tcp",
      "tls",
      "websocket",
      "server",
      "proxy",
      "web-streams",
      "transformstream",
      "line-protocol",
      "deno",
      "bun",
    ],
    license: "MIT",
    type: "module",
    main: "./esm/mod.js",
    types: "./esm/mod.d.ts",
    exports: exportsField,
    ...(fs.existsSync(path.join(outDir, "esm/cli.js"))
      ? { bin: { netstreams: "./esm/cli.js" } }
      : {}),
    files: ["esm/", "!esm/tests/", "!esm/examples/"],
    // Importing any module does nothing but define things, except the CLI (it runs when it is the main module).
    sideEffects: ["./esm/cli.js"],
    engines: { node: ">=20.16" },
    ...(Object.keys(dependencies).length > 0 ? { dependencies } : {}),
  };
  if (!fs.existsSync(path.join(outDir, "esm/mod.js"))) {
    delete pkg.main;
    delete pkg.types;
  }
  fs.writeFileSync(path.join(outDir, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
  for (const f of ["README.md", "LICENSE"]) {
    if (fs.existsSync(path.join(ROOT, f))) {
      fs.copyFileSync(path.join(ROOT, f), path.join(outDir, f));
    } else console.warn(`WARNING: ${f} is missing; not copied.`);
  }
}

function runNodeTests(files: string[], opts: Options): Promise<number> {
  if (files.length === 0) {
    console.error("build_npm: no compiled *_test.js files to run.");
    return Promise.resolve(1);
  }
  const args = ["--test"];
  if (opts.concurrency) args.push(`--test-concurrency=${opts.concurrency}`);
  args.push("--test-reporter=spec", "--test-reporter-destination=stdout");
  if (opts.testReport) {
    fs.mkdirSync(path.dirname(opts.testReport), { recursive: true });
    args.push("--test-reporter=tap", `--test-reporter-destination=${opts.testReport}`);
  }
  args.push(...files.map((f) => path.relative(ROOT, f)));
  console.log(`build_npm: node ${args.slice(0, -files.length).join(" ")} <${files.length} files>`);
  return new Promise((resolve) => {
    const child = spawn("node", args, { cwd: ROOT, stdio: "inherit" });
    child.on("error", (err) => {
      console.error("build_npm: cannot start node:", err.message);
      resolve(1);
    });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const denoJson = readDenoJson();
  const esmDir = path.join(opts.out, "esm");
  fs.rmSync(opts.out, { recursive: true, force: true });
  fs.mkdirSync(esmDir, { recursive: true });
  const { bareImports } = buildPackage(denoJson, esmDir);
  const tests = buildTests(esmDir);
  writePackageJson(denoJson, opts.out, bareImports);
  console.log(
    `build_npm: wrote ${path.relative(ROOT, opts.out)}/package.json (${
      ((Date.now() - started) / 1000).toFixed(1)
    } s)`,
  );
  if (!opts.test) return;
  process.exitCode = await runNodeTests(tests, opts);
}

await main();
