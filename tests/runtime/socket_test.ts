import { test } from "node:test";
import assert from "node:assert/strict";
import type { Socket } from "../../src/net/types.ts";
import { runtimeName } from "../../src/runtime/mod.ts";
import {
  concat,
  deferred,
  echoServer,
  ENGINES,
  label,
  listen,
  pair,
  pattern,
  record,
  recordedPair,
  release,
  run,
  runtimeFor,
  sleep,
  within,
} from "./_helpers.ts";
import { sockopts, sockoptUnavailable } from "./_sockopt.ts";

const text = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

for (const engine of ENGINES) {
  test(`Socket reports matching remote and local addresses on both ends (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const { listener, server: s, client: c } = await pair(runtime);
    const port = listener.addr.port;
    listener.close();
    const server = record(s);
    const client = record(c);
    try {
      assert.deepEqual(client.socket.remoteAddr, { hostname: "127.0.0.1", port });
      assert.deepEqual(server.socket.localAddr, { hostname: "127.0.0.1", port });
      assert.deepEqual(server.socket.remoteAddr, client.socket.localAddr);
      assert.ok(client.socket.localAddr.port > 0);
    } finally {
      await release(server, client);
    }
    // Still known after close.
    assert.equal(client.socket.remoteAddr.port, port);
  });

  test(`Socket setNoDelay and setKeepAlive set the socket's options (${label(engine)})`, {
    skip: sockoptUnavailable(),
  }, async () => {
    const runtime = await runtimeFor(engine);
    const { server, client } = await recordedPair(runtime);
    const s = server.socket;
    const opts = () => sockopts(s.localAddr.port, s.remoteAddr.port);
    // Deno's native sockets have no keep-alive time (README, Runtimes), and Bun's
    // node:net sockets keep TCP_NODELAY on whatever setNoDelay(false) says.
    const delay = !(runtimeName() === "deno" && engine === "native");
    const nagle = !(runtimeName() === "bun" && engine === "node");
    try {
      s.setNoDelay(true);
      assert.equal((await opts()).noDelay, true, "setNoDelay(true)");
      s.setNoDelay(false);
      if (nagle) assert.equal((await opts()).noDelay, false, "setNoDelay(false)");
      s.setKeepAlive(true, 7_000);
      const on = await opts();
      assert.equal(on.keepAlive, true, "setKeepAlive(true, 7000)");
      if (delay) assert.equal(on.keepIdle, 7, "keep-alive time of 7 s");
      s.setKeepAlive(false);
      assert.equal((await opts()).keepAlive, false, "setKeepAlive(false)");
      s.write(text("ok"));
      s.closeWrite();
      await within(client.ended, 5000, "client end");
      assert.equal(decode(client.received()), "ok");
    } finally {
      await release(server, client);
    }
  });

  test(`Socket connect to a closed port rejects with ECONNREFUSED (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const probe = await runtime.listen({ hostname: "127.0.0.1", port: 0 }, (s) => s.abort());
    const port = probe.addr.port;
    probe.close();
    await sleep(20);
    await assert.rejects(
      runtime.connect({ hostname: "127.0.0.1", port }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, "ECONNREFUSED");
        assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
        return true;
      },
    );
  });

  test(`Socket exchanges bytes through the hot-path handlers with cork and uncork (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const done = deferred<Error | undefined>();
    // An echo server on the plain handlers, one batch of writes per read.
    const listener = await runtime.listen({ hostname: "127.0.0.1", port: 0 }, (socket) => {
      socket.start({
        data(chunk) {
          const copy = socket.sharedChunks ? chunk.slice() : chunk;
          socket.cork();
          socket.write(copy.subarray(0, 1));
          socket.write(copy.subarray(1));
          socket.uncork();
        },
        end: () => socket.closeWrite(),
        drain() {},
        close: (error) => done.resolve(error),
      });
    });
    const client = record(
      await runtime.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
    );
    listener.close();
    try {
      const messages = Array.from({ length: 50 }, (_, i) => text(`line ${i}\n`));
      for (const message of messages) client.socket.write(message);
      client.socket.write(pattern(500_000));
      client.socket.closeWrite();
      await within(client.ended, 5000, "client end");
      assert.deepEqual(client.received(), concat([...messages, pattern(500_000)]));
      assert.equal(await within(done.promise, 5000, "server close"), undefined);
      assert.equal(await within(client.closed, 5000, "client close"), undefined);
    } finally {
      await release(client);
    }
  });

  test(`Socket writePrefix writes buf[0, length) in order with write, corked or not, past a full kernel buffer (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const { server, client } = await recordedPair(runtime);
    const sock = server.socket;
    // Bun's native socket offers it (a view costs there); the others need not.
    assert.equal(sock.writePrefix !== undefined, runtimeName() === "bun" && engine === "native");
    const writePrefix = (buf: Uint8Array, n: number) =>
      sock.writePrefix ? sock.writePrefix(buf, n) : sock.write(buf.subarray(0, n));
    try {
      client.socket.pause(); // the kernel's buffers fill: later writes are queued
      const want: Uint8Array[] = [];
      for (let i = 0; i < 120; i++) {
        const buf = pattern(96 * 1024, i + 1);
        const n = 1 + ((i * 7919) % buf.byteLength);
        if (i % 3 === 1) sock.cork();
        writePrefix(buf, n);
        want.push(buf.subarray(0, n));
        if (i % 5 === 0) {
          const extra = text(`-${i}-`);
          sock.write(extra);
          want.push(extra);
        }
        if (i % 3 === 1) sock.uncork();
      }
      assert.ok(sock.writableLength > 0, "some bytes wait in the socket's queue");
      sock.closeWrite();
      client.socket.resume();
      await within(client.ended, 10_000, "client end");
      assert.deepEqual(client.received(), concat(want));
    } finally {
      await release(server, client);
    }
  });

  test(`Socket keeps the order of small and large writes in read batches while the kernel fills and empties (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const { server, client } = await recordedPair(runtime);
    const sock = server.socket;
    try {
      const want: Uint8Array[] = [];
      const send = (chunk: Uint8Array) => {
        sock.write(chunk);
        want.push(chunk);
      };
      let queued = 0;
      for (let i = 0; i < 70; i++) {
        // Batches as a connection writes them per read: a small write, then
        // a large one (written at once on Bun), then small ones again.
        if (i === 5) client.socket.pause(); // the kernel's buffers fill
        if (i === 60) client.socket.resume();
        sock.cork();
        if (i % 2 === 0) send(text(`<${i}>`));
        send(pattern(128 * 1024 + ((i * 7919) % 100_000), i + 1));
        if (i % 3 === 0) send(text(`</${i}>`));
        if (i % 4 === 0) send(pattern(70_000, i + 2));
        sock.uncork();
        queued = Math.max(queued, sock.writableLength);
        if (i % 10 === 9) await sleep(1);
      }
      assert.ok(queued > 0, "some bytes waited in the socket's queue");
      sock.closeWrite();
      await within(client.ended, 10_000, "client end");
      assert.deepEqual(client.received(), concat(want));
    } finally {
      await release(server, client);
    }
  });

  test(`Socket delivers nothing while paused and loses nothing sent before start (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const srv = await listen(runtime, { hostname: "127.0.0.1", port: 0 });
    const client = record(
      await runtime.connect({ hostname: "127.0.0.1", port: srv.listener.addr.port }),
    );
    const raw: Socket = await srv.next();
    srv.listener.close();
    client.socket.write(text("early "));
    await sleep(30); // the bytes arrive before the server calls start()
    const w = watch(raw);
    try {
      await sleep(30);
      raw.pause();
      w.paused = true;
      client.socket.write(text("while paused"));
      client.socket.closeWrite();
      await sleep(100);
      assert.equal(w.dataWhilePaused, 0);
      assert.equal(w.endWhilePaused, false, "the peer's FIN waits for resume");
      w.paused = false;
      raw.resume();
      await within(w.ended.promise, 5000, "server end");
      assert.equal(decode(concat(w.chunks)), "early while paused");
      raw.closeWrite();
      assert.equal(await within(w.closed.promise, 5000, "server close"), undefined);
    } finally {
      raw.abort();
      await release(client);
    }
  });

  test(`Socket paused holds a FIN that comes without data until resume (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const { listener, server: raw, client: c } = await pair(runtime);
    listener.close();
    const client = record(c);
    const w = watch(raw);
    try {
      raw.pause();
      w.paused = true;
      client.socket.closeWrite();
      await sleep(150);
      assert.equal(w.endWhilePaused, false, "no end while paused");
      w.paused = false;
      raw.resume();
      await within(w.ended.promise, 5000, "server end after resume");
      raw.closeWrite();
      assert.equal(await within(w.closed.promise, 5000, "server close"), undefined);
    } finally {
      raw.abort();
      await release(client);
    }
  });

  test(`Socket pause right after start, and after a resume in the same tick, holds (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const { listener, server: raw, client: c } = await pair(runtime);
    listener.close();
    const client = record(c);
    const chunks: Uint8Array[] = [];
    let received = 0;
    const ended = deferred();
    const closed = deferred<Error | undefined>();
    raw.start({
      data(chunk) {
        received += chunk.length;
        chunks.push(chunk.slice());
      },
      end: () => ended.resolve(),
      drain() {},
      close: (error) => closed.resolve(error),
    });
    raw.pause();
    try {
      const sent = pattern(1_000_000);
      client.socket.write(sent);
      client.socket.closeWrite();
      await sleep(150);
      assert.equal(received, 0, "nothing is read after a pause made right after start");
      raw.resume();
      raw.pause(); // the same tick: the resume's follow-up must not restart reading
      const before = received;
      await sleep(150);
      assert.equal(received, before, "a pause after a resume in the same tick holds");
      raw.resume();
      await within(ended.promise, 5000, "server end");
      assert.deepEqual(concat(chunks), sent);
      raw.closeWrite();
      assert.equal(await within(closed.promise, 5000, "server close"), undefined);
    } finally {
      raw.abort();
      await release(client);
    }
  });

  test(`Socket chunks stay valid after data returns only when sharedChunks is false (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const { listener, server: s, client: c } = await pair(runtime);
    listener.close();
    const kept: Uint8Array[] = [];
    const copies: Uint8Array[] = [];
    const ended = deferred();
    const closed = deferred<Error | undefined>();
    s.start({
      data(chunk) {
        kept.push(chunk);
        copies.push(chunk.slice());
      },
      end: () => ended.resolve(),
      drain() {},
      close: (error) => closed.resolve(error),
    });
    const client = record(c);
    try {
      for (let i = 0; i < 5; i++) {
        client.socket.write(new Uint8Array(100).fill(65 + i));
        await sleep(10);
      }
      client.socket.closeWrite();
      await within(ended.promise, 5000, "server end");
      const intact = kept.every((chunk, i) => chunk.every((b, j) => b === copies[i]![j]));
      if (!s.sharedChunks) assert.ok(intact, "unshared chunks are never overwritten");
      // Deno's own sockets and Node's (reading into one shared buffer) reuse their buffer;
      // Bun, and node:net on Deno and Bun, hand out fresh chunks.
      const shared = engine === "native" ? runtimeName() !== "bun" : false;
      assert.equal(s.sharedChunks, shared);
      s.closeWrite();
      await within(closed.promise, 5000, "server close");
    } finally {
      s.abort();
      await release(client);
    }
  });

  test(`Socket echo server answers a real socat client (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const server = await echoServer(runtime, { hostname: "127.0.0.1", port: 0 });
    try {
      const input = text("hello from socat\n".repeat(1000));
      const result = await run(
        "/usr/bin/socat",
        ["-t", "5", "-", `TCP:127.0.0.1:${server.listener.addr.port}`],
        input,
      );
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, decode(input));
    } finally {
      server.listener.close();
    }
    await server.settled();
  });

  test(`Socket talks to a real python3 peer with half close (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const srv = await listen(runtime, { hostname: "::1", port: 0 });
    const script = `
import socket, sys
s = socket.create_connection(("::1", int(sys.argv[1])))
s.sendall(b"ping" * 10000)
s.shutdown(socket.SHUT_WR)
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(len(data), data[:6].decode())
`;
    const running = run("/usr/bin/python3", ["-c", script, String(srv.listener.addr.port)]);
    try {
      const server = record(await srv.next());
      await within(server.ended, 5000, "server end");
      assert.equal(server.received().byteLength, 40000);
      server.socket.write(text("pong! ".repeat(5000)));
      server.socket.closeWrite();
      const result = await within(running, 10000, "python");
      assert.equal(result.stdout.trim(), "30000 pong!", result.stderr);
      assert.equal(await within(server.closed, 5000, "server close"), undefined);
    } finally {
      srv.listener.close();
      await running;
    }
  });
}

