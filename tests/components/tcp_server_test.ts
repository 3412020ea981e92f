import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { IPDaemon, TcpServer } from "../../src/components/tcp_server.ts";
import type {
  ConnectionStatusEvent,
  DataInEvent,
  ErrorEvent,
} from "../../src/components/tcp_events.ts";
import { ServerError } from "../../src/net/errors.ts";
import { connectClient, delay, until } from "../_client.ts";

function newServer(init: ConstructorParameters<typeof TcpServer>[0] = {}): TcpServer {
  return new TcpServer({ localHost: "127.0.0.1", localPort: 0, ...init });
}

describe("TcpServer", () => {
  it("TcpServer fires Connected, DataIn and Disconnected with reference fields", async () => {
    await using server = newServer({ defaultSingleLineMode: true, defaultMaxLineLength: 256 });
    const events: string[] = [];
    const data: DataInEvent[] = [];
    let disc: ConnectionStatusEvent | undefined;
    server.on("Connected", (e) => events.push(`Connected ${e.statusCode} ${e.description}`));
    server.on("ReadyToSend", () => events.push("ReadyToSend"));
    server.on("DataIn", (e) => {
      data.push(e);
      void server.sendLine(e.connectionId, `echo:${e.text}`);
    });
    server.on("Disconnected", (e) => void (disc = e));
    await server.startListening();
    assert.equal(server.listening, true);
    assert.ok(server.localPort > 0);
    const c = await connectClient(server.localPort);
    c.send("héllo\r\n" + "z".repeat(300) + "\n");
    await c.waitFor((t) => t.split("\r\n").length === 4);
    assert.deepEqual(events, ["Connected 0 OK", "ReadyToSend"]);
    assert.equal(data[0]!.text, "héllo");
    assert.equal(data[0]!.EOL, true);
    assert.equal(data[1]!.textB.length, 256);
    assert.equal(data[1]!.EOL, false);
    assert.equal(data[2]!.EOL, true);
    assert.ok(c.text().startsWith("echo:héllo\r\n"));
    c.close();
    await until(() => disc !== undefined);
    assert.equal(disc!.statusCode, 0);
    assert.equal(disc!.description, "OK");
    assert.equal(server.connections.size, 0);
  });

  it("TcpServer ConnectionRequest can refuse, and AllowedClients prefills accept", async () => {
    await using server = newServer();
    const seen: boolean[] = [];
    server.on("ConnectionRequest", (e) => {
      seen.push(e.accept);
      assert.equal(e.address.endsWith("127.0.0.1"), true);
      if (seen.length === 2) e.accept = false;
    });
    await server.config("AllowedClients=10.*");
    assert.equal(await server.config("AllowedClients"), "10.*");
    await server.startListening();
    const a = await connectClient(server.localPort);
    await a.closed;
    await server.stopListening();
    await server.config("AllowedClients=*");
    await server.startListening();
    const b = await connectClient(server.localPort);
    await b.closed;
    const c = await connectClient(server.localPort);
    await until(() => server.connections.size === 1);
    assert.deepEqual(seen, [false, true, true]);
    c.close();
  });

  it("TcpServer pauseData/processData and changeRecordLength inside DataIn", async () => {
    await using server = newServer({ defaultEOL: "\n" });
    const got: string[] = [];
    server.on("DataIn", (e) => {
      got.push(e.text);
      if (e.text === "REC") void server.changeRecordLength(e.connectionId, 4);
      else if (got.length === 3) void server.pauseData(e.connectionId);
    });
    await server.startListening();
    const c = await connectClient(server.localPort);
    c.send("REC\nabcdefgh");
    await until(() => got.length === 3);
    c.send("ijkl");
    await delay(50);
    assert.deepEqual(got, ["REC", "abcd", "efgh"]);
    const [id] = [...server.connections.keys()];
    assert.equal(server.connections.get(id!)!.paused, true);
    await server.processData(id!);
    await until(() => got.length === 4);
    assert.equal(got[3], "ijkl");
    c.close();
  });

  it("TcpServer methods reject an unknown connection id with 126", async () => {
    await using server = newServer();
    await server.startListening();
    const is126 = (e: unknown) => e instanceof ServerError && e.code === 126;
    await assert.rejects(server.send("99", new Uint8Array(1)), is126);
    await assert.rejects(server.disconnect("99"), is126);
    await assert.rejects(server.pauseData("99"), is126);
    await assert.rejects(server.sendFile("99", "/nonexistent"), is126);
  });

  it("TcpServer properties cannot change while listening (104, 106, 107, 108)", async () => {
    await using server = newServer();
    await server.startListening();
    const code = (n: number) => (e: unknown) => e instanceof ServerError && e.code === n;
    await assert.rejects(server.startListening(), code(104));
    assert.throws(() => (server.localPort = 1234), code(106));
    assert.throws(() => (server.localHost = "::1"), code(107));
    await assert.rejects(server.config("MaxConnections=5"), code(108));
    assert.throws(() => (server.defaultMaxLineLength = 100), RangeError);
    await assert.rejects(server.config("Bogus=1"), TypeError);
    await assert.rejects(server.config("TcpNoDelay=maybe"), TypeError);
    await assert.rejects(server.config("KeepAliveInterval=1000"), /TCP_KEEPINTVL/);
  });

  it("TcpServer config reads and writes settings by name", async () => {
    await using server = newServer();
    assert.equal(await server.config("MaxConnections"), "1000");
    await server.config("MaxConnections=7");
    assert.equal(await server.config("MaxConnections"), "7");
    await server.config("BlockedClients=192.168.*,10.0.0.0/8");
    assert.equal(await server.config("BlockedClients"), "192.168.*,10.0.0.0/8");
    await server.config("TcpNoDelay=False");
    assert.equal(await server.config("TcpNoDelay"), "false");
    await server.config("KeepAliveTime=30000");
    assert.equal(await server.config("KeepAliveTime"), "30000");
    await server.config("UseIPv6=2");
    assert.equal(await server.config("UseIPv6"), "2");
    await server.config("BindExclusively=true");
    assert.equal(await server.config("BindExclusively"), "true");
    await server.config("InBufferSize=4096");
    assert.equal(await server.config("InBufferSize"), "4096");
    await server.config("CodePage=1252");
    assert.equal(await server.config("CodePage"), "windows-1252");
  });

  it("TcpServer decodes DataIn text with the CodePage", async () => {
    await using server = newServer({ defaultEOL: "\n" });
    await server.config("CodePage=28591");
    let text = "";
    server.on("DataIn", (e) => void (text = e.text));
    await server.startListening();
    const c = await connectClient(server.localPort);
    c.send(new Uint8Array([0x63, 0x61, 0x66, 0xe9, 10]));
    await until(() => text !== "");
    assert.equal(text, "café");
    c.close();
  });

  it("TcpServer interrupt stops sendFile and keeps the connection", async () => {
    const { writeFile, rm, mkdtemp } = await import("node:fs/promises");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const dir = await mkdtemp(join(tmpdir(), "ns-"));
    const path = join(dir, "big.bin");
    await writeFile(path, new Uint8Array(32 * 1024 * 1024));
    await using server = newServer();
    let result: unknown = "pending";
    server.on("Connected", (e) => {
      server.sendFile(e.connectionId, path).then(() => (result = "done"), (err) => (result = err));
    });
    await server.startListening();
    const c = await connectClient(server.localPort);
    c.socket.pause(); // do not read: the file stalls on backpressure
    await delay(100);
    const [id] = [...server.connections.keys()];
    await server.interrupt(id!);
    await until(() => result !== "pending");
    assert.equal((result as Error).name, "AbortError");
    assert.equal(server.connections.size, 1, "the connection stays");
    c.abort();
    await until(() => server.connections.size === 0);
    await rm(dir, { recursive: true });
  });

  it("TcpServer Error and Disconnected report a timeout with status 10060", async () => {
    await using server = newServer({ defaultIdleTimeout: 0.1 });
    const errors: ErrorEvent[] = [];
    let disc: ConnectionStatusEvent | undefined;
    server.on("Error", (e) => errors.push(e));
    server.on("Disconnected", (e) => void (disc = e));
    await server.startListening();
    const c = await connectClient(server.localPort);
    await c.closed;
    await until(() => disc !== undefined);
    assert.equal(disc!.statusCode, 10060);
    assert.equal(errors[0]!.errorCode, 10060);
  });

  it("TcpServer with linger false resets on disconnect, on every runtime", async () => {
    await using server = newServer({ linger: false });
    await server.startListening();
    const c = await connectClient(server.localPort);
    await until(() => server.connections.size === 1);
    await server.disconnect([...server.connections.keys()][0]!);
    assert.equal(await c.closed, "ECONNRESET");
    assert.equal(server.connections.size, 0);
  });

  it("TcpServer reset restores defaults; IPDaemon is the same class", async () => {
    const server = newServer({ defaultSingleLineMode: true, defaultIdleTimeout: 5, linger: false });
    await server.startListening();
    await server.reset();
    assert.equal(server.listening, false);
    assert.equal(server.defaultSingleLineMode, false);
    assert.equal(server.defaultIdleTimeout, 0);
    assert.equal(server.linger, true);
    assert.equal(IPDaemon, TcpServer);
    assert.ok(new IPDaemon() instanceof EventTarget);
  });
});
