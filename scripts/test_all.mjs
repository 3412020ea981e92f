#!/usr/bin/env node
/**
 * The one test command (`npm test`): runs the whole suite on Deno, Bun and Node
 * and prints one closing line `N passed, N failed` for all three together.
 *
 *   node scripts/test_all.mjs [deno] [bun] [node] [--no-deps]
 *
 * Plain Node ESM, because a fresh machine has only Node and npm. First it calls
 * scripts/ensure_deps.mjs (npm ci when node_modules is missing or stale; apt-get
 * for the interop peers when root on Debian). Then, one runtime after the other,
 * with each runner's own output streamed live:
 *
 *   deno   deno test -A --junit-path=.test_build/reports/deno.xml tests/
 *   bun    bun test --timeout=300000 --reporter=junit
 *            --reporter-outfile=.test_build/reports/bun.xml ./tests/
 *   node   deno run -A scripts/build_npm.ts --test-report=.test_build/reports/node.tap
 *          (builds npm/, then `node --test` over the compiled tests, spec reporter
 *          to the terminal and TAP to the file)
 *
 * How tests are counted (the same rule on every runtime; skipped and todo tests
 * are counted apart and are neither passed nor failed):
 *
 * - A test is a LEAF: an `it`/`test` with no subtests. `describe` blocks never
 *   count; a `test` with `t.test` subtests counts as its subtests.
 * - A non-leaf (suite or test with subtests) that fails by itself (a failing
 *   `before`/`after` hook, an error in the suite body) while none of its
 *   descendants failed counts as one failure.
 * - An error outside any test (a test file that throws at import, an unhandled
 *   rejection between tests) counts as one failure.
 * - A runner that exits non-zero without any failure in its report, that leaves
 *   no report (type errors, build failure, crash), that runs zero tests, or that
 *   times out counts one more failure: never "0 failed" for a broken run.
 *
 * Where the numbers come from:
 * - Deno: the JUnit file. Steps are flattened there as "Suite > test"; a name
 *   that is the prefix of another ("X" of "X > y") is a non-leaf. A failure
 *   "N test step(s) failed" belongs to the children. Uncaught errors of a file
 *   are missing from the JUnit file, so the "Uncaught error from FILE FAILED"
 *   lines of the console output are added.
 * - Bun: the JUnit file (describe blocks are <testsuite>, tests <testcase>),
 *   plus the "N error(s)" line of Bun's summary (errors between tests). Bun
 *   does not report `t.test` subtests, so there a test with subtests counts as
 *   one. Bun's default 5 s per-test timeout is raised to 300 s, as Deno and
 *   Node have none.
 * - Node: the TAP file (Node 20's JUnit reporter drops suite-level failures such
 *   as a failing `after` hook; TAP keeps them with their `failureType`). A test
 *   cancelled because its parent failed counts as failed.
 *
 * The tail of the output: each runner's own summary lines (one block per
 * runtime) with the counts above, then the single closing line. Exit code 1
 * when anything failed. Each runner is stopped after NETSTREAMS_RUNNER_TIMEOUT
 * seconds (default 420).
 *
 * @module
 */

import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ensureDeps, ROOT } from "./ensure_deps.mjs";

const REPORTS = path.join(ROOT, ".test_build", "reports");
const BIN = (name) => path.join(ROOT, "node_modules", ".bin", name);
const TIMEOUT_S = Number(process.env.NETSTREAMS_RUNNER_TIMEOUT ?? 420);

const RUNTIMES = {
  deno: {
    title: "Deno (deno test)",
    report: path.join(REPORTS, "deno.xml"),
    cmd: () => [BIN("deno"), [
      "test",
      "-A",
      `--junit-path=${path.join(REPORTS, "deno.xml")}`,
      "tests/",
    ]],
    count: countDeno,
    summary: summaryDeno,
  },
  bun: {
    title: "Bun (bun test)",
    report: path.join(REPORTS, "bun.xml"),
    cmd: () => [BIN("bun"), [
      "test",
      "--timeout=300000",
      "--reporter=junit",
      `--reporter-outfile=${path.join(REPORTS, "bun.xml")}`,
      "./tests/",
    ]],
    count: countBun,
    summary: summaryBun,
  },
  node: {
    title: "Node (node --test on the npm build)",
    report: path.join(REPORTS, "node.tap"),
    cmd: () => [BIN("deno"), [
      "run",
      "-A",
      "scripts/build_npm.ts",
      `--test-report=${path.join(REPORTS, "node.tap")}`,
    ]],
    count: countNode,
    summary: summaryNode,
  },
};

