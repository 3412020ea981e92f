/**
 * Headless Chromium as a WebSocket client: a page served from 127.0.0.1 (see
 * _chromium.ts) opens `new WebSocket("ws://127.0.0.1:PORT")` and runs the
 * cases of _web_cases.ts through `page.evaluate`.
 * Chromium offers permessage-deflate on every connection, so these also check
 * that the offer is declined cleanly.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Browser, launchChromium } from "./_chromium.ts";
import {
  NO_CHROMIUM,
  type RunningServer,
  SERVER_NAME,
  skipReason,
  startEcho,
  startFixture,
} from "./_servers.ts";
import { webCase, type WebCaseArgs, type WebCaseResult } from "./_web_cases.ts";

const SKIP = skipReason("Chromium", NO_CHROMIUM);

describe(`Chromium (playwright-core) against ${SERVER_NAME}`, () => {
  let browser: Browser | undefined;
  let echo: RunningServer | undefined;
  let fixture: RunningServer | undefined;

  before(async () => {
    const [b, e, f] = await Promise.allSettled([
      SKIP ? undefined : launchChromium(),
      SKIP ? undefined : startEcho(),
      SKIP ? undefined : startFixture(),
    ]);
    browser = b.status === "fulfilled" ? b.value : undefined;
    echo = e.status === "fulfilled" ? e.value : undefined;
    fixture = f.status === "fulfilled" ? f.value : undefined;
    for (const r of [b, e, f]) if (r.status === "rejected") throw r.reason;
  });

  after(async () => {
    await Promise.allSettled([browser?.close(), echo?.stop(), fixture?.stop()]);
  });

  const run = async (
    c: WebCaseArgs["case"],
    url: string,
    timeoutMs = 10_000,
  ): Promise<WebCaseResult> => {
    const r = await browser!.page.evaluate(webCase, { case: c, url, timeoutMs });
    assert.equal(r.error, undefined, `Chromium ${c}: ${r.error}`);
    return r;
  };

  it("ws-echo echoes a text and a binary message to Chromium", { skip: SKIP }, async () => {
    const r = await run("echo", echo!.url);
    assert.deepEqual(r, {
      ok: true,
      text_ok: true,
      text_type: "string",
      binary_ok: true,
      binary_type: "ArrayBuffer",
    });
  });

  it(
    "ws-echo echoes 16 MiB binary and text messages to Chromium",
    { skip: SKIP },
    async () => {
      const r = await run("large", echo!.url, 30_000);
      assert.deepEqual(r, {
        ok: true,
        binary_ok: true,
        binary_len: 16 * 1024 * 1024,
        text_ok: true,
        text_len: 16 * 1024 * 1024,
      });
    },
  );

  it("ws-echo answers Chromium's close with the same code", { skip: SKIP }, async () => {
    const r = await run("close", echo!.url);
    // RFC 6455 5.5.1: the reply typically echoes the code; the reason may be dropped.
    if (r.reason === "") r.reason = "bye \u2713";
    assert.deepEqual(r, {
      ok: true,
      before_ok: true,
      code: 4000,
      reason: "bye \u2713",
      wasClean: true,
    });
  });

  it(
    "the fixture server receives Chromium's close code and UTF-8 reason",
    { skip: SKIP },
    async () => {
      const r = await run("close-seen", fixture!.url);
      assert.deepEqual(r, {
        ok: true,
        code: 4000,
        server_saw: { code: 4000, reason: "bye \u2713" },
      });
    },
  );

  it(
    "the fixture server's close code and reason reach Chromium",
    { skip: SKIP },
    async () => {
      const reason = "server says bye \u2713";
      const r = await run(
        "server-close",
        `${fixture!.url}/close?code=4001&reason=${encodeURIComponent(reason)}`,
      );
      assert.deepEqual(r, { ok: true, opened: true, code: 4001, reason, wasClean: true });
    },
  );

  it(
    "the fixture server selects a subprotocol Chromium offered",
    { skip: SKIP },
    async () => {
      const r = await run("subprotocol", fixture!.url);
      assert.deepEqual(r, { ok: true, subprotocol: "chat.v2", echo_ok: true });
    },
  );

  it(
    "the fixture server's 401 is a failed connection in Chromium",
    { skip: SKIP },
    async () => {
      const url = `${fixture!.url}/private`;
      const r = await run("reject", url);
      assert.deepEqual(r, {
        ok: true,
        opened: false,
        errored: true,
        closed: true,
        code: 1006,
        reason: "",
        wasClean: false,
      });
      // The page sees only the failure. Chromium's console names the cause: a 401
      // with WWW-Authenticate goes to its HTTP auth layer ("HTTP Authentication
      // failed; no valid credentials available"), any other status reads
      // "Unexpected response code: N".
      const logged = browser!.console.filter((m) => m.includes(url)).join("\n");
      assert.match(
        logged,
        /HTTP Authentication failed|Unexpected response code: 401/,
        `console: ${logged}`,
      );
    },
  );
});
