/**
 * The chat demo's page in headless Chromium (playwright-core): a person in
 * the browser and one in a terminal (a TCP client) see each other's
 * messages and both names in the who-list; with "via WS→TCP proxy" on, the
 * page joins the terminal side through the proxy. Screenshots go to
 * .test_build/screenshots/ (chat.png, chat_proxy.png).
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { type ChatServer, startChat } from "../../examples/chat/chat_server.ts";
import { connectClient, type TestClient } from "../_client.ts";
import { type Browser, launchChromium } from "../interop/_chromium.ts";
import { NO_CHROMIUM, ROOT, skipReason } from "../interop/_servers.ts";

const SKIP = skipReason("Chromium (chat demo)", NO_CHROMIUM);
const SHOTS = join(ROOT, ".test_build", "screenshots");
const WAIT = { timeout: 10_000 };

describe("chat demo page in Chromium", { skip: SKIP }, () => {
  let chat: ChatServer | undefined;
  let browser: Browser | undefined;
  let terminal: TestClient | undefined;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    chat = await startChat({ webPort: 0, tcpPort: 0, proxyPort: 0 });
    browser = await launchChromium();
  });
  after(async () => {
    terminal?.close();
    await Promise.allSettled([browser?.close(), chat?.shutdown()]);
  });

  const screenshot = async (name: string): Promise<void> => {
    const path = join(SHOTS, name);
    await browser!.page.screenshot({ path });
    assert.ok(statSync(path).size > 1000, `${path} is not empty`);
  };

  it("the page and a terminal user see each other's messages and both names", async () => {
    const page = browser!.page;
    await page.setViewportSize({ width: 1000, height: 640 });
    await page.goto(chat!.pageUrl, WAIT);
    await page.locator("#status.online").waitFor(WAIT);
    await page.fill("#nick", "browser-bea");
    await page.click("#nick-form button");
    await page.locator("#users li.me", { hasText: "browser-bea" }).waitFor(WAIT);

    terminal = await connectClient(chat!.tcpAddr.port);
    await terminal.waitFor((t) => t.includes("* here: browser-bea (browser)"));
    terminal.send("/nick terminal-tom\r\n");
    await page.locator("#users li", { hasText: "terminal-tom" }).waitFor(WAIT);
    assert.deepEqual(await page.locator("#users li").allTextContents(), [
      "browser-bea",
      "terminal-tom",
    ]);
    assert.equal(await page.locator("#count").textContent(), "(2)");

    await page.fill("#text", "hello from Chromium");
    await page.press("#text", "Enter");
    await terminal.waitFor((t) => /\[\d\d:\d\d\] browser-bea: hello from Chromium\r\n/.test(t));

    terminal.send("hi from the terminal, <b>not bold</b> & <img src=x onerror=alert(1)>\r\n");
    const said = page.locator("#messages li.message", { hasText: "hi from the terminal" });
    await said.waitFor(WAIT);
    assert.match(
      (await said.textContent())!,
      /terminal-tom.*hi from the terminal, <b>not bold<\/b> & <img/,
    );
    assert.equal(
      await page.locator("#messages b, #messages img").count(),
      0,
      "no HTML was interpreted",
    );
    assert.equal(
      await page.locator("#messages li.own", { hasText: "hello from Chromium" }).count(),
      1,
    );
    terminal.send("the page shows who is here, live\r\n");
    await page.locator("#messages li", { hasText: "who is here, live" }).waitFor(WAIT);
    await screenshot("chat.png");
  });

  it("with 'via WS→TCP proxy' on, the page joins as a terminal user through the proxy", async () => {
    const page = browser!.page;
    assert.equal(await page.isEnabled("#via-proxy"), true);
    await page.check("#via-proxy");
    await page.locator("#status", { hasText: "through the proxy" }).waitFor(WAIT);
    await page.locator("#messages li.term", { hasText: "Welcome to the netstreams chat" }).waitFor(
      WAIT,
    );
    await terminal!.waitFor((t) => t.includes("* browser-bea left"));
    await page.fill("#nick", "proxied-pat");
    await page.click("#nick-form button");
    await terminal!.waitFor((t) => / \* guest\d+ is now proxied-pat\r\n/.test(t));
    await page.fill("#text", "hello through the proxy");
    await page.press("#text", "Enter");
    await terminal!.waitFor((t) => t.includes("proxied-pat: hello through the proxy\r\n"));
    terminal!.send("welcome, terminal user\r\n");
    await page.locator("#messages li.term", { hasText: "terminal-tom: welcome, terminal user" })
      .waitFor(WAIT);
    await page.fill("#text", "/who");
    await page.press("#text", "Enter");
    await page.locator("#messages li.term", {
      hasText: "* here: terminal-tom (terminal), proxied-pat (terminal)",
    })
      .waitFor(WAIT);
    await screenshot("chat_proxy.png");
  });
});
