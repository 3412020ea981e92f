import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { HandshakeParser } from "../../src/ws/handshake.ts";
import { WsHandshakeError } from "../../src/ws/errors.ts";
import { chunkings } from "../codec/_chunkings.ts";
import { cat } from "./_frames.ts";
import { checkHandshakeError, enc, head, KEY, parse, UPGRADE } from "./_handshake.ts";

describe("HandshakeParser", () => {
  it("HandshakeParser parses a browser upgrade request for every chunking", () => {
    const input = head(
      "GET /chat/room?id=7&x=%20 HTTP/1.1",
      ...UPGRADE,
      "Origin: https://example.com",
      "Sec-WebSocket-Protocol: chat, superchat",
      "sec-websocket-protocol: chat, v2",
      "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
      "Cookie: a=1",
    );
    for (const [label, chunks] of chunkings(input)) {
      const [{ request }, rest] = parse(chunks);
      assert.equal(rest, "", label);
      assert.deepEqual({ ...request, headers: undefined, rawHeaders: request.rawHeaders.length }, {
        method: "GET",
        target: "/chat/room?id=7&x=%20",
        path: "/chat/room",
        query: "id=7&x=%20",
        httpVersion: "1.1",
        headers: undefined,
        rawHeaders: 10,
        host: "server.example.com",
        origin: "https://example.com",
        webSocket: {
          key: KEY,
          version: 13,
          protocols: ["chat", "superchat", "v2"],
          extensions: [{ name: "permessage-deflate", params: [["client_max_window_bits", true]] }],
        },
      }, label);
      assert.equal(request.headers.get("SEC-WEBSOCKET-PROTOCOL"), "chat, superchat, chat, v2");
      assert.deepEqual(request.rawHeaders[7], ["sec-websocket-protocol", "chat, v2"]);
    }
  });

  it("HandshakeParser returns pipelined bytes after the headers", () => {
    const input = cat(head("GET / HTTP/1.1", ...UPGRADE), new Uint8Array([0x81, 0x82, 1, 2, 3]));
    for (const [label, chunks] of chunkings(input)) {
      assert.equal(parse(chunks)[1], "\x81\x82\x01\x02\x03", label);
    }
    // A large chunk after a carried head is returned as a view, not copied.
    const parser = new HandshakeParser();
    assert.equal(parser.push(enc("GET / HTTP/1.1\r\nHost: h\r")), undefined);
    const big = new Uint8Array(1 << 20);
    big.set([10, 13, 10]);
    const result = parser.push(big);
    assert.equal(result?.rest.length, (1 << 20) - 3);
    assert.equal(result?.rest.buffer, big.buffer);
  });

  it("HandshakeParser returns a plain request for routing when it is not a WebSocket upgrade", () => {
    const [{ request }] = parse([head("POST /form HTTP/1.1", "Host: h", "Content-Length: 3")]);
    assert.deepEqual([request.method, request.webSocket], ["POST", undefined]);
    const [{ request: h2c }] = parse([
      head("GET / HTTP/1.1", "Host: h", "Upgrade: h2c", "Connection: Upgrade"),
    ]);
    assert.equal(h2c.webSocket, undefined);
    const [{ request: old }] = parse([head("GET / HTTP/1.0")]);
    assert.deepEqual([old.httpVersion, old.host], ["1.0", undefined]);
  });

  it("HandshakeParser accepts LF line ends, a leading empty line and case-insensitive tokens", () => {
    const input = enc(
      "\r\nGET /x HTTP/1.1\nHOST: h\nupgrade: WebSocket\nconnection: keep-alive,  UPGRADE \n" +
        `sec-websocket-key: ${KEY}\nSec-WebSocket-Version:13\n\n`,
    );
    for (const [label, chunks] of chunkings(input, 0)) {
      assert.equal(parse(chunks)[0].request.webSocket?.key, KEY, label);
    }
  });

  it("HandshakeParser takes an absolute-form target apart", () => {
    const [{ request }] = parse([head("GET http://h:8080/a/b?c=d HTTP/1.1", ...UPGRADE)]);
    assert.deepEqual([request.path, request.query], ["/a/b", "c=d"]);
  });

  it("HandshakeParser refuses a too long request line with 414 before its end arrives", () => {
    const line = "GET /" + "a".repeat(8192);
    const err = checkHandshakeError(enc(line), "WS_HANDSHAKE_REQUEST_LINE_TOO_LONG", 414, 8193);
    assert.equal(err.request, undefined);
    // Exactly 8192 bytes is fine, also with LF alone.
    const ok = "GET /" + "a".repeat(8192 - 14) + " HTTP/1.1";
    assert.equal(ok.length, 8192);
    parse([head(ok, "Host: h")]);
    parse([enc(ok + "\nHost: h\n\n")]);
    checkHandshakeError(
      head("GET /" + "a".repeat(8192 - 13) + " HTTP/1.1", "Host: h"),
      "WS_HANDSHAKE_REQUEST_LINE_TOO_LONG",
      414,
    );
    // Empty lines before the request line count toward the limit.
    checkHandshakeError(enc("\r\n".repeat(4097)), "WS_HANDSHAKE_REQUEST_LINE_TOO_LONG", 414, 8193);
    const small = new HandshakeParser({ maxRequestLineLength: 20 });
    assert.throws(() => small.push(enc("GET /0123456789012345 HTTP/1.1\r\n")), { status: 414 });
  });

  it("HandshakeParser refuses too many headers with 431", () => {
    const lines = Array.from({ length: 100 }, (_, i) => `X-${i}: ${i}`);
    lines[0] = "Host: h";
    parse([head("GET / HTTP/1.1", ...lines)]);
    const input = head("GET / HTTP/1.1", ...lines, "X-Last: 1");
    const at =
      enc("GET / HTTP/1.1\r\n" + lines.map((l) => l + "\r\n").join("") + "X-Last: 1\r").length;
    checkHandshakeError(input, "WS_HANDSHAKE_TOO_MANY_HEADERS", 431, at);
    assert.throws(
      () =>
        new HandshakeParser({ maxHeaders: 2 }).push(
          head("GET / HTTP/1.1", "Host: h", "A: 1", "B: 2"),
        ),
      {
        code: "WS_HANDSHAKE_TOO_MANY_HEADERS",
      },
    );
  });

  it("HandshakeParser refuses too many header bytes with 431 as they arrive", () => {
    const first = "GET / HTTP/1.1\r\n";
    // Header section of exactly 16384 bytes, the final empty line included.
    const value = "v".repeat(16384 - "Host: h\r\nX: \r\n\r\n".length);
    parse([enc(first + "Host: h\r\nX: " + value + "\r\n\r\n")]);
    const input = enc(first + "Host: h\r\nX: " + value + "vv\r\n\r\n");
    checkHandshakeError(input, "WS_HANDSHAKE_HEADERS_TOO_LARGE", 431, first.length + 16384 - 1);
    // A slow peer sending an endless header is cut off at the limit.
    const parser = new HandshakeParser({ maxHeaderBytes: 64 });
    parser.push(enc(first));
    assert.throws(() => {
      for (let i = 0; i < 1000; i++) parser.push(enc("X"));
    }, { code: "WS_HANDSHAKE_HEADERS_TOO_LARGE", status: 431 });
  });

  it("HandshakeParser refuses an upgrade with a missing or malformed key with 400", () => {
    const noKey = UPGRADE.filter((l) => !l.startsWith("Sec-WebSocket-Key"));
    const err = checkHandshakeError(head("GET /p HTTP/1.1", ...noKey), "WS_HANDSHAKE_KEY", 400);
    assert.equal(err.request?.path, "/p");
    for (
      const key of ["abc", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25jZQ==x", `${KEY}, ${KEY}`]
    ) {
      checkHandshakeError(
        head("GET / HTTP/1.1", ...noKey, `Sec-WebSocket-Key: ${key}`),
        "WS_HANDSHAKE_KEY",
        400,
      );
    }
  });

  it("HandshakeParser refuses a version other than 13 with 426 and Sec-WebSocket-Version: 13", () => {
    const noVersion = UPGRADE.filter((l) => !l.startsWith("Sec-WebSocket-Version"));
    for (const extra of [[], ["Sec-WebSocket-Version: 8"], ["Sec-WebSocket-Version: 13, 8"]]) {
      const err = checkHandshakeError(
        head("GET / HTTP/1.1", ...noVersion, ...extra),
        "WS_HANDSHAKE_VERSION",
        426,
      );
      assert.deepEqual(err.headers, [["Sec-WebSocket-Version", "13"]]);
    }
  });

  it("HandshakeParser refuses bad methods, versions, Host and Connection headers", () => {
    const noHost = UPGRADE.slice(1);
    checkHandshakeError(head("POST / HTTP/1.1", ...UPGRADE), "WS_HANDSHAKE_METHOD", 405);
    checkHandshakeError(head("GET / HTTP/1.0", ...UPGRADE), "WS_HANDSHAKE_HTTP_VERSION", 400);
    checkHandshakeError(head("GET / HTTP/2.0", ...UPGRADE), "WS_HANDSHAKE_HTTP_VERSION", 505);
    checkHandshakeError(head("GET / HTTP/1.1", ...noHost), "WS_HANDSHAKE_HOST", 400);
    checkHandshakeError(
      head("GET / HTTP/1.1", ...UPGRADE, "Host: again"),
      "WS_HANDSHAKE_HOST",
      400,
    );
    checkHandshakeError(
      head("GET / HTTP/1.1", "Host: h", "Upgrade: websocket", "Connection: keep-alive"),
      "WS_HANDSHAKE_CONNECTION",
      400,
    );
  });

  it("HandshakeParser refuses malformed request lines and header lines with 400", () => {
    for (
      const bad of [
        "GET /",
        "GET  / HTTP/1.1",
        "GET / HTTP/1.1 x",
        "G@T / HTTP/1.1",
        "GET /\x7f HTTP/1.1",
      ]
    ) {
      checkHandshakeError(head(bad, "Host: h"), "WS_HANDSHAKE_MALFORMED", 400);
    }
    for (
      const bad of [
        "Host : h",
        " folded",
        "No-Colon",
        ": empty",
        "X: a\x00b",
        "X: a\rb",
        "X\x01: y",
      ]
    ) {
      checkHandshakeError(head("GET / HTTP/1.1", "Host: h", bad), "WS_HANDSHAKE_MALFORMED", 400);
    }
  });

  it("HandshakeParser parses extension offers with quoted params and refuses malformed ones", () => {
    const [{ request }] = parse([head(
      "GET / HTTP/1.1",
      ...UPGRADE,
      'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; server_max_window_bits="10"',
      "Sec-WebSocket-Extensions: x-webkit-deflate-frame",
    )]);
    assert.deepEqual(request.webSocket?.extensions, [
      {
        name: "permessage-deflate",
        params: [["client_max_window_bits", true], ["server_max_window_bits", "10"]],
      },
      { name: "x-webkit-deflate-frame", params: [] },
    ]);
    checkHandshakeError(
      head("GET / HTTP/1.1", ...UPGRADE, 'Sec-WebSocket-Extensions: a; b="c d"'),
      "WS_HANDSHAKE_EXTENSIONS",
      400,
    );
    checkHandshakeError(
      head("GET / HTTP/1.1", ...UPGRADE, "Sec-WebSocket-Protocol: a b"),
      "WS_HANDSHAKE_PROTOCOL",
      400,
    );
  });

  it("HandshakeParser is spent after a result or an error", () => {
    const parser = new HandshakeParser();
    parser.push(head("GET / HTTP/1.1", "Host: h"));
    assert.throws(() => parser.push(enc("x")), TypeError);
    const failed = new HandshakeParser();
    assert.throws(() => failed.push(head("BAD")), WsHandshakeError);
    assert.throws(() => failed.push(enc("x")), TypeError);
  });

  it("HandshakeParser rejects invalid options with TypeError or RangeError", () => {
    assert.throws(() => new HandshakeParser({ maxHeaders: 0 }), {
      name: "RangeError",
      message:
        "Cannot create HandshakeParser as maxHeaders must be an integer >= 1: current value is 0",
    });
    assert.throws(() => new HandshakeParser({ maxHeaderBytes: "1" as never }), TypeError);
  });
});
