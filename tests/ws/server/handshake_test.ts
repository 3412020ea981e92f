/**
 * The server side of the opening handshake (RFC 6455 §4.2): the open-request
 * hook (reference: WebSocketOpenRequest), subprotocols, refusals with any
 * status, version and method checks, plain HTTP requests to `onRequest`
 * (else 426), header limits (414, 431) and the handshake time limit.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { serveWs } from "../../../src/ws/ws_server.ts";
import { acceptKey } from "../../../src/ws/handshake_response.ts";
import type { WebSocketOpenRequest } from "../../../src/ws/open_request.ts";
import { connectRaw, expectClose, frame, openWs, withTimeout } from "../_raw_client.ts";
import { closeNormally, expectMessage } from "./_autobahn.ts";
import { startEcho } from "./_echo.ts";
import { until } from "../../_client.ts";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

function upgrade(extra = "", version = "13", method = "GET"): string {
  return `${method} /chat?room=1 HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\n` +
    `Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: ${version}\r\n${extra}\r\n`;
}

/** Sends a raw request and resolves with the response status, head and body once TCP closes. */
async function request(port: number, text: string | Uint8Array) {
  const p = await connectRaw(port);
  if (typeof text === "string") p.send(text);
  else p.client.send(text);
  await p.headDone;
  await withTimeout(p.client.closed, 5000, "the server to close");
  return { status: p.client.status, headers: p.client.responseHeaders, body: p.client.body(), head: p.client.head };
}

