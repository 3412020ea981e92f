import { test } from "node:test";
import assert from "node:assert/strict";
import { getRuntime, NotSupportedError, runtimeName } from "../../src/runtime/mod.ts";
import { echoOnce, echoServer, label, pattern } from "./_helpers.ts";

const g = globalThis as any;
const expected = g.Deno !== undefined ? "deno" : g.Bun !== undefined ? "bun" : "node";

test("runtimeName detects the runtime from its globals", () => {
  assert.equal(runtimeName(), expected);
});

test("getRuntime loads the adapter once and caches it", async () => {
  const first = getRuntime();
  assert.equal(getRuntime(), first);
  const adapter = await first;
  assert.equal(adapter.name, expected);
  assert.equal((adapter as { engine?: string }).engine, "native");
  const compat = await getRuntime({ engine: "node" });
  assert.equal(compat.name, expected);
  assert.equal((compat as { engine?: string }).engine, expected === "node" ? "native" : "node");
  if (expected === "node") assert.equal(compat, adapter);
  else assert.notEqual(compat, adapter);
});

test("getRuntime rejects an unknown engine with TypeError", async () => {
  await assert.rejects(
    getRuntime({ engine: "uv" as never }),
    (err: Error) => err instanceof TypeError && /current value is uv/.test(err.message),
  );
});

function nodeHasReusePort(): boolean {
  const [major, minor] = String(g.process?.versions?.node ?? "0.0").split(".").map(Number) as [
    number,
    number,
  ];
  return major >= 24 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

test(`Socket listeners share a port with reusePort, or the runtime says it cannot (${label("native")})`, async () => {
  const runtime = await getRuntime();
  if (expected === "node" && !nodeHasReusePort()) {
    await assert.rejects(
      runtime.listen({ hostname: "127.0.0.1", port: 0, reusePort: true }, (s) => s.abort()),
      (err: NotSupportedError) => err instanceof NotSupportedError && err.feature === "reusePort",
    );
    return;
  }
  const a = await echoServer(runtime, { hostname: "127.0.0.1", port: 0, reusePort: true });
  const b = await echoServer(runtime, {
    hostname: "127.0.0.1",
    port: a.listener.addr.port,
    reusePort: true,
  });
  try {
    assert.equal(b.listener.addr.port, a.listener.addr.port);
    for (let i = 0; i < 6; i++) {
      const data = pattern(100, i + 1);
      assert.deepEqual(
        (await echoOnce(runtime, "127.0.0.1", a.listener.addr.port, data)).echoed,
        data,
      );
    }
    assert.equal(a.sockets.length + b.sockets.length, 6);
    if (expected === "deno") {
      // Served by Deno's node:net, which can reset.
      assert.equal([...a.sockets, ...b.sockets][0]!.canReset, true);
    }
  } finally {
    a.listener.close();
    b.listener.close();
  }
  await Promise.all([a.settled(), b.settled()]);
});