// ---------------------------------------------------------------------------
// Running

/** Runs one runner, streaming its output live; resolves with exit status and captured text. */
function run(cmd, args) {
  return new Promise((resolve) => {
    const env = { ...process.env };
    if (!process.stdout.isTTY) env.NO_COLOR = "1";
    else env.FORCE_COLOR = "1";
    const child = spawn(cmd, args, {
      cwd: ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const chunks = [];
    let timedOut = false;
    child.stdout.on("data", (b) => {
      process.stdout.write(b);
      chunks.push(b);
    });
    child.stderr.on("data", (b) => {
      process.stderr.write(b);
      chunks.push(b);
    });
    const kill = (sig) => {
      try {
        process.kill(-child.pid, sig); // the whole process group: servers the tests started too
      } catch { /* already gone */ }
    };
    // The runner has its own process group, so Ctrl-C must be passed on by hand.
    const onSignal = (sig) => {
      kill(sig);
      process.exit(130);
    };
    process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
    const timer = setTimeout(() => {
      timedOut = true;
      console.error(
        `\n[test_all] ${path.basename(cmd)} still running after ${TIMEOUT_S} s: stopping it`,
      );
      kill("SIGTERM");
      setTimeout(() => kill("SIGKILL"), 5000).unref();
    }, TIMEOUT_S * 1000);
    child.on("error", (err) => {
      clearTimeout(timer);
      resolve({ code: 127, signal: null, timedOut, output: `cannot start ${cmd}: ${err.message}` });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
      kill("SIGKILL"); // leftovers of the group (a test's child process), if any
      resolve({
        code,
        signal,
        timedOut,
        output: stripAnsi(Buffer.concat(chunks).toString("utf8")),
      });
    });
  });
}

const ANSI = new RegExp(String.fromCharCode(27) + "\\[[0-9;?]*[A-Za-z]", "g");
const stripAnsi = (s) => s.replace(ANSI, "");

// ---------------------------------------------------------------------------
// Counting

/** A tiny JUnit reader: the testcase/testsuite elements, their attributes and failure/skip children. */
function parseJunit(xml) {
  xml = xml.replace(/<!--[\s\S]*?-->/g, "").replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, "");
  const unescape = (s) =>
    s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'")
      .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(Number(d)))
      .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
      .replace(/&amp;/g, "&");
  const attrs = (s) =>
    Object.fromEntries(
      [...s.matchAll(/([\w:-]+)\s*=\s*"([^"]*)"/g)].map((m) => [m[1], unescape(m[2])]),
    );
  const cases = [];
  let current = null;
  let depth = 0; // testsuite nesting, for the record
  for (
    const m of xml.matchAll(/<(\/?)(testsuite|testcase|failure|error|skipped)\b([^>]*?)(\/?)>/g)
  ) {
    const [, close, tag, rest, selfClose] = m;
    if (tag === "testsuite") depth += close ? -1 : selfClose ? 0 : 1;
    else if (tag === "testcase") {
      if (close) current = null;
      else {
        const a = attrs(rest);
        const tc = {
          name: a.name ?? "",
          classname: a.classname ?? "",
          failed: false,
          message: "",
          skipped: false,
          depth,
        };
        cases.push(tc);
        current = selfClose ? null : tc;
      }
    } else if (current && !close) {
      if (tag === "skipped") current.skipped = true;
      else {
        current.failed = true;
        current.message ||= attrs(rest).message ?? "";
      }
    }
  }
  return cases;
}