describe("WebSocketServer handshake", () => {
  it("WebSocketServer answers 101 with the RFC 6455 accept key and shows the hook the whole request", async () => {
    let seen: WebSocketOpenRequest | undefined;
    let opened = "";
    await using server = await serveWs({
      hostname: "127.0.0.1",
      port: 0,
      onOpenRequest(req) {
        seen = req;
      },
      onOpen(ws) {
        opened = ws.id;
      },
    });
    const p = await connectRaw(server.addr.port);
    p.send(upgrade("Origin: https://app.test\r\nSec-WebSocket-Protocol: a, b\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\nX-Custom: 1\r\n"));
    await p.headDone;
    assert.equal(p.client.status, 101);
    assert.equal(p.client.responseHeaders.get("sec-websocket-accept"), acceptKey(KEY));
    assert.equal(p.client.responseHeaders.get("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert.equal(p.client.responseHeaders.get("sec-websocket-protocol"), null, "no subprotocol chosen");
    assert.equal(
      p.client.responseHeaders.get("sec-websocket-extensions"),
      "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",
      "permessage-deflate accepted by default (RFC 7692)",
    );
    assert.ok(seen);
    assert.deepEqual(
      [seen.url, seen.path, seen.query, seen.host, seen.origin, seen.protocols, seen.extensions[0]?.name, seen.headers.get("x-custom")],
      ["/chat?room=1", "/chat", "room=1", "example.test", "https://app.test", ["a", "b"], "permessage-deflate", "1"],
    );
    assert.equal(seen.connectionId, opened);
    assert.equal(server.get(opened).request?.target, "/chat?room=1");
    assert.equal(server.get(opened).request?.headers.get("x-custom"), "1");
    assert.equal(server.get(opened).url, "/chat?room=1");
    await closeNormally(p.client);
  });

  it("WebSocketServer preselects the first of its protocols the client offers; the hook may change it", async () => {
    await using server = await serveWs({
      hostname: "127.0.0.1",
      port: 0,
      protocols: ["chat.v2", "chat.v1"],
      onOpenRequest(req) {
        if (req.path === "/v1") req.protocol = "chat.v1";
      },
      onOpen: (ws) => void ws.send(ws.protocol),
    });
    const a = await openWs(server.addr.port, { protocols: ["chat.v1", "chat.v2"] });
    assert.equal(a.responseHeaders.get("sec-websocket-protocol"), "chat.v2");
    await expectMessage(a, 1, "chat.v2");
    const b = await openWs(server.addr.port, { path: "/v1", protocols: ["chat.v1", "chat.v2"] });
    assert.equal(b.responseHeaders.get("sec-websocket-protocol"), "chat.v1");
    await expectMessage(b, 1, "chat.v1");
    const c = await openWs(server.addr.port, { protocols: ["other"] });
    assert.equal(c.responseHeaders.get("sec-websocket-protocol"), null);
    await expectMessage(c, 1, "");
    for (const x of [a, b, c]) await closeNormally(x);
  });

  it("WebSocketServer refuses with the hook's status, headers and body (401 with WWW-Authenticate)", async () => {
    let opens = 0;
    await using server = await serveWs({
      hostname: "127.0.0.1",
      port: 0,
      onOpenRequest(req) {
        if (req.headers.get("authorization") !== "Bearer ok") {
          req.reject(401, { headers: { "WWW-Authenticate": 'Bearer realm="chat"' }, body: "login first" });
        }
      },
      onOpen: () => void opens++,
    });
    const r = await request(server.addr.port, upgrade());
    assert.equal(r.status, 401);
    assert.equal(r.headers.get("www-authenticate"), 'Bearer realm="chat"');
    assert.equal(r.body, "login first");
    const ok = await openWs(server.addr.port, { headers: { Authorization: "Bearer ok" } });
    await closeNormally(ok);
    assert.equal(opens, 1);
  });

  it("WebSocketServer waits for an async hook, keeps pipelined frames, and adds its response headers", async () => {
    await using server = await startEcho({
      async onOpenRequest(req) {
        await new Promise((r) => setTimeout(r, 30));
        req.accept({ headers: { "Set-Cookie": "id=1" } });
        req.connection.data = "tagged";
      },
    });
    const p = await connectRaw(server.port);
    // The request and a first frame in one write.
    p.client.send(new Uint8Array([...new TextEncoder().encode(upgrade()), ...frame({ opcode: 1, payload: "early" })]));
    await p.headDone;
    assert.equal(p.client.status, 101);
    assert.equal(p.client.responseHeaders.get("set-cookie"), "id=1");
    await expectMessage(p.client, 1, "early");
    assert.equal([...server.connections.values()][0]?.data, "tagged");
    await closeNormally(p.client);
  });

  it("WebSocketServer answers 500 when the hook throws, rejects or picks a protocol not offered", async () => {
    const errors: Error[] = [];
    await using server = await serveWs({
      hostname: "127.0.0.1",
      port: 0,
      onError: (e) => void errors.push(e),
      onOpenRequest(req) {
        if (req.path === "/throw") throw new Error("boom");
        if (req.path === "/reject") return Promise.reject(new Error("async boom"));
        req.protocol = "not-offered";
        return undefined;
      },
    });
    for (const path of ["/throw", "/reject", "/proto"]) {
      const r = await request(server.addr.port, upgrade().replace("/chat?room=1", path));
      assert.equal(r.status, 500, path);
    }
    assert.deepEqual(errors.map((e) => e.message.slice(0, 20)), ["boom", "async boom", "Cannot accept the We"]);
  });

  it("WebSocketServer refuses bad upgrades: version 426 with Sec-WebSocket-Version, POST 405, bad key 400", async () => {
    await using server = await startEcho();
    const v = await request(server.port, upgrade("", "8"));
    assert.equal(v.status, 426);
    assert.equal(v.headers.get("sec-websocket-version"), "13");
    const m = await request(server.port, upgrade("", "13", "POST"));
    assert.equal(m.status, 405);
    const k = await request(server.port, upgrade().replace(KEY, "short"));
    assert.equal(k.status, 400);
    const h = await request(server.port, "GET / HTTP/2.0\r\nHost: x\r\n\r\n");
    assert.equal(h.status, 505);
  });

  it("WebSocketServer answers a plain HTTP request with 426 when there is no onRequest", async () => {
    await using server = await startEcho();
    const r = await request(server.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.equal(r.status, 426);
    assert.equal(r.headers.get("upgrade"), "websocket");
    assert.equal(r.headers.get("connection"), "close");
  });

  it("WebSocketServer hands plain HTTP requests to onRequest as web Requests, with bounded bodies", async () => {
    const errors: Error[] = [];
    await using server = await serveWs({
      hostname: "127.0.0.1",
      port: 0,
      maxRequestBody: 1000,
      onError: (e) => void errors.push(e),
      async onRequest(req, info) {
        const url = new URL(req.url);
        if (url.pathname === "/boom") throw new Error("handler failed");
        const body = req.method === "POST" ? await req.text() : "";
        return new Response(`${req.method} ${url.pathname}${url.search} ${body} ${info.remoteAddr.hostname}`, {
          status: 201,
          headers: { "X-Id": info.connectionId, "Set-Cookie": "a=1" },
        });
      },
    });
    const port = server.addr.port;
    const g = await request(port, "GET /page?x=1 HTTP/1.1\r\nHost: h.test\r\n\r\n");
    assert.equal(g.status, 201);
    assert.equal(g.body, "GET /page?x=1  127.0.0.1");
    assert.equal(g.headers.get("set-cookie"), "a=1");
    assert.equal(g.headers.get("content-length"), String(g.body.length));
    const p = await request(port, "POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello");
    assert.equal(p.body, "POST /form hello 127.0.0.1");
    const head = await request(port, "HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n");
    assert.equal(head.status, 201);
    assert.equal(head.body, "");
    assert.deepEqual(errors, []);
  });

  it("WebSocketServer reads a request body split across writes and refuses 413, 411, and 500 on a throwing handler", async () => {
    await using server = await serveWs({
      hostname: "127.0.0.1",
      port: 0,
      maxRequestBody: 1000,
      onError() {},
      async onRequest(req) {
        if (new URL(req.url).pathname === "/boom") throw new Error("handler failed");
        return new Response(await req.text());
      },
    });
    const port = server.addr.port;
    const pending = await connectRaw(port);
    pending.send("POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nhello");
    await new Promise((r) => setTimeout(r, 20));
    pending.send(" worldIGNORED");
    await pending.headDone;
    await withTimeout(pending.client.closed, 5000, "close");
    assert.equal(pending.client.status, 200);
    assert.equal(pending.client.body(), "hello worl");
    const big = await request(port, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1001\r\n\r\n");
    assert.equal(big.status, 413);
    const chunked = await request(port, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    assert.equal(chunked.status, 411);
    const boom = await request(port, "GET /boom HTTP/1.1\r\nHost: h\r\n\r\n");
    assert.equal(boom.status, 500);
  });

  it("WebSocketServer refuses a long request line (414), big or many headers (431)", async () => {
    await using server = await startEcho({ maxRequestLineLength: 100, maxHeaderBytes: 1000, maxHeaders: 10 });
    const long = await request(server.port, `GET /${"a".repeat(200)} HTTP/1.1\r\n\r\n`);
    assert.equal(long.status, 414);
    const big = await request(server.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"b".repeat(2000)}\r\n\r\n`);
    assert.equal(big.status, 431);
    const many = await request(server.port, "GET / HTTP/1.1\r\n" + "X-H: 1\r\n".repeat(11) + "\r\n");
    assert.equal(many.status, 431);
  });

  it("WebSocketServer answers 408 and disconnects a slowloris client after handshakeTimeout", async () => {
    await using server = await startEcho({ handshakeTimeout: 300 });
    const p = await connectRaw(server.port);
    const started = Date.now();
    const text = upgrade();
    let i = 0;
    const timer = setInterval(() => {
      if (!p.client.isClosed() && i < text.length - 4) p.send(text[i++]!);
    }, 40);
    try {
      await p.headDone;
      await withTimeout(p.client.closed, 3000, "the server to drop the slow client");
    } finally {
      clearInterval(timer);
    }
    const took = Date.now() - started;
    assert.equal(p.client.status, 408);
    assert.ok(took >= 250 && took < 1500, `took ${took} ms`);
    await until(() => server.size === 0, 3000, "the server to release the connection");
  });

  it("WebSocketServer answers 503 past maxConnections and applies the block list", async () => {
    await using server = await startEcho({ maxConnections: 1 });
    const a = await openWs(server.port);
    const r = await request(server.port, upgrade());
    assert.equal(r.status, 503);
    await closeNormally(a);
    server.set({ block: "127.0.0.1" });
    const p = await connectRaw(server.port);
    await withTimeout(p.client.closed, 3000, "the blocked client to be dropped");
    assert.equal(p.client.status, 0);
  });

  it("WebSocketServer frames after the 101 in the same read are decoded, including a close", async () => {
    await using server = await startEcho();
    const p = await connectRaw(server.port);
    p.client.send(new Uint8Array([
      ...new TextEncoder().encode(upgrade()),
      ...frame({ opcode: 1, payload: "a" }),
      ...frame({ opcode: 8, payload: "\x03\xe8" }),
    ]));
    await p.headDone;
    await expectMessage(p.client, 1, "a");
    await expectClose(p.client, [1000]);
  });
});
