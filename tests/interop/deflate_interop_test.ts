/**
 * permessage-deflate with real clients against `ws-echo` (deflate on by
 * default): the `ws` npm client with several perMessageDeflate settings,
 * Python `websockets` (which offers deflate by default) and headless
 * Chromium (which offers it on every connection). Each checks the
 * negotiated extension and that messages echo unchanged.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { runWithInput } from "../_cli.ts";
import { type Browser, launchChromium } from "./_chromium.ts";
import {
  deadline,
  here,
  NO_CHROMIUM,
  NO_PYTHON,
  PY,
  type RunningServer,
  SERVER_NAME,
  skipReason,
  startEcho,
} from "./_servers.ts";

const IS_BUN = (globalThis as { Bun?: unknown }).Bun !== undefined;

/** Opens a `ws` client, sends `messages`, returns the echoes and the negotiated extensions. */
async function wsEcho(url: string, perMessageDeflate: unknown, messages: (string | Uint8Array)[]) {
  const ws = new WebSocket(url, { perMessageDeflate, maxPayload: 64 * 1024 * 1024 } as any);
  let extensions = "";
  ws.on("upgrade", (res: { headers: Record<string, string | undefined> }) => {
    extensions = res.headers["sec-websocket-extensions"] ?? "";
  });
  await deadline(new Promise((r, j) => (ws.on("open", r), ws.on("error", j))), 5000, "open");
  const got: (string | Uint8Array)[] = [];
  const done = new Promise<void>((resolve) => {
    ws.on("message", (data: Uint8Array, binary: boolean) => {
      got.push(binary ? new Uint8Array(data) : new TextDecoder().decode(data));
      if (got.length === messages.length) resolve();
    });
  });
  for (const m of messages) ws.send(m, { binary: typeof m !== "string" });
  await deadline(done, 20_000, "echoes");
  ws.close();
  await deadline(new Promise((r) => ws.on("close", r)), 5000, "close");
  return { got, extensions };
}

const MESSAGES: (string | Uint8Array)[] = [
  "",
  "hi",
  "héllo ✓ ".repeat(100),
  new Uint8Array(70_000).map((_, i) => i % 13),
  "x".repeat(1024 * 1024),
  crypto.getRandomValues(new Uint8Array(50_000)),
  ...Array.from({ length: 50 }, (_, k) => JSON.stringify({ seq: k, text: "again and again" })),
];

describe(`permessage-deflate interop against ${SERVER_NAME}`, () => {
  let echo: RunningServer | undefined;
  before(async () => {
    echo = await startEcho();
  });
  after(async () => {
    await echo?.stop();
  });

  const variants: [string, unknown, RegExp][] = [
    ["defaults", true, /^permessage-deflate/],
    [
      "no context takeover both ways",
      { serverNoContextTakeover: true, clientNoContextTakeover: true, threshold: 0 },
      /^permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=12$/,
    ],
    [
      "9-bit windows",
      { serverMaxWindowBits: 9, clientMaxWindowBits: 9, threshold: 0 },
      /^permessage-deflate; server_max_window_bits=9$/,
    ], /* the client already limits itself to 9 */
    ["15-bit windows, level 9", {
      serverMaxWindowBits: 15,
      clientMaxWindowBits: 15,
      zlibDeflateOptions: { level: 9 },
    }, /permessage-deflate/],
  ];
  for (const [name, options, pattern] of variants) {
    it(`the ws client (perMessageDeflate: ${name}) negotiates permessage-deflate and gets every message back`, async () => {
      const { got, extensions } = await wsEcho(echo!.url, options, MESSAGES);
      if (!IS_BUN) assert.match(extensions, pattern); // Bun's built-in "ws" has no "upgrade" event
      assert.equal(got.length, MESSAGES.length);
      for (const [k, m] of MESSAGES.entries()) assert.deepEqual(got[k], m, `message ${k}`);
    });
  }

  it("the ws client without perMessageDeflate gets no extension and every message back", async () => {
    const { got, extensions } = await wsEcho(echo!.url, false, MESSAGES.slice(0, 5));
    if (!IS_BUN) assert.equal(extensions, "");
    for (const [k, m] of MESSAGES.slice(0, 5).entries()) assert.deepEqual(got[k], m);
  });

  const SKIP_PY = skipReason("python websockets", NO_PYTHON);
  for (
    const [mode, pattern] of [
      ["default", /^permessage-deflate; server_max_window_bits=12; client_max_window_bits=12$/],
      [
        "custom",
        /^permessage-deflate; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12$/,
      ],
      ["off", null],
    ] as const
  ) {
    it(`python websockets (${mode} offer) negotiates as expected and gets every message back`, {
      skip: SKIP_PY,
    }, async () => {
      const r = await runWithInput(
        PY,
        [here("./_ws_deflate_client.py"), mode, echo!.url],
        "",
        40_000,
      );
      const result = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}");
      assert.equal(result.error, undefined, result.error);
      assert.equal(result.ok, true);
      if (pattern === null) assert.equal(result.extensions, null);
      else assert.match(result.extensions, pattern);
    });
  }
});

describe(`permessage-deflate with Chromium against ${SERVER_NAME}`, () => {
  const SKIP = skipReason("Chromium", NO_CHROMIUM);
  let browser: Browser | undefined;
  let echo: RunningServer | undefined;
  before(async () => {
    if (SKIP) return;
    [browser, echo] = await Promise.all([launchChromium(), startEcho()]);
  });
  after(async () => {
    await Promise.allSettled([browser?.close(), echo?.stop()]);
  });

  it("Chromium negotiates permessage-deflate by default and gets text and binary messages back", {
    skip: SKIP,
  }, async () => {
    const r = await browser!.page.evaluate(async (url: string) => {
      // The browser's WebSocket (the name WebSocket is the `ws` import in this file).
      const ws = new (globalThis as any).WebSocket(url);
      ws.binaryType = "arraybuffer";
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = () => reject(new Error("error"));
      });
      const texts = Array.from(
        { length: 100 },
        (_, k) => JSON.stringify({ seq: k, msg: "héllo again ✓" }),
      );
      const big = "abc".repeat(400_000);
      const bin = new Uint8Array(100_000).map((_, i) => i % 7);
      const got: unknown[] = [];
      const all = new Promise<void>((resolve) => {
        ws.onmessage = (e: { data: unknown }) => {
          got.push(e.data);
          if (got.length === texts.length + 2) resolve();
        };
      });
      for (const t of texts) ws.send(t);
      ws.send(big);
      ws.send(bin);
      await Promise.race([all, new Promise((r) => setTimeout(r, 15_000))]);
      const echoedBin = got[texts.length + 1] instanceof ArrayBuffer
        ? new Uint8Array(got[texts.length + 1] as ArrayBuffer)
        : new Uint8Array(0);
      const result = {
        extensions: ws.extensions,
        count: got.length,
        textsOk: texts.every((t, k) => got[k] === t),
        bigOk: got[texts.length] === big,
        binOk: echoedBin.length === bin.length && echoedBin.every((b, i) => b === bin[i]),
      };
      ws.close();
      return result;
    }, echo!.url);
    assert.deepEqual(r, {
      extensions: "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",
      count: 102,
      textsOk: true,
      bigOk: true,
      binOk: true,
    });
  });
});
