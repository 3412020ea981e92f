/**
 * `wss://`: the WebSocket server over the TCP server's TLS (implicit mode),
 * with a `node:tls` client doing the upgrade by hand.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:tls";
import { existsSync } from "node:fs";
import { OPENSSL, testCerts } from "../../tls/_certs.ts";
import { cat, frame } from "../_raw_client.ts";
import { serveWs } from "../../../src/ws/ws_server.ts";

describe("WebSocketServer over TLS", () => {
  it("WebSocketServer serves wss: handshake, echo and close over TLS, with an https request URL", { skip: !existsSync(OPENSSL) && "openssl not installed" }, async () => {
    const c = testCerts();
    let url = "";
    await using server = await serveWs({
      hostname: "127.0.0.1",
      port: 0,
      tls: { cert: c.server.certPath, key: c.server.keyPath },
      onMessage: (ws, data, text) => void ws.send(data, text),
      onRequest: (req) => {
        url = req.url;
        return new Response("plain");
      },
    });
    const exchange = (bytes: Uint8Array, until: (all: Uint8Array) => boolean) =>
      new Promise<Uint8Array>((resolve, reject) => {
        const socket = connect({ host: "127.0.0.1", port: server.addr.port, ca: c.ca.cert, servername: "localhost" });
        let all: Uint8Array = new Uint8Array(0);
        const timer = setTimeout(() => reject(new Error("timed out")), 5000);
        socket.on("data", (d: Uint8Array) => {
          all = cat(all, new Uint8Array(d));
          if (until(all)) {
            clearTimeout(timer);
            socket.end();
            resolve(all);
          }
        });
        socket.on("error", reject);
        socket.write(bytes);
      });
    const request = new TextEncoder().encode(
      "GET /secure HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    const all = await exchange(
      cat(request, frame({ opcode: 1, payload: "over tls" }), frame({ opcode: 8, payload: "\x03\xe8" })),
      (b) => b.length >= 4 && b[b.length - 4] === 0x88,
    );
    const text = String.fromCharCode(...all); // latin1: one char per byte
    assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.ok(text.includes("\x81\x08over tls"), "the echo");
    assert.deepEqual([...all.subarray(all.length - 4)], [0x88, 2, 0x03, 0xe8]);
    const plain = await exchange(new TextEncoder().encode("GET /page HTTP/1.1\r\nHost: localhost\r\n\r\n"), (b) => new TextDecoder().decode(b).endsWith("plain"));
    assert.match(new TextDecoder().decode(plain), /^HTTP\/1\.1 200 OK/);
    assert.equal(url, "https://localhost/page");
  });
});