function readReport(file) {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

const MAX_NAMED = 20;

/** Names a failing test in the summary notes (the first MAX_NAMED of a run), so a CI log's tail says which. */
function failedTest(c, name, message) {
  const named = c.notes.filter((n) => n.startsWith("failed: ")).length;
  if (named < MAX_NAMED) {
    const why = (message ?? "").split("\n")[0].trim().slice(0, 200);
    c.notes.push(`failed: ${name}${why ? ` (${why})` : ""}`);
  } else if (named === MAX_NAMED) c.notes.push("failed: ... (more above)");
}

function countDeno(report, output) {
  const c = { passed: 0, failed: 0, skipped: 0, notes: [] };
  const cases = report === undefined ? [] : parseJunit(report);
  const SEP = " > ";
  const parents = new Set();
  for (const tc of cases) {
    let i = tc.name.indexOf(SEP);
    while (i !== -1) {
      parents.add(tc.name.slice(0, i));
      i = tc.name.indexOf(SEP, i + SEP.length);
    }
  }
  const failedLeafNames = cases.filter((t) => t.failed && !parents.has(t.name)).map((t) => t.name);
  for (const tc of cases) {
    if (!parents.has(tc.name)) {
      if (tc.failed) {
        c.failed++;
        failedTest(c, tc.name, tc.message);
      } else if (tc.skipped) c.skipped++;
      else c.passed++;
    } else if (tc.failed && !/^\d+ test steps? failed/.test(tc.message)) {
      const childFailed = failedLeafNames.some((n) => n.startsWith(tc.name + SEP));
      if (!childFailed) {
        c.failed++;
        c.notes.push(`"${tc.name}" failed outside its tests: ${tc.message.split("\n")[0]}`);
      }
    }
  }
  for (const m of output.matchAll(/^Uncaught error from (\S+) FAILED/gm)) {
    c.failed++;
    c.notes.push(`uncaught error in ${m[1]}`);
  }
  return c;
}

function countBun(report, output) {
  const c = { passed: 0, failed: 0, skipped: 0, notes: [] };
  for (const tc of report === undefined ? [] : parseJunit(report)) {
    if (tc.failed) {
      c.failed++;
      failedTest(c, tc.classname ? `${tc.classname} > ${tc.name}` : tc.name, tc.message);
    } else if (tc.skipped) c.skipped++;
    else c.passed++;
  }
  const block = summaryBun(output);
  const errors = block.map((l) => l.match(/^\s*(\d+) errors?\s*$/)).find(Boolean);
  if (errors && Number(errors[1]) > 0) {
    c.failed += Number(errors[1]);
    c.notes.push(`${errors[1]} error(s) outside tests (see "Unhandled error" above)`);
  }
  return c;
}

/** Node's TAP: results nest by 4 spaces, children before their parent; YAML details follow a result. */
function countNode(report) {
  const c = { passed: 0, failed: 0, skipped: 0, notes: [] };
  if (report === undefined) return c;
  const lines = report.split("\n");
  const hasChild = new Map(); // indent of a parent -> a result was seen at indent + 4 since its last result
  const childFailed = new Map();
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i].match(/^( *)(not ok|ok) \d+(?: - (.*?))?(?: # (SKIP|TODO)\b.*)?$/);
    if (!m) continue;
    const indent = m[1].length;
    const failed = m[2] === "not ok";
    const directive = m[4];
    const name = (m[3] ?? "").replace(/\\(.)/g, "$1");
    // The YAML block right after, at indent + 2.
    const pad = " ".repeat(indent + 2);
    let type = "test";
    let failureType = "";
    let error = "";
    if (lines[i + 1] === `${pad}---`) {
      let j = i + 2;
      for (; j < lines.length && lines[j] !== `${pad}...`; j++) {
        const y = lines[j].startsWith(pad) && !lines[j].startsWith(pad + " ")
          ? lines[j].slice(pad.length)
          : "";
        let v;
        if ((v = y.match(/^type: '(\w+)'/))) type = v[1];
        else if ((v = y.match(/^failureType: '(\w+)'/))) failureType = v[1];
        else if ((v = y.match(/^error: (.*)$/))) error = v[1].replace(/^'|'$/g, "");
      }
      i = j; // skip the block: its text may contain lines that look like results
    }
    const isLeaf = !hasChild.get(indent);
    const descendantFailed = childFailed.get(indent) === true;
    hasChild.set(indent, false);
    childFailed.set(indent, false);
    hasChild.set(indent - 4, true);
    if (failed) childFailed.set(indent - 4, true);
    if (descendantFailed) childFailed.set(indent - 4, true);
    if (isLeaf && type !== "suite") {
      if (directive) c.skipped++;
      else if (failed) {
        c.failed++;
        failedTest(c, name, error);
      } else c.passed++;
    } else if (failed && !directive && failureType !== "subtestsFailed" && !descendantFailed) {
      c.failed++;
      c.notes.push(`"${name}" failed outside its tests (${failureType}): ${error}`);
    }
  }
  return c;
}

// ---------------------------------------------------------------------------
// The runners' own summary lines

function lastLines(output, re) {
  const lines = output.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) if (re.test(lines[i])) return [lines[i]];
  return [];
}

function summaryDeno(output) {
  return lastLines(output, /^(ok|FAILED) \| \d+ passed/);
}

