/**
 * Headless Chromium as the WebSocket client of the proxy (as noVNC would
 * be): `binary` subprotocol, text and binary through to a TCP echo, a
 * line server's greeting and answers, 4 MiB both ways, and the close codes
 * a browser sees for a target that closes or is unreachable.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Browser, launchChromium } from "../interop/_chromium.ts";
import { NO_CHROMIUM, skipReason } from "../interop/_servers.ts";
import { serveProxy, type WebSocketProxy } from "../../src/proxy/mod.ts";
import { echo, lineServer, type TcpTarget, tcpTarget } from "./_helpers.ts";

const SKIP = skipReason("Chromium", NO_CHROMIUM);

interface Args {
  url: string;
  send: (string | number)[]; // strings as text, numbers as that many binary bytes (i & 255)
  until: number; // bytes to wait for
  close: boolean;
}
interface Result {
  protocol: string;
  text: string;
  bytes: number;
  binaryOnly: boolean;
  checksum: number;
  code: number;
  reason: string;
  error?: string;
}

/** Runs in the page. */
function session(a: Args): Promise<Result> {
  return new Promise((resolve) => {
    const ws = new WebSocket(a.url, ["binary"]);
    ws.binaryType = "arraybuffer";
    const head: number[] = [];
    let bytes = 0;
    let checksum = 0;
    let binaryOnly = true;
    const text = () => new TextDecoder().decode(new Uint8Array(head));
    const timer = setTimeout(
      () =>
        resolve({
          protocol: ws.protocol,
          text: text(),
          bytes,
          binaryOnly,
          checksum,
          code: -1,
          reason: "",
          error: "timeout",
        }),
      15_000,
    );
    ws.onopen = () => {
      for (const s of a.send) {
        if (typeof s === "string") ws.send(s);
        else {
          const b = new Uint8Array(s);
          for (let i = 0; i < s; i++) b[i] = i & 255;
          ws.send(b);
        }
      }
    };
    ws.onmessage = (e) => {
      if (typeof e.data === "string") binaryOnly = false;
      const b = new Uint8Array(e.data as ArrayBuffer);
      for (let i = 0; i < b.length; i++) checksum = (checksum * 31 + b[i]!) >>> 0;
      bytes += b.length;
      for (let i = 0; i < b.length && head.length < 4096; i++) head.push(b[i]!);
      if (a.close && bytes >= a.until) ws.close(1000, "done");
    };
    ws.onclose = (e) => {
      clearTimeout(timer);
      resolve({
        protocol: ws.protocol,
        text: text(),
        bytes,
        binaryOnly,
        checksum,
        code: e.code,
        reason: e.reason,
      });
    };
  });
}

function checksumOf(parts: (string | number)[]): number {
  let c = 0;
  const enc = new TextEncoder();
  for (const p of parts) {
    const b = typeof p === "string"
      ? enc.encode(p)
      : Uint8Array.from({ length: p }, (_, i) => i & 255);
    for (let i = 0; i < b.length; i++) c = (c * 31 + b[i]!) >>> 0;
  }
  return c;
}

describe("WebSocketProxy with Chromium", () => {
  let browser: Browser | undefined;
  let echoTarget: TcpTarget;
  let lines: TcpTarget;
  let toEcho: WebSocketProxy;
  let toLines: WebSocketProxy;
  before(async () => {
    if (SKIP) return;
    echoTarget = await tcpTarget(echo);
    lines = await tcpTarget(lineServer);
    toEcho = await serveProxy({
      hostname: "127.0.0.1",
      port: 0,
      target: `127.0.0.1:${echoTarget.port}`,
    });
    toLines = await serveProxy({
      hostname: "127.0.0.1",
      port: 0,
      target: `127.0.0.1:${lines.port}`,
    });
    browser = await launchChromium();
  });
  after(async () => {
    if (SKIP) return;
    await browser?.close();
    await toEcho.shutdown({ timeout: 500 });
    await toLines.shutdown({ timeout: 500 });
    await echoTarget.close();
    await lines.close();
  });

  it(
    "Chromium through the proxy gets the binary subprotocol and its text and 4 MiB back from an echo, as binary",
    { skip: SKIP },
    async () => {
      const send = ["héllo ", 4 * 1024 * 1024, " ✓"];
      const want = 4 * 1024 * 1024 + new TextEncoder().encode("héllo  ✓").length;
      const r = await browser!.page.evaluate(session, {
        url: `ws://127.0.0.1:${toEcho.addr.port}/`,
        send,
        until: want,
        close: true,
      });
      assert.equal(r.error, undefined);
      assert.equal(r.protocol, "binary");
      assert.equal(r.bytes, want);
      assert.equal(r.checksum, checksumOf(send));
      assert.ok(r.binaryOnly);
      assert.ok(r.text.startsWith("héllo "));
      assert.equal(r.code, 1000);
    },
  );

  it(
    "Chromium talks to a line server and sees 1000 when the server closes",
    { skip: SKIP },
    async () => {
      const r = await browser!.page.evaluate(session, {
        url: `ws://127.0.0.1:${toLines.addr.port}/`,
        send: ["one\n", "bye\n"],
        until: 1e9,
        close: false,
      });
      assert.equal(r.error, undefined);
      assert.equal(r.text, "hello\nyou said: one\ngoodbye\n");
      assert.equal(r.code, 1000);
      assert.equal(r.reason, "target closed the connection");
    },
  );

  it("Chromium sees 1014 and the reason when the target is down", { skip: SKIP }, async () => {
    const gone = await tcpTarget(echo);
    const port = gone.port;
    await gone.close();
    await using proxy = await serveProxy({
      hostname: "127.0.0.1",
      port: 0,
      target: `127.0.0.1:${port}`,
      onError: () => {},
    });
    const r = await browser!.page.evaluate(session, {
      url: `ws://127.0.0.1:${proxy.addr.port}/`,
      send: [],
      until: 1,
      close: false,
    });
    assert.equal(r.code, 1014);
    assert.equal(r.reason, `target 127.0.0.1:${port} refused the connection`);
  });
});