const FULL_BACKLOG = `
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
s.listen(0)
print(s.getsockname()[1], flush=True)
sys.stdin.read()
`;

for (const engine of ENGINES) {
  test(`Socket connect gives up after its timeout with ETIMEDOUT (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    // A python3 listener that never accepts: once its backlog is full, SYNs go unanswered.
    const { spawn } = await import("node:child_process");
    const child = spawn("/usr/bin/python3", ["-c", FULL_BACKLOG]);
    const exited = new Promise((resolve) => child.on("close", resolve));
    const opened: Socket[] = [];
    try {
      const port = await within(
        new Promise<number>((resolve) =>
          child.stdout!.once("data", (d: Uint8Array) => resolve(Number(decode(d).trim())))
        ),
        10000,
        "python to listen",
      );
      let timedOut: (Error & { code?: string }) | undefined;
      for (let i = 0; i < 6 && timedOut === undefined; i++) {
        const started = Date.now();
        try {
          opened.push(await runtime.connect({ hostname: "127.0.0.1", port, timeout: 200 }));
        } catch (err) {
          timedOut = err as Error & { code?: string };
          assert.ok(Date.now() - started >= 150, "not before the timeout");
        }
      }
      assert.ok(timedOut, "a connection attempt timed out");
      assert.equal(timedOut.code, "ETIMEDOUT");
      assert.match(timedOut.message, /within 200 ms/);
    } finally {
      for (const socket of opened) record(socket).socket.abort();
      child.stdin!.end();
      await exited;
    }
  });
}

/**
 * Starts `raw` recording its chunks, and counting data and `end` that come
 * while `paused` is set.
 */
function watch(raw: Socket) {
  const w = {
    paused: false,
    chunks: [] as Uint8Array[],
    dataWhilePaused: 0,
    endWhilePaused: false,
    ended: deferred(),
    closed: deferred<Error | undefined>(),
  };
  raw.start({
    data(chunk) {
      if (w.paused) w.dataWhilePaused++;
      w.chunks.push(chunk.slice());
    },
    end: () => {
      w.endWhilePaused ||= w.paused;
      w.ended.resolve();
    },
    drain() {},
    close: (error) => w.closed.resolve(error),
  });
  return w;
}
