import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fc from "fast-check";
import {
  acceptKey,
  buildAcceptResponse,
  buildErrorResponse,
} from "../../src/ws/handshake_response.ts";
import { sha1 } from "../../src/ws/_sha1.ts";
import { WsHandshakeError } from "../../src/ws/errors.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

describe("handshake responses", () => {
  it("acceptKey gives the RFC 6455 §1.3 example value", () => {
    // RFC 6455 §1.3: SHA-1 0xb3 0x7a 0x4f 0x2c ... 0xc4 0xea, base64 below.
    assert.equal(acceptKey(KEY), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });

  it("sha1 agrees with node:crypto for any input, across block-padding edges", () => {
    const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000]) {
      const data = new Uint8Array(n).map((_, i) => i * 31);
      assert.equal(hex(sha1(data)), createHash("sha1").update(data).digest("hex"), `${n} bytes`);
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
        assert.equal(hex(sha1(data)), createHash("sha1").update(data).digest("hex"));
      }),
    );
  });

  it("buildAcceptResponse writes the 101 response with extensions and extra headers", () => {
    const bytes = buildAcceptResponse({
      key: KEY,
      extensions: [{ name: "permessage-deflate", params: [["server_no_context_takeover", true]] }],
      headers: [["Set-Cookie", "id=1"]],
    });
    assert.equal(
      text(bytes),
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
        "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n" +
        "Set-Cookie: id=1\r\n\r\n",
    );
    assert.equal(
      text(buildAcceptResponse({ key: KEY, extensions: [] })).includes("Extensions"),
      false,
    );
  });

  it("buildAcceptResponse refuses header injection, bad keys and non-token protocols", () => {
    assert.throws(() => buildAcceptResponse({ key: KEY, headers: { "X-A": "1\r\nEvil: 1" } }), {
      name: "TypeError",
      message:
        'Cannot build an accept response as header X-A must have a value without CR, LF or other controls: current value is "1\\r\\nEvil: 1"',
    });
    assert.throws(() => buildAcceptResponse({ key: KEY, headers: { "Bad Name": "1" } }), TypeError);
    assert.throws(() => buildAcceptResponse({ key: KEY, protocol: "a b" }), TypeError);
    assert.throws(() => buildAcceptResponse({ key: "short" }), TypeError);
    assert.throws(() => buildAcceptResponse({ key: KEY, extensions: "x\r\n" }), TypeError);
  });

  it("buildErrorResponse answers a bad version with 426 and the handshake error's headers", () => {
    const err = new WsHandshakeError("WS_HANDSHAKE_VERSION", 426, "bad", [[
      "Sec-WebSocket-Version",
      "13",
    ]]);
    assert.equal(
      text(buildErrorResponse(err.status, { headers: err.headers })),
      "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
  });

  it("buildErrorResponse sets Content-Length and Connection itself and keeps a given content type", () => {
    const bytes = buildErrorResponse(503, {
      headers: new Headers({
        "content-type": "application/json",
        "content-length": "99",
        connection: "keep-alive",
      }),
      body: "{}",
    });
    assert.equal(
      text(bytes),
      "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    );
    const binary = buildErrorResponse(400, { body: new Uint8Array([0xff]) });
    assert.deepEqual([...binary.subarray(-1)], [0xff]);
    assert.match(
      text(buildErrorResponse(431)),
      /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/,
    );
    assert.match(text(buildErrorResponse(599)), /^HTTP\/1\.1 599 \r\n/);
    assert.equal(
      text(buildErrorResponse(204)),
      "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
    );
  });

  it("buildErrorResponse refuses statuses outside 200-599 and bodies on 204 and 304", () => {
    for (const status of [101, 199, 600, 404.5]) {
      assert.throws(() => buildErrorResponse(status), RangeError);
    }
    assert.throws(() => buildErrorResponse(304, { body: "x" }), RangeError);
  });
});
