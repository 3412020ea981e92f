import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { NotSupportedError, runtimeName } from "../../src/runtime/mod.ts";
import {
  echoOnce,
  echoServer,
  ENGINES,
  label,
  listen,
  pair,
  pattern,
  record,
  release,
  runtimeFor,
  within,
} from "./_helpers.ts";
import { fixedLocalAddr } from "../../src/runtime/_bun_socket.ts";

/** True when the kernel makes "::" IPv6-only (dual stack impossible without IPV6_V6ONLY=0). */
function bindV6Only(): boolean {
  try {
    return readFileSync("/proc/sys/net/ipv6/bindv6only", "utf8").trim() === "1";
  } catch {
    return false;
  }
}

for (const engine of ENGINES) {
  test(`Socket echoes bytes through socketToStreams on 127.0.0.1 with port 0 (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const server = await echoServer(runtime, { hostname: "127.0.0.1", port: 0 });
    try {
      assert.equal(server.listener.addr.hostname, "127.0.0.1");
      assert.ok(server.listener.addr.port > 0, "the bound port is reported");
      const data = pattern(300_000);
      const { echoed } = await echoOnce(runtime, "127.0.0.1", server.listener.addr.port, data);
      assert.equal(echoed.byteLength, data.byteLength);
      assert.deepEqual(echoed, data);
    } finally {
      server.listener.close();
    }
    await server.settled();
  });

  test(`Socket echoes bytes over IPv6 ::1 (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const server = await echoServer(runtime, { hostname: "::1", port: 0 });
    try {
      assert.equal(server.listener.addr.hostname, "::1");
      const data = pattern(5000, 7);
      const { echoed, socket } = await echoOnce(runtime, "::1", server.listener.addr.port, data);
      assert.deepEqual(echoed, data);
      assert.equal(socket.remoteAddr.hostname, "::1");
      assert.equal(socket.remoteAddr.port, server.listener.addr.port);
    } finally {
      server.listener.close();
    }
    await server.settled();
  });

  test(`Socket on a "::" listener accepts an IPv4 client as ::ffff:127.0.0.1 (${label(engine)})`, async (t) => {
    if (bindV6Only() && runtimeName() === "deno") {
      t.skip("net.ipv6.bindv6only=1 makes '::' IPv6-only and Deno cannot override it");
      return;
    }
    const runtime = await runtimeFor(engine);
    const server = await echoServer(runtime, { hostname: "::", port: 0 });
    try {
      const data = pattern(1000, 3);
      const { echoed } = await echoOnce(runtime, "127.0.0.1", server.listener.addr.port, data);
      assert.deepEqual(echoed, data);
      assert.equal(server.sockets[0]!.remoteAddr.hostname, "::ffff:127.0.0.1");
      const v6 = await echoOnce(runtime, "::1", server.listener.addr.port, data);
      assert.deepEqual(v6.echoed, data);
    } finally {
      server.listener.close();
    }
    await server.settled();
  });

  test(`Socket servers listen on several addresses at once (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const servers = [
      await echoServer(runtime, { hostname: "127.0.0.1", port: 0 }),
      await echoServer(runtime, { hostname: "127.0.0.1", port: 0 }),
      await echoServer(runtime, { hostname: "::1", port: 0 }),
    ];
    try {
      assert.equal(new Set(servers.map((s) => s.listener.addr.port)).size, 3);
      for (const [i, server] of servers.entries()) {
        const data = pattern(100 + i, i + 1);
        const host = server.listener.addr.hostname;
        const { echoed } = await echoOnce(runtime, host, server.listener.addr.port, data);
        assert.deepEqual(echoed, data);
      }
    } finally {
      for (const server of servers) server.listener.close();
    }
    await Promise.all(servers.map((s) => s.settled()));
  });

  test(`Socket accepted sockets report their local address, also after close (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    // A listener on one address, on each family, and one on a wildcard (the address
    // a connection has then is the one the client dialled, never "0.0.0.0").
    for (
      const [listenOn, dial] of [["127.0.0.1", "127.0.0.1"], ["::1", "::1"], [
        "0.0.0.0",
        "127.0.0.1",
      ]]
    ) {
      const { listener, server, client } = await pair(runtime, listenOn, dial);
      listener.close();
      const expected = { hostname: dial, port: listener.addr.port };
      assert.deepEqual({ ...server.localAddr }, expected, `accepted on ${listenOn}`);
      assert.deepEqual({ ...client.remoteAddr }, expected);
      const s = record(server);
      const c = record(client);
      c.socket.close();
      await within(s.ended, 5000, "server side end");
      s.socket.close();
      await within(s.closed, 5000, "server side close");
      assert.deepEqual({ ...server.localAddr }, expected, `after close, on ${listenOn}`);
      await release(c);
    }
  });

  test(`Socket listen rejects a taken port with code EADDRINUSE (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const first = await runtime.listen({ hostname: "127.0.0.1", port: 0 }, (s) => s.abort());
    try {
      const port = first.addr.port;
      await assert.rejects(
        runtime.listen({ hostname: "127.0.0.1", port }, (s) => s.abort()),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, "EADDRINUSE");
          assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
          return true;
        },
      );
    } finally {
      first.close();
    }
  });

  test(`Socket listen with ipv6Only refuses IPv4 clients, or says the runtime cannot (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    if (runtimeName() === "deno") {
      await assert.rejects(
        runtime.listen({ hostname: "::", port: 0, ipv6Only: true }, (s) => s.abort()),
        (err: NotSupportedError) => {
          assert.ok(err instanceof NotSupportedError);
          assert.equal(err.code, "ENOTSUP");
          assert.equal(err.feature, "ipv6Only");
          assert.match(err.message, /ipv6Only is not supported on Deno/);
          return true;
        },
      );
      return;
    }
    const server = await echoServer(runtime, { hostname: "::", port: 0, ipv6Only: true });
    try {
      const port = server.listener.addr.port;
      const data = pattern(10);
      assert.deepEqual((await echoOnce(runtime, "::1", port, data)).echoed, data);
      await assert.rejects(
        runtime.connect({ hostname: "127.0.0.1", port }),
        (err: Error & { code?: string }) => err.code === "ECONNREFUSED",
      );
    } finally {
      server.listener.close();
    }
    await server.settled();
  });

  test(`Socket listener close stops accepting but keeps accepted connections (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const srv = await listen(runtime, { hostname: "127.0.0.1", port: 0 });
    const port = srv.listener.addr.port;
    const client = record(await runtime.connect({ hostname: "127.0.0.1", port }));
    const server = record(await srv.next());
    srv.listener.close();
    // Deno releases the listening socket once its pending accept is cancelled: a
    // connection racing that moment is reset instead of refused.
    await assert.rejects(
      runtime.connect({ hostname: "127.0.0.1", port }),
      (err: Error & { code?: string }) => err.code === "ECONNREFUSED" || err.code === "ECONNRESET",
    );
    server.socket.write(new TextEncoder().encode("still here"));
    server.socket.closeWrite();
    await within(client.ended, 5000, "client end");
    assert.equal(new TextDecoder().decode(client.received()), "still here");
    client.socket.closeWrite();
    assert.equal(await within(server.closed, 5000, "server close"), undefined);
    assert.equal(await within(client.closed, 5000, "client close"), undefined);
  });
}

test("Socket listen and connect reject invalid options with RangeError/TypeError", async () => {
  const runtime = await runtimeFor("native");
  await assert.rejects(
    runtime.listen({ hostname: "127.0.0.1", port: 70000 }, () => {}),
    (err: Error) => err instanceof RangeError && /current value is 70000/.test(err.message),
  );
  await assert.rejects(
    runtime.listen({ hostname: "127.0.0.1", port: 0, backlog: 0 }, () => {}),
    RangeError,
  );
  await assert.rejects(runtime.listen({ hostname: "", port: 0 }, () => {}), TypeError);
  await assert.rejects(runtime.connect({ hostname: "127.0.0.1", port: 0 }), RangeError);
  await assert.rejects(
    runtime.connect({ hostname: "127.0.0.1", port: 80, timeout: -1 }),
    RangeError,
  );
});

test("Bun's listener-fixed local address is used only for plain IP literals", () => {
  assert.deepEqual(fixedLocalAddr("127.0.0.1", 80), { hostname: "127.0.0.1", port: 80 });
  assert.deepEqual(fixedLocalAddr("10.1.255.0", 1), { hostname: "10.1.255.0", port: 1 });
  assert.deepEqual(fixedLocalAddr("::1", 443), { hostname: "::1", port: 443 });
  for (
    const h of [
      "0.0.0.0",
      "::",
      "",
      "localhost",
      "127.000.0.1",
      "256.0.0.1",
      "1.2.3",
      "::ffff:127.0.0.1",
      "0:0:0:0:0:0:0:1",
    ]
  ) {
    assert.equal(fixedLocalAddr(h, 80), undefined, h);
  }
});
