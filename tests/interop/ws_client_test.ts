/**
 * The `ws` npm client in the test process, with its defaults (it offers
 * permessage-deflate, which a server without it must decline). On Bun,
 * `import "ws"` gives Bun's built-in implementation of the same API.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { deadline, type RunningServer, SERVER_NAME, startEcho, startFixture } from "./_servers.ts";

const MiB = 1024 * 1024;

/** A `ws` client with its events turned into waits (each with a deadline). */
interface Client {
  ws: any;
  /** The next message: its data as a Buffer and whether it was binary. */
  next(ms?: number): Promise<{ data: Uint8Array; binary: boolean }>;
  /** Resolves with the code and reason of the close frame received. */
  closed: Promise<{ code: number; reason: string }>;
  pongs: Uint8Array[];
  waitPong(ms?: number): Promise<Uint8Array>;
}

function connect(url: string, protocols?: string[]): Promise<Client> {
  const ws = new WebSocket(url, protocols, { maxPayload: 64 * MiB });
  const inbox: { data: Uint8Array; binary: boolean }[] = [];
  const pongs: Uint8Array[] = [];
  const waiters = new Set<() => void>();
  const wake = () => [...waiters].forEach((w) => w());
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on("close", (code: number, reason: Uint8Array) => {
      resolve({ code, reason: new TextDecoder().decode(reason) });
      wake();
    });
  });
  let isClosed = false;
  closed.then(() => (isClosed = true));
  ws.on("message", (data: Uint8Array, binary: boolean) => {
    inbox.push({ data, binary });
    wake();
  });
  ws.on("pong", (data: Uint8Array) => {
    pongs.push(data);
    wake();
  });
  const waitFor = <T>(take: () => T | undefined, ms: number, what: string): Promise<T> =>
    deadline(
      new Promise<T>((resolve, reject) => {
        const check = () => {
          const v = take();
          if (v !== undefined) {
            waiters.delete(check);
            resolve(v);
          } else if (isClosed) {
            waiters.delete(check);
            reject(new Error(`closed while waiting for ${what}`));
          }
        };
        waiters.add(check);
        check();
      }),
      ms,
      what,
    );
  const client: Client = {
    ws,
    next: (ms = 10_000) => waitFor(() => inbox.shift(), ms, "a message"),
    closed,
    pongs,
    waitPong: (ms = 5_000) => waitFor(() => pongs.shift(), ms, "a pong"),
  };
  return deadline(
    new Promise((resolve, reject) => {
      ws.once("open", () => resolve(client));
      ws.once("error", reject);
    }),
    5_000,
    `opening ${url}`,
  );
}

