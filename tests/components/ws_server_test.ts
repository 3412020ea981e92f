import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { WsServer } from "../../src/components/ws_server.ts";
import type { WebSocketOpenRequestEvent, WsDataInEvent, WsLogEvent, WsPingEvent } from "../../src/components/ws_events.ts";
import type { ConnectionStatusEvent, ErrorEvent } from "../../src/components/tcp_events.ts";
import { ServerError } from "../../src/net/errors.ts";
import { connectRaw, expectClose, openWs, type RawClient, text, withTimeout } from "../ws/_raw_client.ts";
import { closeNormally, expectMessage } from "../ws/server/_autobahn.ts";
import { until } from "../_client.ts";

function newServer(): WsServer {
  return new WsServer({ localHost: "127.0.0.1", localPort: 0 });
}

async function connected(server: WsServer, ids: string[], path = "/"): Promise<[RawClient, string]> {
  const c = await openWs(server.localPort, { path });
  await until(() => ids.length > 0, 2000, "Connected");
  return [c, ids.at(-1)!];
}

describe("WsServer", () => {
  it("WsServer fires Connected, ReadyToSend, DataIn with DataFormat, and Disconnected with the close code", async () => {
    await using server = newServer();
    const events: string[] = [];
    const data: WsDataInEvent[] = [];
    const ids: string[] = [];
    let disc: ConnectionStatusEvent | undefined;
    server.on("Connected", (e) => {
      ids.push(e.connectionId);
      events.push(`Connected ${e.statusCode}`);
    });
    server.on("ReadyToSend", () => events.push("ReadyToSend"));
    server.on("DataIn", (e) => {
      data.push(e);
      void (e.dataFormat === 1 ? server.sendText(e.connectionId, `echo:${e.text}`) : server.sendBytes(e.connectionId, e.textB));
    });
    server.on("Disconnected", (e) => void (disc = e));
    await server.startListening();
    assert.equal(server.listening, true);
    assert.ok(server.localPort > 0);
    const [c] = await connected(server, ids);
    c.sendFrames({ opcode: 1, payload: "h\xc3\xa9llo" }, { opcode: 2, payload: new Uint8Array([1, 2, 3]) });
    await expectMessage(c, 1, "echo:héllo");
    await expectMessage(c, 2, new Uint8Array([1, 2, 3]));
    assert.deepEqual(events, ["Connected 0", "ReadyToSend"]);
    assert.deepEqual(data.map((e) => [e.dataFormat, e.text, e.eom, e.eol]), [[1, "héllo", true, false], [2, "\x01\x02\x03", true, false]]);
    c.sendFrames({ opcode: 8, payload: "\x0f\xa0done" });
    await expectClose(c, [4000]);
    await until(() => disc !== undefined);
    assert.deepEqual([disc!.connectionId, disc!.statusCode, disc!.description], [ids[0], 4000, "done"]);
    assert.equal(server.connections.size, 0);
  });

  it("WsServer WebSocketOpenRequest shows the request and refuses with StatusCode and ResponseHeaders", async () => {
    await using server = newServer();
    const seen: WebSocketOpenRequestEvent[] = [];
    server.on("WebSocketOpenRequest", (e) => {
      seen.push(e);
      if (e.requestURI === "/private") {
        e.statusCode = 401;
        e.responseHeaders = 'WWW-Authenticate: Basic realm="Secure Realm"';
      } else e.subProtocols = "chat";
    });
    await server.startListening();
    const p = await connectRaw(server.localPort);
    p.send(
      "GET /private HTTP/1.1\r\nHost: h.test\r\nOrigin: https://o.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: x, chat\r\n\r\n",
    );
    await p.headDone;
    assert.equal(p.client.status, 401);
    assert.equal(p.client.responseHeaders.get("www-authenticate"), 'Basic realm="Secure Realm"');
    await withTimeout(p.client.closed, 3000, "close");
    const e = seen[0]!;
    assert.deepEqual([e.requestURI, e.hostHeader, e.originHeader, e.subProtocols], ["/private", "h.test", "https://o.test", "x, chat"]);
    assert.match(e.requestHeaders, /^Host: h\.test\r\nOrigin: https:\/\/o\.test\r\n/);
    const ok = await openWs(server.localPort, { path: "/open", protocols: ["x", "chat"] });
    assert.equal(ok.responseHeaders.get("sec-websocket-protocol"), "chat");
    await closeNormally(ok);
  });

  it("WsServer ConnectionRequest can refuse, and AllowedClients prefills accept", async () => {
    await using server = newServer();
    const seen: boolean[] = [];
    server.on("ConnectionRequest", (e) => void seen.push(e.accept));
    await server.config("AllowedClients=10.*");
    assert.equal(await server.config("AllowedClients"), "10.*");
    await server.startListening();
    const p = await connectRaw(server.localPort);
    await withTimeout(p.client.closed, 3000, "refused");
    assert.deepEqual(seen, [false]);
    assert.equal(await server.config("MaxConnections"), "1000");
  });

  it("WsServer BufferMessage=False fires DataIn per part with DataFormat 0 on continuations and EOM on the last", async () => {
    await using server = newServer();
    const data: WsDataInEvent[] = [];
    const ids: string[] = [];
    server.on("Connected", (e) => void ids.push(e.connectionId));
    server.on("DataIn", (e) => void data.push(e));
    await server.config("BufferMessage=False");
    assert.equal(await server.config("BufferMessage"), "false");
    await server.startListening();
    const [c] = await connected(server, ids);
    c.sendFrames({ opcode: 1, payload: "ab", fin: false }, { opcode: 0, payload: "cd", fin: false }, { opcode: 0, payload: "e" });
    await until(() => data.length === 3);
    assert.deepEqual(data.map((e) => [e.dataFormat, e.text, e.eom]), [[1, "ab", false], [0, "cd", false], [0, "e", true]]);
    await closeNormally(c);
  });

  it("WsServer MaxFrameSize fragments and MessageLength[id] sends one message over several sends", async () => {
    await using server = newServer();
    const ids: string[] = [];
    server.on("Connected", (e) => void ids.push(e.connectionId));
    await server.config("MaxFrameSize=4");
    await server.startListening();
    const [c, id] = await connected(server, ids);
    await server.sendText(id, "abcdefghij");
    const f = [await c.nextFrame(), await c.nextFrame(), await c.nextFrame()];
    assert.deepEqual(f.map((x) => [x.opcode, x.fin, text(x)]), [[1, false, "abcd"], [0, false, "efgh"], [0, true, "ij"]]);
    await server.config("MaxFrameSize=1000");
    await server.config(`MessageLength[${id}]=6`);
    assert.equal(await server.config(`MessageLength[${id}]`), "6");
    await server.sendBytes(id, new Uint8Array([1, 2, 3]));
    await server.sendBytes(id, new Uint8Array([4, 5, 6, 7]));
    const g = [await c.nextFrame(), await c.nextFrame(), await c.nextFrame()];
    assert.deepEqual(g.map((x) => [x.opcode, x.fin, [...x.payload]]), [[2, false, [1, 2, 3]], [0, true, [4, 5, 6]], [2, true, [7]]]);
    await closeNormally(c);
  });

  it("WsServer disconnect closes with DisconnectStatusCode and DisconnectStatusDescription", async () => {
    await using server = newServer();
    const ids: string[] = [];
    let disc: ConnectionStatusEvent | undefined;
    server.on("Connected", (e) => void ids.push(e.connectionId));
    server.on("Disconnected", (e) => void (disc = e));
    await server.config("DisconnectStatusCode=4001");
    await server.config("DisconnectStatusDescription=maintenance");
    await server.config("WaitForCloseResponse=false");
    assert.equal(await server.config("WaitForCloseResponse"), "false");
    await server.startListening();
    const [c, id] = await connected(server, ids);
    await server.disconnect(id);
    const f = await c.closeFrame();
    assert.deepEqual([f.code, f.reason], [4001, "maintenance"]);
    await withTimeout(c.closed, 3000, "closed without waiting");
    await until(() => disc !== undefined);
    assert.equal(disc!.statusCode, 4001);
    await assert.rejects(server.disconnect(id), (e: unknown) => e instanceof ServerError && e.code === 126);
  });

  it("WsServer changeLineMode and MaxLineLength[id] fire DataIn per line with EOL", async () => {
    await using server = newServer();
    const ids: string[] = [];
    const lines: [number, string, boolean][] = [];
    server.on("Connected", (e) => void ids.push(e.connectionId));
    server.on("DataIn", (e) => void lines.push([e.dataFormat, e.text, e.eol]));
    await server.startListening();
    const [c, id] = await connected(server, ids);
    await server.changeLineMode(id, true);
    await server.config(`MaxLineLength[${id}]=256`);
    assert.equal(await server.config(`MaxLineLength[${id}]`), "256");
    c.sendFrames({ opcode: 1, payload: "one\r\ntw" }, { opcode: 1, payload: "o\n" + "z".repeat(300) + "\n" });
    await until(() => lines.length === 4);
    assert.deepEqual(lines, [[0, "one", true], [0, "two", true], [0, "z".repeat(256), false], [0, "z".repeat(44), true]]);
    await closeNormally(c);
  });

  it("WsServer ping waits for the pong and Ping events report pings and pongs", async () => {
    await using server = newServer();
    const ids: string[] = [];
    const pings: WsPingEvent[] = [];
    server.on("Connected", (e) => void ids.push(e.connectionId));
    server.on("Ping", (e) => void pings.push(e));
    await server.startListening();
    const [c, id] = await connected(server, ids);
    const rtt = server.ping(id);
    const ping = await c.nextFrame();
    assert.equal(ping.opcode, 9);
    c.sendFrames({ opcode: 10, payload: ping.payload }, { opcode: 9, payload: "from client" });
    assert.ok((await rtt) >= 0);
    assert.equal((await c.nextFrame()).opcode, 10);
    await until(() => pings.length === 2);
    assert.deepEqual(pings.map((p) => [p.response, p.payload.length]), [[true, 4], [false, 11]]);
    await closeNormally(c);
  });

  it("WsServer Error carries the close code of a protocol error; Log reports handshakes by LogLevel", async () => {
    await using server = newServer();
    const errors: ErrorEvent[] = [];
    const logs: WsLogEvent[] = [];
    server.on("Error", (e) => void errors.push(e));
    server.on("Log", (e) => void logs.push(e));
    await server.config("LogLevel=2");
    assert.equal(await server.config("LogLevel"), "2");
    await server.startListening();
    const c = await openWs(server.localPort, { path: "/logged" });
    c.sendFrames({ opcode: 1, payload: "x", mask: null });
    await expectClose(c, [1002]);
    await until(() => errors.length === 1);
    assert.equal(errors[0]!.errorCode, 1002);
    assert.ok(logs.some((l) => l.logLevel === 1 && /GET \/logged HTTP\/1\.1/.test(l.message)));
    assert.ok(logs.some((l) => l.logLevel === 2 && l.logType === "Verbose" && /Sec-WebSocket-Key/.test(l.message)));
    await assert.rejects(server.config("NoSuchSetting=1"), TypeError);
    await assert.rejects(server.config("DisconnectStatusCode=5"), RangeError);
  });

  it("WsServer send with DefaultTimeout 0 throws 135 past the send queue limit instead of waiting", async () => {
    await using server = newServer();
    const ids: string[] = [];
    server.on("Connected", (e) => void ids.push(e.connectionId));
    server.server.set({ maxWriteBuffer: 256 * 1024 });
    await server.startListening();
    const [c, id] = await connected(server, ids);
    c.socket.pause();
    const chunk = new Uint8Array(64 * 1024);
    let error: unknown;
    for (let i = 0; i < 2000 && error === undefined; i++) {
      try {
        await server.sendBytes(id, chunk);
      } catch (e) {
        error = e;
      }
    }
    assert.ok(error instanceof ServerError && error.code === 135, String(error));
    c.abort();
  });
});
