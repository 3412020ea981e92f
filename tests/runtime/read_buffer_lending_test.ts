/**
 * Sockets whose `data` chunks are views of a reused buffer (`sharedChunks`)
 * and that lend it (`lendsReadBuffer`: Deno's, and Node's while a socket
 * has a read buffer of its own): writing those views back without a copy
 * must never send bytes overwritten by a later read, also while writes are
 * queued because the peer does not read for a while (the server ignores
 * backpressure here, so reads go on while writes wait). On Node a socket
 * whose reads fill the shared buffer gets one of its own and lends that:
 * several such sockets at once, next to a socket still on the shared
 * buffer, must not read into each other's lent buffers.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { RuntimeAdapter } from "../../src/runtime/mod.ts";
import { deferred, ENGINES, label, pair, pattern, sleep, within } from "./_helpers.ts";

interface Echo {
  size: number;
  seed: number;
  /** How long the client does not read at first (the server's writes then wait). */
  pauseMs: number;
  /** Size of the client's k-th write. */
  writeSize: (k: number) => number;
  /** Waits after the k-th write (none when undefined). */
  gap?: (k: number) => Promise<void> | undefined;
}

/** Echoes `e.size` bytes of `e.seed`'s pattern through a server socket that writes views of its read buffer where it lends it. */
async function echoThrough(runtime: RuntimeAdapter, e: Echo): Promise<void> {
  const { listener, server, client } = await pair(runtime);
  listener.close();
  const sent = pattern(e.size, e.seed);
  const got = new Uint8Array(e.size);
  let at = 0;
  const done = deferred();
  const serverClosed = deferred<unknown>();
  const clientClosed = deferred<unknown>();
  server.start({
    // A view of the read buffer when the socket lends it, else a copy (the
    // Socket contract for sharedChunks).
    data(chunk) {
      const lend = server.lendsReadBuffer === true || !server.sharedChunks;
      server.write(lend ? chunk : chunk.slice());
    },
    end() {},
    drain() {},
    close: (err) => serverClosed.resolve(err),
  });
  client.start({
    data(chunk) {
      got.set(chunk, at);
      at += chunk.length;
      if (at === e.size) done.resolve();
    },
    end() {},
    drain() {},
    close: (err) => clientClosed.resolve(err),
  });
  client.pause();
  const resumed = sleep(e.pauseMs).then(() => client.resume());
  try {
    for (let off = 0, k = 0; off < e.size; k++) {
      const n = Math.min(e.size - off, e.writeSize(k));
      client.write(sent.subarray(off, off + n));
      off += n;
      await e.gap?.(k);
    }
    await resumed;
    await within(done.promise, 30_000, `the echo of seed ${e.seed}`);
    assert.equal(at, e.size);
    const bad = got.findIndex((b, i) => b !== sent[i]);
    assert.equal(
      bad,
      -1,
      `seed ${e.seed}: echoed bytes equal the bytes sent (first difference at ${bad})`,
    );
  } finally {
    server.abort();
    client.abort();
    await within(
      Promise.all([serverClosed.promise, clientClosed.promise]),
      5000,
      "sockets to close",
    );
  }
}

const runtimeOf = (engine: (typeof ENGINES)[number]) =>
  import("../../src/runtime/mod.ts").then((m) => m.getRuntime({ engine }));

for (const engine of ENGINES) {
  test(`Socket echoes views of its read buffer intact when it lends it (${label(engine)})`, async () => {
    const runtime = await runtimeOf(engine);
    await echoThrough(runtime, {
      size: 4 * 1024 * 1024,
      seed: 7,
      pauseMs: 300,
      writeSize: () => 65536,
    });
  });

  test(`Several sockets echo views of their read buffers intact at once (${label(engine)})`, async () => {
    const runtime = await runtimeOf(engine);
    // Four bulk echoes (own buffers on Node), with writes of uneven sizes so
    // that some reads fill the buffer and some do not, and one echo of small
    // writes (the shared buffer on Node).
    const runs = [0, 1, 2, 3].map((i) =>
      echoThrough(runtime, {
        size: 6 * 1024 * 1024,
        seed: 11 + i,
        pauseMs: 300 + 50 * i,
        writeSize: (k) => k % 3 === 0 ? 1000 : 65536 + 17 * k,
      })
    );
    runs.push(echoThrough(runtime, {
      size: 256 * 1024,
      seed: 99,
      pauseMs: 0,
      writeSize: () => 100,
      gap: (k) => k % 80 === 0 ? sleep(1) : undefined,
    }));
    await Promise.all(runs);
  });
}
