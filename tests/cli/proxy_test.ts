import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CliServer, runCli, startCli } from "../_cli.ts";
import { connectClient } from "../_client.ts";
import { getRuntime } from "../../src/runtime/mod.ts";
import {
  client,
  deadline,
  echo,
  lineServer,
  type TcpTarget,
  tcpTarget,
} from "../proxy/_helpers.ts";

const LOCAL = ["--hostname", "127.0.0.1", "--port", "0"];

/** A raw HTTP/1.1 GET (the request target sent as is, no normalisation by a client library). */
async function get(
  port: number,
  target: string,
): Promise<{ status: number; headers: string; body: string }> {
  const c = await connectClient(port);
  c.send(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  await deadline(c.closed, 5000, `response to ${target}`);
  const text = c.text();
  const split = text.indexOf("\r\n\r\n");
  return {
    status: Number(text.slice(9, 12)),
    headers: text.slice(0, split).toLowerCase(),
    body: text.slice(split + 4),
  };
}

describe("netstreams proxy", () => {
  let target: TcpTarget;
  let web: string;
  let s: CliServer;
  before(async () => {
    target = await tcpTarget(echo);
    web = mkdtempSync(join(tmpdir(), "netstreams-web-"));
    writeFileSync(join(web, "index.html"), "<!doctype html><title>vnc</title>");
    mkdirSync(join(web, "app"));
    writeFileSync(join(web, "app", "ui.js"), "export const x = 1;\n");
    writeFileSync(join(web, "app", "index.html"), "app index");
    writeFileSync(join(web, "..", `secret-${web.split("-").at(-1)}.txt`), "secret");
    s = await startCli(["proxy", ...LOCAL, "--target", `127.0.0.1:${target.port}`, "--web", web]);
  });
  after(async () => {
    await s.stop();
    await target.close();
    rmSync(join(web, "..", `secret-${web.split("-").at(-1)}.txt`), { force: true });
    rmSync(web, { recursive: true, force: true });
  });

  it("proxy prints the bound address first and joins a WebSocket to the target", async () => {
    assert.equal(s.addrs[0]!.hostname, "127.0.0.1");
    const c = client(`ws://127.0.0.1:${s.addrs[0]!.port}/`, ["binary"]);
    await c.opened;
    assert.equal(c.ws.protocol, "binary");
    c.ws.send(new Uint8Array([9, 8, 7]));
    await c.waitFor((_t, n) => n === 3);
    assert.deepEqual([...c.received()], [9, 8, 7]);
    c.ws.close();
    await c.closed;
  });

  it("proxy --web serves index.html, files with their content type, and redirects a directory to its slash", async () => {
    const port = s.addrs[0]!.port;
    const root = await get(port, "/");
    assert.equal(root.status, 200);
    assert.match(root.headers, /content-type: text\/html; charset=utf-8/);
    assert.equal(root.body, "<!doctype html><title>vnc</title>");
    const js = await get(port, "/app/ui.js?v=1");
    assert.equal(js.status, 200);
    assert.match(js.headers, /content-type: text\/javascript/);
    assert.equal(js.body, "export const x = 1;\n");
    const dir = await get(port, "/app");
    assert.equal(dir.status, 301);
    assert.match(dir.headers, /location: \/app\//);
    assert.equal((await get(port, "/app/")).body, "app index");
    assert.equal((await get(port, "/missing.png")).status, 404);
  });

  it("proxy --web refuses paths that leave the directory", async () => {
    const port = s.addrs[0]!.port;
    const secret = `secret-${web.split("-").at(-1)}.txt`;
    for (
      const path of [
        `/../${secret}`,
        `/%2e%2e/${secret}`,
        `/app/..%2f..%2f${secret}`,
        `/..%5c${secret}`,
        "/%00",
      ]
    ) {
      const r = await get(port, path);
      assert.ok(r.status === 403 || r.status === 404, `${path}: ${r.status}`);
      assert.notEqual(r.body, "secret", path);
    }
    assert.equal((await get(port, `/app/..%2f..%2f${secret}`)).status, 403);
  });

  it("proxy takes websockify's positional form [HOST:]PORT TARGET", async () => {
    const lines = await tcpTarget(lineServer);
    const p = await startCli(["proxy", "127.0.0.1:0", `127.0.0.1:${lines.port}`]);
    try {
      const c = client(`ws://127.0.0.1:${p.addrs[0]!.port}/`);
      await c.waitFor((t) => t === "hello\n");
      c.ws.close();
      await c.closed;
    } finally {
      await p.stop();
      await lines.close();
    }
  });

  it("proxy --token routes by ?token= and --allow-target refuses others with 403", async () => {
    const p = await startCli([
      "proxy",
      ...LOCAL,
      "--token",
      `ok=127.0.0.1:${target.port}`,
      "--token",
      "bad=127.0.0.1:1",
      "--allow-target",
      `127.0.0.1:${target.port}`,
    ]);
    try {
      const base = `ws://127.0.0.1:${p.addrs[0]!.port}/?token=`;
      const c = client(`${base}ok`);
      await c.opened;
      c.ws.send("t");
      await c.waitFor((t) => t === "t");
      c.ws.close();
      assert.equal(await deadline(client(`${base}bad`).refused, 3000, "403"), 403);
      assert.equal(await deadline(client(`${base}none`).refused, 3000, "404"), 404);
    } finally {
      await p.stop();
    }
  });

  it("proxy --idle-timeout closes a silent proxied connection with 1001", async () => {
    const p = await startCli([
      "proxy",
      ...LOCAL,
      "--target",
      `127.0.0.1:${target.port}`,
      "--idle-timeout",
      "1",
    ]);
    try {
      const c = client(`ws://127.0.0.1:${p.addrs[0]!.port}/`);
      await c.opened;
      const started = Date.now();
      const info = await deadline(c.closed, 5000, "idle close");
      assert.equal(info.code, 1001);
      assert.ok(Date.now() - started >= 900, "not before the timeout");
    } finally {
      await p.stop();
    }
  });

  it("proxy --reuse-port lets a second process serve the same port (Node before 22.12: an error exit)", async () => {
    const args = [
      "proxy",
      "--hostname",
      "127.0.0.1",
      "--target",
      `127.0.0.1:${target.port}`,
      "--reuse-port",
    ];
    const rt = await getRuntime();
    const [major = 0, minor = 0] = (globalThis as { process?: { versions?: { node?: string } } })
      .process?.versions?.node?.split(".").map(Number) ?? [];
    if (rt.name === "node" && (major < 22 || (major === 22 && minor < 12))) {
      const r = await runCli([...args, "--port", "0"]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /reusePort is not supported on Node .*22\.12/);
      return;
    }
    const first = await startCli([...args, "--port", "0"]);
    const port = first.addrs[0]!.port;
    let second: CliServer | undefined;
    try {
      // Without SO_REUSEPORT this second bind fails with EADDRINUSE.
      second = await startCli([...args, "--port", String(port)]);
      assert.equal(second.addrs[0]!.port, port);
      await first.stop();
      // Only the second process listens now: it serves the port.
      const c = client(`ws://127.0.0.1:${port}/`, ["binary"]);
      await c.opened;
      c.ws.send(new Uint8Array([1, 2, 3, 4]));
      await c.waitFor((_t, n) => n === 4);
      assert.deepEqual([...c.received()], [1, 2, 3, 4]);
      c.ws.close();
      await c.closed;
    } finally {
      await first.stop();
      await second?.stop();
    }
  });

  it("proxy reports a missing target or bad options with exit code 2, --help with examples and 0", async () => {
    const none = await runCli(["proxy", "--port", "0"]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /Give a target/);
    const bad = await runCli(["proxy", "--port", "0", "--target", "nohost"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /host:port/);
    const pp = await runCli(["proxy", "--port", "0", "--target", "a:1", "--proxy-protocol", "3"]);
    assert.equal(pp.code, 2);
    const help = await runCli(["proxy", "--help"]);
    assert.equal(help.code, 0);
    assert.match(
      help.stdout,
      /Examples:\n {2}netstreams proxy --port 6080 --target 127\.0\.0\.1:5900/,
    );
    for (const cmd of ["tcp-echo", "ws-echo"]) {
      const h = await runCli([cmd, "--help"]);
      assert.equal(h.code, 0);
      assert.match(h.stdout, /Examples:\n {2}netstreams /);
    }
    const top = await runCli(["--help"]);
    assert.match(top.stdout, /proxy {8}WebSocket-to-TCP proxy/);
    const version = await runCli(["--version"]);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  });
});