function summaryBun(output) {
  const lines = output.split("\n");
  let end = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/^Ran \d+ tests? across/.test(lines[i])) {
      end = i;
      break;
    }
  }
  if (end === -1) return [];
  let start = end;
  while (start > 0 && /^\s*\d+ [\w()]/.test(lines[start - 1])) start--;
  return lines.slice(start, end + 1);
}

function summaryNode(output) {
  const lines = output.split("\n");
  const idx = [];
  for (let i = 0; i < lines.length; i++) {
    if (/^ℹ (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) /.test(lines[i])) {
      idx.push(i);
    }
  }
  if (idx.length === 0) return lastLines(output, /^build_npm: .*(error|failed)/);
  // The last contiguous block.
  let s = idx.length - 1;
  while (s > 0 && idx[s - 1] === idx[s] - 1) s--;
  return idx.slice(s).map((i) => lines[i]);
}

// ---------------------------------------------------------------------------

async function main() {
  const argv = process.argv.slice(2);
  const unknown = argv.filter((a) => !(a in RUNTIMES) && a !== "--no-deps");
  if (unknown.length > 0) {
    console.error(
      `usage: node scripts/test_all.mjs [${Object.keys(RUNTIMES).join("] [")}] [--no-deps]`,
    );
    process.exit(2);
  }
  const chosen = argv.filter((a) => a in RUNTIMES);
  const names = chosen.length > 0 ? chosen : Object.keys(RUNTIMES);
  const started = Date.now();

  if (!argv.includes("--no-deps")) {
    try {
      ensureDeps({ peers: true });
    } catch (err) {
      console.error(`[test_all] ${err.message}`);
      console.log(`0 passed, ${names.length} failed`);
      process.exit(1);
    }
  }
  fs.mkdirSync(REPORTS, { recursive: true });

  const results = [];
  for (const name of names) {
    const rt = RUNTIMES[name];
    fs.rmSync(rt.report, { force: true });
    const [cmd, args] = rt.cmd();
    console.log(
      `\n[test_all] ===== ${rt.title}: ${path.relative(ROOT, cmd)} ${
        args.map((a) => a.replace(ROOT + "/", "")).join(" ")
      }`,
    );
    const t0 = Date.now();
    const r = await run(cmd, args);
    const seconds = (Date.now() - t0) / 1000;
    const report = readReport(rt.report);
    const c = rt.count(report, r.output);
    const exit = r.signal ? `signal ${r.signal}` : `exit ${r.code}`;
    if (report === undefined) {
      const why = r.timedOut
        ? `stopped after ${TIMEOUT_S} s`
        : "the runner crashed or stopped before testing";
      c.notes.push(`no report (${path.relative(ROOT, rt.report)}): ${why} (${exit})`);
      c.failed = Math.max(c.failed, 1);
    } else if (r.timedOut) {
      c.failed++;
      c.notes.push(`stopped after ${TIMEOUT_S} s`);
    } else if (r.code !== 0 && c.failed === 0) {
      c.failed = 1;
      c.notes.push(`runner ended with ${exit} although its report shows no failing test`);
    } else if (c.passed + c.failed + c.skipped === 0) {
      c.failed = 1;
      c.notes.push("ran no tests");
    }
    let summary = rt.summary(r.output);
    if (summary.length === 0) {
      // No summary of its own: show the runner's last words instead (an "error: ..." line).
      summary = r.output.split("\n").map((l) => l.trimEnd())
        .filter((l) =>
          l.trim() !== "" && !/^\s*(Stack backtrace:|\d+: <unknown>|info:|hint:)/.test(l)
        )
        .slice(-2);
    }
    results.push({ name, rt, c, exit, seconds, summary });
  }

  console.log(
    "\n[test_all] ===== summary (leaf tests; see scripts/test_all.mjs for how they are counted)",
  );
  let passed = 0;
  let failed = 0;
  for (const { rt, c, exit, seconds, summary } of results) {
    console.log(`\n${rt.title}: ${exit}, ${seconds.toFixed(1)} s`);
    for (const line of summary.length > 0 ? summary : ["(no output)"]) {
      console.log(`  ${line.trimEnd()}`);
    }
    console.log(`  counted: passed ${c.passed} / failed ${c.failed} / skipped ${c.skipped}`);
    for (const note of c.notes) console.log(`  note: ${note}`);
    passed += c.passed;
    failed += c.failed;
  }
  console.log(
    `\n[test_all] ${names.join(", ")} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
}

await main();
