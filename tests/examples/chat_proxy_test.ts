/**
 * The chat demo's WS→TCP proxy (examples/chat/proxy_side.ts over
 * `serveProxy`): a WebSocket client speaking the line protocol in binary
 * messages joins the terminal side of the room.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { type ChatServer, startChat } from "../../examples/chat/chat_server.ts";
import { openWs } from "../ws/_raw_client.ts";
import { joinWeb } from "./_chat_clients.ts";

/** A `ws` client of the proxy: the text of everything received, and a wait on it. */
function proxyClient(url: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, ["binary"], { headers });
  let text = "";
  const decoder = new TextDecoder();
  const waiters = new Set<() => void>();
  ws.on("message", (data: Uint8Array) => {
    text += decoder.decode(data, { stream: true });
    [...waiters].forEach((w) => w());
  });
  ws.on("error", () => {});
  const opened = new Promise<string>((resolve, reject) => {
    ws.once("open", () => resolve(ws.protocol));
    ws.once("error", reject);
  });
  const closed = new Promise<number>((resolve) =>
    ws.once("close", (code: number) => resolve(code))
  );
  const waitFor = (pred: (t: string) => boolean, ms = 3000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        if (!pred(text)) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(text);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out; received ${JSON.stringify(text.slice(-500))}`));
      }, ms);
      waiters.add(check);
      check();
    });
  const line = (s: string) => ws.send(new TextEncoder().encode(s + "\r\n"));
  return { ws, opened, closed, waitFor, line };
}

describe("chat demo through the WS→TCP proxy", () => {
  let chat: ChatServer;
  before(async () => {
    chat = await startChat({ webPort: 0, tcpPort: 0, proxyPort: 0 });
  });
  after(() => chat.shutdown());

  it("a WebSocket client of the proxy joins as a terminal user and talks with the page", async () => {
    const page = await joinWeb(chat.web.addr.port);
    const p = proxyClient(chat.proxyUrl);
    assert.equal(await p.opened, "binary");
    await p.waitFor((t) => t.includes("Welcome to the netstreams chat"));
    p.line("/nick via-proxy");
    await page.waitFor((e) => e.type === "nick" && e.nick === "via-proxy", 3000, "the nick");
    p.line("hello through the proxy");
    const m = await page.waitFor(
      (e) => e.type === "message" && e.nick === "via-proxy",
      3000,
      "message",
    );
    assert.equal(m.text, "hello through the proxy");
    assert.equal(m.kind, "tcp", "through the proxy one is a terminal user");
    page.send({ type: "say", text: "hello back" });
    await p.waitFor((t) => new RegExp(`\\] ${page.events[0].nick}: hello back\\r\\n`).test(t));
    p.line("/quit");
    await p.waitFor((t) => t.endsWith("bye\r\n"));
    assert.equal(await p.closed, 1000, "the TCP side's close ends the WebSocket normally");
    await page.waitFor((e) => e.type === "leave" && e.nick === "via-proxy", 3000, "leave");
    page.close();
  });

  it("the proxy serves only the chat page's own origin and non-browser clients", async () => {
    const port = chat.proxy.addr.port;
    const foreign = await openWs(port, {
      headers: { Origin: "http://evil.example" },
      protocols: ["binary"],
      status: 403,
    });
    foreign.close();
    const otherPort = await openWs(port, {
      headers: { Origin: `http://127.0.0.1:${port}` },
      protocols: ["binary"],
      status: 403,
    });
    otherPort.close();
    const own = await openWs(port, {
      headers: { Origin: `http://127.0.0.1:${chat.web.addr.port}` },
      protocols: ["binary"],
    });
    own.close();
    const plain = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(plain.status, 426);
    assert.match(await plain.text(), /WebSocket-to-TCP proxy/);
  });
});
