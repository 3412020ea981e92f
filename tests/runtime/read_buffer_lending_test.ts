/**
 * Sockets whose `data` chunks are views of a reused buffer (`sharedChunks`)
 * and that lend it (`lendsReadBuffer`, Deno): writing those views back
 * without a copy must never send bytes overwritten by a later read, also
 * while writes are queued because the peer does not read for a while (the
 * server ignores backpressure here, so reads go on while writes wait).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Socket } from "../../src/net/types.ts";
import { deferred, ENGINES, label, pair, pattern, sleep, within } from "./_helpers.ts";

for (const engine of ENGINES) {
  test(`Socket echoes views of its read buffer intact when it lends it (${label(engine)})`, async () => {
    const runtime = await import("../../src/runtime/mod.ts").then((m) => m.getRuntime({ engine }));
    const { listener, server, client } = await pair(runtime);
    listener.close();
    const size = 4 * 1024 * 1024;
    const sent = pattern(size, 7);
    const got = new Uint8Array(size);
    let at = 0;
    const done = deferred();
    const closed: Promise<unknown>[] = [];
    const watch = (s: Socket) => {
      const d = deferred<unknown>();
      closed.push(d.promise);
      return d;
    };
    const serverClosed = watch(server);
    const clientClosed = watch(client);
    server.start({
      // Echo: a view of the read buffer when the socket lends it, else a copy
      // (the Socket contract for sharedChunks).
      data(chunk) {
        const lend = server.lendsReadBuffer === true || !server.sharedChunks;
        server.write(lend ? chunk : chunk.slice());
      },
      end() {},
      drain() {},
      close: (e) => serverClosed.resolve(e),
    });
    client.start({
      data(chunk) {
        got.set(chunk, at);
        at += chunk.length;
        if (at === size) done.resolve();
      },
      end() {},
      drain() {},
      close: (e) => clientClosed.resolve(e),
    });
    // Not reading at first: the server's kernel send buffer fills and its
    // writes wait while it goes on reading.
    client.pause();
    const resumed = sleep(300).then(() => client.resume());
    try {
      for (let off = 0; off < size; off += 65536) client.write(sent.subarray(off, off + 65536));
      await resumed;
      await within(done.promise, 20_000, "the echo of 4 MiB");
      assert.equal(at, size);
      assert.ok(got.every((b, i) => b === sent[i]), "echoed bytes equal the bytes sent");
    } finally {
      server.abort();
      client.abort();
      await within(Promise.all(closed), 5000, "sockets to close");
    }
  });
}
