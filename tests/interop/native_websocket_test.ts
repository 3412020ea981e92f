/**
 * The runtime's own `WebSocket` client (Deno's, Bun's, or Node's from 22 on) in
 * the test process, with the same cases as the browser (_web_cases.ts).
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import {
  type RunningServer,
  SERVER_NAME,
  skipReason,
  startEcho,
  startFixture,
} from "./_servers.ts";
import { webCase, type WebCaseArgs } from "./_web_cases.ts";

const g = globalThis as { Deno?: unknown; Bun?: unknown };
const RUNTIME = g.Deno ? "Deno" : g.Bun ? "Bun" : `Node ${process.versions.node}`;
const NO_NATIVE: string | false = typeof globalThis.WebSocket === "function"
  ? false
  : `${RUNTIME} has no globalThis.WebSocket (Node has it from 22 on)`;
const SKIP = skipReason(`${RUNTIME} WebSocket`, NO_NATIVE);

describe(`${RUNTIME}'s native WebSocket client against ${SERVER_NAME}`, () => {
  let echo: RunningServer | undefined;
  let fixture: RunningServer | undefined;

  before(async () => {
    const [e, f] = await Promise.allSettled([
      SKIP ? undefined : startEcho(),
      SKIP ? undefined : startFixture(),
    ]);
    echo = e.status === "fulfilled" ? e.value : undefined;
    fixture = f.status === "fulfilled" ? f.value : undefined;
    for (const r of [e, f]) if (r.status === "rejected") throw r.reason;
  });

  after(async () => {
    await Promise.allSettled([echo?.stop(), fixture?.stop()]);
  });

  const run = async (c: WebCaseArgs["case"], url: string, timeoutMs = 10_000) => {
    const r = await webCase({ case: c, url, timeoutMs });
    assert.equal(r.error, undefined, `${RUNTIME} ${c}: ${r.error}`);
    return r;
  };

  it(
    `ws-echo echoes a text and a binary message to ${RUNTIME}'s WebSocket`,
    { skip: SKIP },
    async () => {
      const r = await run("echo", echo!.url);
      assert.deepEqual(r, {
        ok: true,
        text_ok: true,
        text_type: "string",
        binary_ok: true,
        binary_type: "ArrayBuffer",
      });
    },
  );

  it(`ws-echo echoes 16 MiB binary and text messages to ${RUNTIME}'s WebSocket`, {
    skip: SKIP,
  }, async () => {
    const r = await run("large", echo!.url, 30_000);
    assert.deepEqual(r, {
      ok: true,
      binary_ok: true,
      binary_len: 16 * 1024 * 1024,
      text_ok: true,
      text_len: 16 * 1024 * 1024,
    });
  });

  it(`ws-echo answers ${RUNTIME}'s close with the same code`, { skip: SKIP }, async () => {
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
    `the fixture server receives ${RUNTIME}'s close code and UTF-8 reason`,
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

  it(`the fixture server's close code and reason reach ${RUNTIME}'s WebSocket`, {
    skip: SKIP,
  }, async () => {
    const reason = "server says bye \u2713";
    const r = await run(
      "server-close",
      `${fixture!.url}/close?code=4001&reason=${encodeURIComponent(reason)}`,
    );
    assert.deepEqual(r, { ok: true, opened: true, code: 4001, reason, wasClean: true });
  });

  it(`the fixture server selects a subprotocol ${RUNTIME}'s WebSocket offered`, {
    skip: SKIP,
  }, async () => {
    const r = await run("subprotocol", fixture!.url);
    assert.deepEqual(r, { ok: true, subprotocol: "chat.v2", echo_ok: true });
  });

  it(`the fixture server's 401 is a failed connection for ${RUNTIME}'s WebSocket`, {
    skip: SKIP,
  }, async () => {
    const r = await run("reject", `${fixture!.url}/private`);
    assert.equal(r.opened, false);
    assert.equal(r.errored, true);
    if (!r.closed && /^Node 22\./.test(RUNTIME)) {
      // Node 22's undici fires no close event after a failed handshake (Node 20 has no
      // client, Node 24's closes with 1006): the error is the failed connection.
      return;
    }
    // The WHATWG spec says 1006; Deno 2 reports 0 for a refused handshake.
    assert.ok(r.code === 1006 || (g.Deno && r.code === 0), `close code ${r.code}`);
    assert.equal(r.wasClean, false);
  });
});
