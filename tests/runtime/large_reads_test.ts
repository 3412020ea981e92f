/**
 * `setLargeReads` (sockets with a reused read buffer: Deno's, and Node's
 * own, which read into shared buffers): reads may grow
 * to 128 KiB instead of 64 KiB. Sockets without the method deliver fresh
 * chunks of the runtime's own sizes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { deferred, ENGINES, label, pair, pattern, sleep, within } from "./_helpers.ts";

for (const engine of ENGINES) {
  for (const large of [false, true]) {
    test(`Socket reads up to ${large ? "128" : "64"} KiB at once ${large ? "with" : "without"} setLargeReads (${label(engine)})`, async (t) => {
      const runtime = await import("../../src/runtime/mod.ts").then((m) =>
        m.getRuntime({ engine })
      );
      const { listener, server, client } = await pair(runtime);
      listener.close();
      try {
        if (server.setLargeReads === undefined) {
          t.skip(`${label(engine)} sockets have no reused read buffer to size`);
          return;
        }
        if (large) server.setLargeReads();
        const size = 4 * 1024 * 1024;
        const sent = pattern(size, 5);
        const got = new Uint8Array(size);
        let at = 0;
        let biggest = 0;
        const done = deferred();
        server.start({
          data(chunk) {
            got.set(chunk, at);
            at += chunk.length;
            biggest = Math.max(biggest, chunk.length);
            if (at === size) done.resolve();
          },
          end() {},
          drain() {},
          close() {},
        });
        server.pause(); // the kernel buffers pile up: reads then fill the buffer
        for (let off = 0; off < size; off += 65536) client.write(sent.subarray(off, off + 65536));
        await sleep(200);
        server.resume();
        await within(done.promise, 20_000, "4 MiB");
        assert.ok(got.every((b, i) => b === sent[i]), "every byte intact");
        if (large) assert.ok(biggest > 65536, `a read above 64 KiB (largest ${biggest})`);
        assert.ok(biggest <= (large ? 131072 : 65536), `largest read ${biggest}`);
      } finally {
        server.abort();
        client.abort();
      }
    });
  }
}
