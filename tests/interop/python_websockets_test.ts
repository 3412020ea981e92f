/**
 * Python's `websockets` (Debian's python3-websockets, under /usr/bin/python3:
 * not the pyenv python3 first on PATH) as a client: _ws_client.py runs one case
 * per process and prints a JSON result. It offers permessage-deflate, as by
 * default, so a server without it must decline the offer.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { runWithInput } from "../_cli.ts";
import {
  here,
  NO_PYTHON,
  PY,
  type RunningServer,
  SERVER_NAME,
  skipReason,
  startEcho,
  startFixture,
} from "./_servers.ts";

const SKIP = skipReason("python websockets", NO_PYTHON);
const CLIENT = here("./_ws_client.py");

/** Runs one case of _ws_client.py against `url` (`timeout` seconds for the case). */
async function py(c: string, url: string, timeout = 10): Promise<Record<string, unknown>> {
  const r = await runWithInput(
    PY,
    [CLIENT, c, url, "--timeout", String(timeout)],
    "",
    (timeout + 5) * 1000,
  );
  const line = r.stdout.trim().split("\n").pop() ?? "";
  let result: Record<string, unknown>;
  try {
    result = JSON.parse(line);
  } catch {
    throw new Error(`_ws_client.py ${c} gave no result (exit ${r.code}): ${r.stdout} ${r.stderr}`);
  }
  assert.equal(result.error, undefined, `python ${c}: ${result.error}`);
  delete result.version;
  return result;
}

describe(`python websockets against ${SERVER_NAME}`, () => {
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

  it(
    "ws-echo echoes a text and a binary message to python websockets",
    { skip: SKIP },
    async () => {
      assert.deepEqual(await py("echo", echo!.url), {
        ok: true,
        text_ok: true,
        text_type: "str",
        binary_ok: true,
        binary_type: "bytes",
      });
    },
  );

  it(
    "ws-echo echoes 16 MiB binary and text messages to python websockets",
    { skip: SKIP },
    async () => {
      assert.deepEqual(await py("large", echo!.url, 30), {
        ok: true,
        binary_ok: true,
        binary_len: 16 * 1024 * 1024,
        text_ok: true,
        text_len: 16 * 1024 * 1024,
      });
    },
  );

  it("ws-echo answers python's ws.ping() with a pong", { skip: SKIP }, async () => {
    const r = await py("ping", echo!.url);
    assert.equal(r.pong, true);
    assert.equal(r.after_ok, true);
    assert.equal(typeof r.latency_s, "number");
  });

  it("ws-echo answers python's close with the same code", { skip: SKIP }, async () => {
    const r = await py("close", echo!.url);
    // RFC 6455 5.5.1: the reply typically echoes the code; the reason may be dropped.
    if (r.reason === "") r.reason = "bye \u2713";
    assert.deepEqual(r, { ok: true, before_ok: true, code: 4000, reason: "bye \u2713" });
  });

  it(
    "the fixture server receives python's close code and UTF-8 reason",
    { skip: SKIP },
    async () => {
      assert.deepEqual(await py("close-seen", fixture!.url), {
        ok: true,
        code: 4000,
        server_saw: { code: 4000, reason: "bye \u2713" },
      });
    },
  );

  it(
    "the fixture server's close code and reason reach python websockets",
    { skip: SKIP },
    async () => {
      const reason = "server says bye \u2713";
      const url = `${fixture!.url}/close?code=4001&reason=${encodeURIComponent(reason)}`;
      assert.deepEqual(await py("server-close", url), {
        ok: true,
        closed: true,
        code: 4001,
        reason,
      });
    },
  );

  it(
    "the fixture server selects a subprotocol python websockets offered",
    { skip: SKIP },
    async () => {
      assert.deepEqual(await py("subprotocol", fixture!.url), {
        ok: true,
        subprotocol: "chat.v2",
        echo_ok: true,
      });
    },
  );

  it("the fixture server refuses python websockets with 401 and WWW-Authenticate", {
    skip: SKIP,
  }, async () => {
    assert.deepEqual(await py("reject", `${fixture!.url}/private`), {
      ok: true,
      rejected: true,
      status: 401,
      www_authenticate: 'Bearer realm="netstreams-interop"',
    });
  });
});