/** Closes `c` if still open and waits for the close handshake (2 s). */
async function release(c: Client | undefined): Promise<void> {
  if (!c) return;
  if (c.ws.readyState === WebSocket.OPEN) c.ws.close();
  await deadline(c.closed, 2_000, "close").catch(() => c.ws.terminate());
}

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe(`ws client (npm ws) against ${SERVER_NAME}`, () => {
  let echo: RunningServer | undefined;
  let fixture: RunningServer | undefined;

  before(async () => {
    const [e, f] = await Promise.allSettled([startEcho(), startFixture()]);
    echo = e.status === "fulfilled" ? e.value : undefined;
    fixture = f.status === "fulfilled" ? f.value : undefined;
    for (const r of [e, f]) if (r.status === "rejected") throw r.reason;
  });

  after(async () => {
    await Promise.allSettled([echo?.stop(), fixture?.stop()]);
  });

  it("ws-echo echoes a text and a binary message to the ws client", async () => {
    const c = await connect(echo!.url);
    try {
      const message = "hello, interop: h\u00e9llo \u2713 \u{1F600}";
      const data = new Uint8Array(256).map((_, i) => i);
      c.ws.send(message);
      c.ws.send(data);
      const a = await c.next();
      const b = await c.next();
      assert.equal(a.binary, false);
      assert.equal(text(a.data), message);
      assert.equal(b.binary, true);
      assert.deepEqual(new Uint8Array(b.data), data);
    } finally {
      await release(c);
    }
  });

  it("ws-echo echoes 16 MiB binary and text messages to the ws client", async () => {
    const c = await connect(echo!.url);
    try {
      const data = new Uint8Array(16 * MiB).map((_, i) => i % 251);
      c.ws.send(data);
      const b = await c.next(30_000);
      assert.equal(b.binary, true);
      assert.equal(b.data.length, data.length);
      assert.ok(Buffer.compare(b.data, data) === 0, "16 MiB binary echo differs");
      const unit = "0123456789abcdef\u00e9\u2713"; // 21 UTF-8 bytes
      const message = unit.repeat(Math.floor(16 * MiB / 21)) + "x".repeat((16 * MiB) % 21);
      c.ws.send(message);
      const t = await c.next(30_000);
      assert.equal(t.binary, false);
      assert.equal(t.data.length, 16 * MiB);
      assert.ok(text(t.data) === message, "16 MiB text echo differs");
    } finally {
      await release(c);
    }
  });

  it("ws-echo answers the ws client's ping with a pong carrying the same payload", async () => {
    const c = await connect(echo!.url);
    try {
      c.ws.ping(bytes("interop-ping"));
      assert.equal(text(await c.waitPong()), "interop-ping");
      c.ws.ping(); // empty payload
      assert.equal((await c.waitPong()).length, 0);
      c.ws.send("after ping");
      assert.equal(text((await c.next()).data), "after ping");
    } finally {
      await release(c);
    }
  });

  it("ws-echo answers the ws client's close with the same code", async () => {
    const c = await connect(echo!.url);
    c.ws.close(4000, "bye \u2713");
    const r = await deadline(c.closed, 5_000, "close");
    // RFC 6455 5.5.1: the reply typically echoes the code; the reason may be dropped.
    assert.equal(r.code, 4000);
    assert.ok(r.reason === "" || r.reason === "bye \u2713", `reason ${JSON.stringify(r.reason)}`);
  });

  it("the fixture server receives the ws client's close code and UTF-8 reason", async () => {
    const c = await connect(fixture!.url);
    c.ws.close(4000, "bye \u2713");
    assert.equal((await deadline(c.closed, 5_000, "close")).code, 4000);
    const probe = await connect(`${fixture!.url}/last-close?code=4000`);
    try {
      assert.deepEqual(JSON.parse(text((await probe.next()).data)), {
        code: 4000,
        reason: "bye \u2713",
      });
    } finally {
      await release(probe);
    }
  });

  it("the fixture server's close code and reason reach the ws client", async () => {
    const reason = "server says bye \u2713";
    const c = await connect(`${fixture!.url}/close?code=4001&reason=${encodeURIComponent(reason)}`);
    assert.deepEqual(await deadline(c.closed, 5_000, "close"), { code: 4001, reason });
  });

  it("the fixture server selects a subprotocol the ws client offered", async () => {
    const c = await connect(fixture!.url, ["x-unknown", "chat.v2", "chat.v1"]);
    try {
      assert.equal(c.ws.protocol, "chat.v2");
      c.ws.send("proto");
      assert.equal(text((await c.next()).data), "proto");
    } finally {
      await release(c);
    }
  });

  it("the fixture server refuses the ws client with 401 and WWW-Authenticate", async () => {
    const ws = new WebSocket(`${fixture!.url}/private`);
    const res = await deadline(
      new Promise<{ status: number; auth: string | undefined; body: string }>((resolve, reject) => {
        ws.on("open", () => reject(new Error("opened")));
        ws.on("error", reject);
        ws.on("unexpected-response", (_req: unknown, res: any) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (d: string) => (body += d));
          res.on(
            "end",
            () => resolve({ status: res.statusCode, auth: res.headers["www-authenticate"], body }),
          );
        });
      }),
      5_000,
      "401 response",
    ).finally(() => ws.terminate());
    assert.equal(res.status, 401);
    assert.equal(res.auth, 'Bearer realm="netstreams-interop"');
  });
});
