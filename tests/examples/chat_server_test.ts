/**
 * The chat demo's servers (examples/chat/): terminal users over TCP and
 * page users over WebSocket (the `ws` client) in one room, the page's
 * files over HTTP, bad input, and a clean stop on SIGINT/SIGTERM when the
 * example runs as its own process.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { type ChatServer, startChat } from "../../examples/chat/chat_server.ts";
import { connectClient, type TestClient } from "../_client.ts";
import { have, runWithInput } from "../_cli.ts";
import { openWs } from "../ws/_raw_client.ts";
import { joinWeb, startChatProcess, startDemoScript, type WebClient } from "./_chat_clients.ts";

const NEEDS_SIGNALS = process.platform === "win32" ? "needs POSIX signals" : false;
const IS_NODE = !("Deno" in globalThis) && !("Bun" in globalThis);

describe("chat demo servers", () => {
  let chat: ChatServer;
  const open: { close(): void }[] = [];
  const tcp = async (): Promise<TestClient> => {
    const c = await connectClient(chat.tcpAddr.port);
    open.push(c);
    await c.waitFor((t) => t.includes("/nick NAME, /who, /quit."));
    return c;
  };
  const web = async (): Promise<WebClient> => {
    const c = await joinWeb(chat.web.addr.port);
    open.push(c);
    return c;
  };

  before(async () => {
    chat = await startChat({ webPort: 0, tcpPort: 0, proxyPort: 0 });
  });
  after(async () => {
    for (const c of open) c.close();
    await chat.shutdown();
  });

  it("serves the page, its script and style with a content security policy", async () => {
    const base = chat.pageUrl;
    const page = await fetch(base);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type")!, /^text\/html/);
    assert.match(page.headers.get("content-security-policy")!, /script-src 'self'/);
    const html = await page.text();
    assert.match(html, /<script type="module" src="\/chat.js">/);
    const js = await fetch(new URL("/chat.js", base));
    assert.match(js.headers.get("content-type")!, /javascript/);
    assert.match(await js.text(), /textContent/);
    assert.match(await (await fetch(new URL("/chat.css", base))).text(), /#messages/);
    const config = await (await fetch(new URL("/config.json", base))).json();
    assert.equal(config.tcpPort, chat.tcpAddr.port);
    const missing = await fetch(new URL("/../../etc/passwd", base));
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const post = await fetch(base, { method: "POST", body: "x" });
    assert.equal(post.status, 405);
    await post.body?.cancel();
  });

  it("lets a terminal user and a browser user talk to each other", async () => {
    const t = await tcp();
    const w = await web();
    const wNick = w.events[0].nick;
    await t.waitFor((s) => s.includes(`* ${wNick} joined from a browser`));
    t.send("/nick tom\r\n");
    await w.waitFor((e) => e.type === "nick" && e.nick === "tom", 3000, "tom's nick");
    w.send({ type: "say", text: "hello from the page" });
    await t.waitFor((s) => new RegExp(`\\] ${wNick}: hello from the page\\r\\n`).test(s));
    t.send("hello from the terminal\n");
    const m = await w.waitFor(
      (e) => e.type === "message" && e.nick === "tom",
      3000,
      "tom's message",
    );
    assert.equal(m.text, "hello from the terminal");
    assert.equal(m.kind, "tcp");
    assert.equal(typeof m.time, "number");
    const users = w.events.filter((e) => e.type === "users").at(-1).users;
    assert.deepEqual(
      users.filter((u: any) => u.nick === "tom" || u.nick === wNick),
      [{ nick: "tom", kind: "tcp" }, { nick: wNick, kind: "web" }],
    );
    t.send("/who\n");
    await t.waitFor((s) =>
      s.includes(`* here: `) && s.includes(`tom (terminal), ${wNick} (browser)`)
    );
    t.close();
    await w.waitFor((e) => e.type === "leave" && e.nick === "tom", 3000, "tom leaving");
    w.close();
  });

  it("takes a terminal user on socat, as the page says", {
    skip: have("/usr/bin/socat") ? false : "socat not installed",
  }, async () => {
    const w = await web();
    const run = runWithInput("/usr/bin/socat", [
      "-t",
      "2",
      "-",
      `TCP:127.0.0.1:${chat.tcpAddr.port}`,
    ], "/nick sam\nhello from socat\n");
    const m = await w.waitFor(
      (e) => e.type === "message" && e.nick === "sam",
      5000,
      "sam's message",
    );
    assert.equal(m.text, "hello from socat");
    await w.waitFor(
      (e) => e.type === "leave" && e.nick === "sam",
      5000,
      "sam leaving at end of input",
    );
    const { code, stdout } = await run;
    assert.equal(code, 0);
    assert.match(stdout, /^Welcome to the netstreams chat, guest\d+\./);
    assert.match(stdout, /\* guest\d+ is now sam\r\n/);
    w.close();
  });

  it("answers bad JSON, unknown types and binary messages from a page with an error event", async () => {
    const w = await web();
    w.send("this is not json");
    w.send('{"type":"shout","text":"x"}');
    w.send(new Uint8Array([1, 2, 3]));
    w.send({ type: "say", text: 42 });
    await w.waitFor(
      () => w.events.filter((x) => x.type === "error").length === 4,
      3000,
      "four errors",
    );
    const errors = w.events.filter((e) => e.type === "error").map((e) => e.text);
    assert.match(errors[0], /not JSON/);
    assert.match(errors[1], /unknown type "shout"/);
    assert.match(errors[2], /text messages/);
    assert.match(errors[3], /say needs a text string/);
    w.send({ type: "say", text: "still here" });
    await w.waitFor((e) => e.type === "message" && e.text === "still here", 3000, "own message");
    w.close();
  });

  it("keeps HTML as text on both sides", async () => {
    const t = await tcp();
    const w = await web();
    t.send("<b>bold</b> & <script>alert(1)</script>\n");
    const m = await w.waitFor((e) => e.type === "message" && e.text.includes("bold"));
    assert.equal(m.text, "<b>bold</b> & <script>alert(1)</script>");
    t.close();
    w.close();
  });

  it("cuts a terminal line longer than 1024 bytes once and drops the rest of it", async () => {
    const t = await tcp();
    const w = await web();
    t.send("a".repeat(3000) + "\n" + "after\n");
    const cut = await w.waitFor((e) => e.type === "message" && e.text.startsWith("aaa"));
    assert.equal(cut.cut, true);
    assert.equal(cut.text.length, 500);
    await w.waitFor((e) => e.type === "message" && e.text === "after");
    const said = w.events.filter((e) => e.type === "message" && e.nick === cut.nick);
    assert.equal(said.length, 2, "the rest of the long line is not said");
    await t.waitFor((s) => s.includes("* your line was cut"));
    t.close();
    w.close();
  });

  it("drops a terminal user who stops reading once 256 KiB wait for them", async () => {
    const slow = await tcp();
    slow.send("/nick slowpoke\n");
    await slow.waitFor((t) => t.includes("is now slowpoke"));
    const w = await web();
    slow.socket.pause(); // the kernel buffers fill, then the server's queue
    const text = "x".repeat(490);
    // Paced by the server: the page sends while at most 2,048 of its own
    // messages are not back yet, so the server (not the ws client's send
    // buffer) holds the backlog, and the slowpoke's queue grows at the rate
    // the server broadcasts. Loopback kernel buffers may take tens of MiB
    // (tcp_rmem's maximum is 32 MiB on some hosts): bounded by 256 MiB of
    // messages and 60 s.
    let sent = 0, back = 0, seen = 0, dropped = false;
    const countBack = () => { // reads each event once
      for (; seen < w.events.length; seen++) {
        const e = w.events[seen];
        if (e.type === "message" && e.text === text) back++;
        else if (e.type === "leave" && e.nick === "slowpoke") dropped = true;
      }
      return back;
    };
    const deadline = Date.now() + 60_000;
    for (;;) {
      countBack();
      if (dropped || sent >= 524_288 || Date.now() > deadline) break;
      if (sent - back > 2048) {
        await new Promise((r) => setTimeout(r, 2));
        continue;
      }
      for (let i = 0; i < 256; i++) w.send({ type: "say", text });
      sent += 256;
    }
    await w.waitFor((e) => e.type === "leave" && e.nick === "slowpoke", 5000, "slowpoke dropped");
    assert.equal(chat.room.users.some((u) => u.nick === "slowpoke"), false);
    slow.abort();
    w.close();
  });

  it("closes a page that sends a message over 16 KiB with 1009", async () => {
    const w = await web();
    w.send({ type: "say", text: "x".repeat(20_000) });
    const { code } = await w.closed;
    assert.equal(code, 1009);
  });

  it("opens WebSockets only at /chat and only for pages of its own origin", async () => {
    const port = chat.web.addr.port;
    const wrongPath = await openWs(port, { path: "/other", status: 404 });
    wrongPath.close();
    const foreign = await openWs(port, {
      path: "/chat",
      headers: { Origin: "http://evil.example" },
      status: 403,
    });
    foreign.close();
    const own = await openWs(port, {
      path: "/chat",
      headers: { Origin: `http://127.0.0.1:${port}` },
    });
    own.close();
  });

  it("says bye and closes on /quit, and the others see the user leave", async () => {
    const w = await web();
    const t = await tcp();
    t.send("/nick quitter\n/quit\nnot said\n");
    await t.waitFor((s) => s.endsWith("bye\r\n"));
    await t.closed;
    await w.waitFor((e) => e.type === "leave" && e.nick === "quitter");
    assert.equal(w.events.some((e) => e.type === "message" && e.text === "not said"), false);
    w.close();
  });
});

describe("chat demo shutdown", () => {
  it("shutdown() tells everyone, closes pages with 1001 and terminals with FIN", async () => {
    const chat = await startChat({ webPort: 0, tcpPort: 0, proxyPort: 0 });
    const t = await connectClient(chat.tcpAddr.port);
    const w = await joinWeb(chat.web.addr.port);
    await chat.shutdown();
    await w.waitFor((e) => e.type === "notice" && /shutting down/.test(e.text));
    assert.equal((await w.closed).code, 1001);
    await t.closed;
    assert.match(t.text(), /\* the server is shutting down, bye\r\n$/);
    assert.equal(chat.web.listening || chat.tcp.listening, false);
  });

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`the example stops on ${signal} with exit code 0`, { skip: NEEDS_SIGNALS }, async () => {
      const p = await startChatProcess();
      try {
        const t = await connectClient(p.tcpPort);
        await t.waitFor((s) => s.includes("Welcome"));
        const page = await fetch(p.pageUrl);
        assert.equal(page.status, 200);
        await page.body?.cancel();
        // process.kill, not child.kill: Deno's child_process reports any child it
        // signalled itself as killed by the signal, whatever its exit code.
        process.kill(p.child.pid!, signal);
        const { code } = await p.exited;
        assert.equal(code, 0, p.stdout());
        assert.match(p.stdout(), new RegExp(`${signal}: stopping the chat\\nchat stopped\\n$`));
        await t.closed;
        assert.match(t.text(), /shutting down/);
      } finally {
        if (p.child.exitCode === null) p.child.kill("SIGKILL");
      }
    });
  }

  it(
    "npm run demo (scripts/demo.mjs) starts the chat and Ctrl-C to its process group exits 0",
    // The script always runs the example on Deno: once, in the Node lane, is enough.
    { skip: NEEDS_SIGNALS || (IS_NODE ? false : "runs in the Node lane") },
    async () => {
      const p = await startDemoScript();
      try {
        const page = await fetch(p.pageUrl);
        assert.equal(page.status, 200);
        await page.text();
        process.kill(-p.child.pid!, "SIGINT"); // what the terminal does: the script and Deno both get it
        const { code } = await p.exited;
        assert.equal(code, 0, p.stdout());
        assert.match(p.stdout(), /SIGINT: stopping the chat\nchat stopped\n$/);
      } finally {
        if (p.child.exitCode === null) process.kill(-p.child.pid!, "SIGKILL");
      }
    },
  );

  it("the example exits 1 with a message when its port is taken", async () => {
    const busy = await startChat({ webPort: 0, tcpPort: 0, proxyPort: 0 });
    try {
      await assert.rejects(
        startChatProcess(["--web-port", String(busy.web.addr.port)]),
        /exited with 1: .*cannot start the chat: .*EADDRINUSE/s,
      );
    } finally {
      await busy.shutdown();
    }
  });

  it("the example refuses unknown options with exit code 2", async () => {
    await assert.rejects(startChatProcess(["--bogus"]), /exited with 2/);
  });
});
