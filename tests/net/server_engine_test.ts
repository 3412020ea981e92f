import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { serve, Server } from "../../src/net/server.ts";
import type { ServerOptions } from "../../src/net/server_options.ts";
import type { Connection } from "../../src/net/connection.ts";
import { NotSupportedError, runtimeName } from "../../src/runtime/mod.ts";
import { connectClient, until } from "../_client.ts";
import { HAS_SS, keepAliveTimer } from "../components/_tcp_state.ts";

const DENO = runtimeName() === "deno";
const NO_SS = HAS_SS ? false : "needs ss (iproute2) to read the keep-alive timer";

async function onlyConnection(server: Server): Promise<Connection> {
  await until(() => server.connections.size === 1, 3000, "the connection");
  return [...server.connections.values()][0]!;
}

function notSupported(option: string) {
  return (e: unknown) => {
    assert.ok(e instanceof NotSupportedError, String(e));
    assert.equal(e.code, "ENOTSUP");
    assert.equal(e.runtime, "deno");
    assert.equal(e.feature, option);
    assert.ok(e.message.includes(option), e.message);
    assert.match(e.message, /engine "node"/);
    return true;
  };
}

describe("Server engine", () => {
  it("Server with linger false resets the peer on disconnect, on every runtime", async () => {
    await using server = await serve({ hostname: "127.0.0.1", linger: false });
    assert.equal(server.engine, DENO ? "node" : "native");
    const c = await connectClient(server.addr.port);
    await (await onlyConnection(server)).disconnect();
    assert.equal(await c.closed, "ECONNRESET");
  });

  it("Server with linger true (the default) disconnects with FIN on the native engine", async () => {
    await using server = await serve({ hostname: "127.0.0.1" });
    assert.equal(server.engine, "native");
    const c = await connectClient(server.addr.port);
    await (await onlyConnection(server)).disconnect();
    assert.equal(await c.closed, undefined);
  });

  it("Server shutdown with linger false resets every connection at once", async () => {
    const server = await serve({ hostname: "127.0.0.1", linger: false });
    const a = await connectClient(server.addr.port);
    const b = await connectClient(server.addr.port);
    await until(() => server.connections.size === 2);
    await server.shutdown({ timeout: 60_000 });
    assert.deepEqual(await Promise.all([a.closed, b.closed]), ["ECONNRESET", "ECONNRESET"]);
  });

  it("Server with engine node resets on abort on every runtime; Deno's native engine closes with FIN", async () => {
    for (const engine of ["node", "native"] as const) {
      await using server = await serve({ hostname: "127.0.0.1", engine });
      assert.equal(server.engine, engine);
      const c = await connectClient(server.addr.port);
      await (await onlyConnection(server)).abort();
      assert.equal(await c.closed, DENO && engine === "native" ? undefined : "ECONNRESET", engine);
    }
  });

  it("Server with keepAlive 5000 sets a 5 s keep-alive idle time, on every runtime", {
    skip: NO_SS,
  }, async () => {
    await using server = await serve({ hostname: "127.0.0.1", keepAlive: 5000 });
    assert.equal(server.engine, DENO ? "node" : "native");
    const c = await connectClient(server.addr.port);
    await onlyConnection(server);
    const ms = await keepAliveTimer(server.addr.port);
    assert.ok(ms !== undefined && ms > 2000 && ms <= 5000, `keep-alive timer: ${ms} ms`);
    c.close();
  });

  it(
    "Server with keepAlive true keeps the native engine and the system's idle time; false has no timer",
    { skip: NO_SS },
    async () => {
      for (const keepAlive of [true, false]) {
        await using server = await serve({ hostname: "127.0.0.1", keepAlive });
        assert.equal(server.engine, "native");
        const c = await connectClient(server.addr.port);
        await onlyConnection(server);
        const ms = await keepAliveTimer(server.addr.port);
        assert.equal(ms !== undefined, keepAlive, `keepAlive ${keepAlive}: timer ${ms} ms`);
        c.close();
      }
    },
  );

  it("Server with engine native rejects linger false and a keepAlive time on Deno with NotSupportedError", async () => {
    const cases: [string, Partial<ServerOptions>][] = [["linger", { linger: false }], [
      "keepAlive",
      { keepAlive: 5000 },
    ]];
    for (const [option, extra] of cases) {
      const options: ServerOptions = { hostname: "127.0.0.1", engine: "native", ...extra };
      if (DENO) {
        await assert.rejects(serve(options), notSupported(option));
        const server = new Server(options);
        await assert.rejects(server.listen(), notSupported(option));
        assert.equal(server.listening, false);
      } else {
        // Bun's and Node's native sockets can reset and set the time.
        await using server = await serve(options);
        assert.equal(server.engine, "native");
      }
    }
  });

  it(
    "Server with engine native and tls: NotSupportedError on Deno and Bun (TLS runs over node:net)",
    {
      skip: runtimeName() === "node" && "on Node both engines are node:net",
    },
    async () => {
      const server = new Server({
        hostname: "127.0.0.1",
        engine: "native",
        tls: { cert: "/nonexistent/cert.pem", key: "/nonexistent/key.pem" },
      });
      await assert.rejects(server.listen(), (e: unknown) => {
        assert.ok(e instanceof NotSupportedError, String(e));
        assert.equal(e.runtime, runtimeName());
        assert.equal(e.feature, "tls");
        return true;
      });
      assert.equal(server.listening, false);
    },
  );

  it("Server with engine native and reusePort on Deno is served by node:net and resets", {
    skip: !DENO && "Deno only",
  }, async () => {
    await using server = await serve({
      hostname: "127.0.0.1",
      engine: "native",
      reusePort: true,
      linger: false,
    });
    const c = await connectClient(server.addr.port);
    await (await onlyConnection(server)).disconnect();
    assert.equal(await c.closed, "ECONNRESET");
  });

  it("Server set() of linger false while listening: NotSupportedError on Deno's native engine, new connections reset elsewhere", async () => {
    await using server = await serve({ hostname: "127.0.0.1" });
    server.set({ keepAlive: true }); // no idle time: native sockets can do it
    if (DENO) {
      assert.throws(() => server.set({ linger: false }), notSupported("linger"));
      assert.throws(() => server.set({ keepAlive: 5000 }), notSupported("keepAlive"));
      assert.throws(() => server.set({ linger: false }), /stopListening\(\) and listen\(\) again/);
      assert.equal(server.options.linger, undefined, "nothing changed");
      assert.equal(server.options.keepAlive, true);
      server.stopListening();
      server.set({ linger: false });
      await server.listen();
      assert.equal(server.engine, "node");
    } else {
      server.set({ linger: false });
    }
    const c = await connectClient(server.addr.port);
    await (await onlyConnection(server)).disconnect();
    assert.equal(await c.closed, "ECONNRESET");
  });

  it("Server rejects an engine other than native or node with TypeError, and an engine change while listening", async () => {
    const bad = { engine: "bun" } as unknown as ServerOptions;
    assert.throws(() => new Server(bad), (e: unknown) => {
      assert.ok(e instanceof TypeError);
      assert.equal(
        e.message,
        'Cannot use engine as it must be "native" or "node": current value is bun',
      );
      return true;
    });
    await using server = new Server({ hostname: "127.0.0.1" });
    assert.equal(server.engine, undefined);
    assert.throws(() => server.set(bad), TypeError);
    server.set({ engine: "node" });
    await server.listen();
    assert.equal(server.engine, "node");
    assert.throws(() => server.set({ engine: "native" }), /Cannot change engine while listening/);
    server.set({ engine: "node" }); // unchanged: fine
  });
});
