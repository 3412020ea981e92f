import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { TcpServer } from "../../src/components/tcp_server.ts";
import type { ConnectionStatusEvent } from "../../src/components/tcp_events.ts";
import { ServerError } from "../../src/net/errors.ts";
import { NotSupportedError, runtimeName } from "../../src/runtime/mod.ts";
import { connectClient, delay, until } from "../_client.ts";
import { HAS_SS, keepAliveTimer, listenBacklog, parseTimer } from "./_tcp_state.ts";

const DENO = runtimeName() === "deno";
const NO_SS = HAS_SS ? false : "needs ss (iproute2) to read socket state";
const MiB = 1024 * 1024;

function newServer(init: ConstructorParameters<typeof TcpServer>[0] = {}): TcpServer {
  return new TcpServer({ localHost: "127.0.0.1", localPort: 0, ...init });
}

async function onlyId(server: TcpServer): Promise<string> {
  await until(() => server.connections.size === 1, 3000, "the connection");
  return [...server.connections.keys()][0]!;
}

describe("TcpServer settings", () => {
  it("parseTimer reads ss timers", () => {
    assert.equal(parseTimer("4.896ms"), 4896);
    assert.equal(parseTimer("888ms"), 888);
    assert.equal(parseTimer("29sec"), 29_000);
    assert.equal(parseTimer("1min29sec"), 89_000);
    assert.equal(parseTimer("119min"), 7_140_000);
  });

  it("TcpServer KeepAliveTime only sets the time; KeepAlive turns probes on with it", async () => {
    const server = newServer();
    assert.equal(server.keepAlive, false);
    assert.equal(await server.config("KeepAliveTime"), "0");
    await server.config("KeepAliveTime=5000");
    assert.equal(server.keepAlive, false, "KeepAliveTime does not turn keep-alive on");
    assert.ok(!server.server.options.keepAlive);
    assert.equal(await server.config("KeepAliveTime"), "5000");
    server.keepAlive = true;
    assert.equal(server.server.options.keepAlive, 5000);
    server.keepAlive = false;
    assert.equal(server.server.options.keepAlive, false);
    assert.equal(await server.config("KeepAliveTime"), "5000", "the time is kept while off");
    server.keepAlive = true;
    assert.equal(server.server.options.keepAlive, 5000);
    await server.config("KeepAliveTime=0"); // the system's time
    assert.equal(server.server.options.keepAlive, true);
    assert.equal(await server.config("KeepAliveTime"), "0");
    await assert.rejects(
      server.config("KeepAliveTime=-1"),
      /Cannot set KeepAliveTime as it must be >= 0/,
    );
    await server.config("KeepAliveTime=7000");
    await server.reset();
    assert.equal(server.keepAlive, false);
    assert.equal(await server.config("KeepAliveTime"), "0", "reset forgets the time");
  });

  it(
    "TcpServer keepAlive with KeepAliveTime sets the idle time of accepted connections, on every runtime",
    { skip: NO_SS },
    async () => {
      await using server = newServer({ keepAlive: true });
      await server.config("KeepAliveTime=5000");
      await server.startListening();
      assert.equal(server.server.engine, DENO ? "node" : "native");
      const c = await connectClient(server.localPort);
      await onlyId(server);
      const ms = await keepAliveTimer(server.localPort);
      assert.ok(ms !== undefined && ms > 2000 && ms <= 5000, `keep-alive timer: ${ms} ms`);
      c.close();
    },
  );

  it("TcpServer keepAlive and linger changed while listening: NotSupportedError on Deno's native sockets, new connections elsewhere", async () => {
    await using server = newServer();
    await server.config("KeepAliveTime=5000");
    await server.startListening();
    assert.equal(server.server.engine, "native");
    if (DENO) {
      const unsupported = (e: unknown) =>
        e instanceof NotSupportedError && /engine "node"/.test(e.message);
      assert.throws(() => (server.keepAlive = true), unsupported);
      assert.throws(() => (server.linger = false), unsupported);
      assert.equal(server.keepAlive, false);
      assert.equal(server.linger, true);
      await server.stopListening();
    }
    server.keepAlive = true;
    server.linger = false;
    if (DENO) {
      await server.startListening();
      assert.equal(server.server.engine, "node");
    }
    const c = await connectClient(server.localPort);
    const id = await onlyId(server);
    if (HAS_SS) {
      const ms = await keepAliveTimer(server.localPort);
      assert.ok(ms !== undefined && ms > 2000 && ms <= 5000, `keep-alive timer: ${ms} ms`);
    }
    await server.disconnect(id);
    assert.equal(await c.closed, "ECONNRESET");
  });

  it("TcpServer connectionBacklog reaches the listening socket", async () => {
    await using server = newServer();
    assert.equal(server.connectionBacklog, 511);
    server.connectionBacklog = 7;
    assert.equal(server.connectionBacklog, 7);
    assert.equal(server.server.options.backlog, 7);
    assert.throws(() => (server.connectionBacklog = -1), RangeError);
    await server.startListening();
    // Bun's backlog is fixed at 512 (runtime-matrix.md).
    if (HAS_SS && runtimeName() !== "bun") assert.equal(await listenBacklog(server.localPort), 7);
  });

  it("TcpServer defaultTimeout makes sends wait, and fail after that many seconds without progress", async () => {
    await using server = newServer();
    server.defaultTimeout = 0.3;
    assert.equal(server.defaultTimeout, 0.3);
    assert.equal(server.server.options.writeTimeout, 300);
    let disc: ConnectionStatusEvent | undefined;
    server.on("Disconnected", (e) => void (disc = e));
    await server.startListening();
    const c = await connectClient(server.localPort);
    c.socket.pause(); // never reads
    const id = await onlyId(server);
    await server.sendBytes(id, new Uint8Array(16 * MiB)); // an empty queue takes it
    const t0 = Date.now();
    await assert.rejects(
      server.sendBytes(id, new Uint8Array(10)),
      (e: Error & { code?: string }) => e.code === "ETIMEDOUT",
    );
    assert.ok(Date.now() - t0 < 3000);
    await until(() => disc !== undefined);
    assert.equal(disc!.statusCode, 10060);
    c.abort();
  });

  it("TcpServer with defaultTimeout 0 sends without waiting and throws 135 when the queue is full", async () => {
    await using server = newServer();
    assert.equal(server.defaultTimeout, 0);
    await server.startListening();
    const c = await connectClient(server.localPort);
    c.socket.pause();
    const id = await onlyId(server);
    await server.sendBytes(id, new Uint8Array(16 * MiB));
    await assert.rejects(
      server.sendText(id, "x"),
      (e: unknown) => e instanceof ServerError && e.code === 135,
    );
    c.abort();
  });

  it("TcpServer sendBytes and sendText deliver bytes and UTF-8 in order", async () => {
    await using server = newServer();
    server.on("Connected", async (e) => {
      await server.sendBytes(e.connectionId, new Uint8Array([0x00, 0x01, 0xff]));
      await server.sendText(e.connectionId, "héllo");
      await server.sendLine(e.connectionId, "!");
    });
    await server.startListening();
    const c = await connectClient(server.localPort);
    await c.waitForBytes(3 + 6 + 3);
    assert.deepEqual([...c.received()], [
      0x00,
      0x01,
      0xff,
      ...new TextEncoder().encode("héllo!\r\n"),
    ]);
    c.close();
  });

  it("TcpServer OutBufferSize sets the send queue's high-water mark of connections accepted afterwards", async () => {
    await using server = newServer();
    assert.equal(await server.config("OutBufferSize"), "65536");
    await server.startListening();
    const a = await connectClient(server.localPort);
    const first = server.connections.get(await onlyId(server))!;
    await server.config("OutBufferSize=1024");
    assert.equal(await server.config("OutBufferSize"), "1024");
    const b = await connectClient(server.localPort);
    await until(() => server.connections.size === 2);
    const second = [...server.connections.values()].find((c) => c !== first)!;
    assert.equal(first.desiredSize, 65536, "existing connections are not modified");
    assert.equal(second.desiredSize, 1024);
    a.close();
    b.close();
  });

  it("TcpServer UseIPv6 switches the family and toggling back restores LocalHost", async () => {
    const server = newServer();
    assert.equal(await server.config("UseIPv6"), "0");
    await server.config("UseIPv6=1");
    assert.equal(server.localHost, "::");
    assert.equal(server.server.options.ipv6Only, true);
    assert.equal(await server.config("UseIPv6"), "1");
    await server.config("UseIPv6=2");
    assert.equal(await server.config("UseIPv6"), "2");
    assert.equal(server.server.options.ipv6Only, false);
    await server.config("UseIPv6=0");
    assert.equal(server.localHost, "127.0.0.1", "the IPv4 LocalHost comes back");
    assert.equal(await server.config("UseIPv6"), "0");
    await server.config("UseIPv6=0"); // already IPv4: nothing changes
    assert.equal(server.localHost, "127.0.0.1");

    server.localHost = "::1"; // an IPv6 LocalHost is kept
    await server.config("UseIPv6=1");
    assert.equal(server.localHost, "::1");
    await server.config("UseIPv6=0");
    assert.equal(server.localHost, "127.0.0.1");

    await server.config("UseIPv6=2");
    server.localHost = "::1"; // changed since: UseIPv6=0 maps it instead of restoring
    await server.config("UseIPv6=0");
    assert.equal(server.localHost, "127.0.0.1");

    const unset = new TcpServer();
    await unset.config("UseIPv6=2");
    await unset.config("UseIPv6=0");
    assert.equal(unset.localHost, "0.0.0.0");
    assert.equal(unset.server.options.hostname, undefined);
    await assert.rejects(
      server.config("UseIPv6=3"),
      /Cannot set UseIPv6 as it must be 0, 1 or 2: current value is 3/,
    );
  });

  it("TcpServer config errors name the setting as it was written", async () => {
    await using server = newServer();
    const named = (setting: string, internal: string) => (e: unknown) => {
      assert.ok(e instanceof RangeError, String(e));
      assert.ok(e.message.includes(setting), e.message);
      assert.ok(!e.message.includes(internal), e.message);
      return true;
    };
    await assert.rejects(
      server.config("InBufferSize=0"),
      named("InBufferSize", "readHighWaterMark"),
    );
    await assert.rejects(
      server.config("OutBufferSize=0"),
      named("OutBufferSize", "writeHighWaterMark"),
    );
    await assert.rejects(
      server.config("MaxConnections=0"),
      named("MaxConnections", "maxConnections"),
    );
    await assert.rejects(
      server.config("inbuffersize=-5"),
      /Cannot use inbuffersize as it must be an integer/,
    );
    await server.startListening();
    await assert.rejects(server.config("MaxConnections=5"), (e: unknown) => {
      assert.ok(e instanceof ServerError);
      assert.equal(e.code, 108);
      assert.equal(
        e.message,
        "Cannot change MaxConnections while listening: call stopListening() first",
      );
      return true;
    });
    await assert.rejects(
      server.config("UseIPv6=2"),
      (e: unknown) => e instanceof ServerError && e.code === 107 && /UseIPv6/.test(e.message),
    );
  });

  it("TcpServer fires ReadyToSend after a full queue drains (the client stops reading, then reads again)", async () => {
    await using server = newServer();
    await server.config("OutBufferSize=16384");
    let ready = 0;
    server.on("ReadyToSend", () => void ready++);
    await server.startListening();
    const c = await connectClient(server.localPort);
    c.socket.pause();
    const id = await onlyId(server);
    await until(() => ready === 1, 3000, "ReadyToSend after Connected");
    // More than the kernel's buffers take (about 4 MB on loopback, runtime-matrix.md).
    await server.sendBytes(id, new Uint8Array(16 * MiB));
    await delay(200);
    assert.equal(ready, 1, "no ReadyToSend while the client does not read");
    assert.ok(server.connections.get(id)!.writableLength > 0);
    c.socket.resume();
    await c.waitForBytes(16 * MiB, 20_000);
    await until(() => ready === 2, 3000, "ReadyToSend after the drain");
    await server.sendText(id, "more"); // ready to send again
    await c.waitForBytes(16 * MiB + 4);
    c.close();
  });
});
