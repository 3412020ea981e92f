import { test } from "node:test";
import assert from "node:assert/strict";
import { socketToStreams } from "../../src/net/socket_streams.ts";
import {
  concat,
  ENGINES,
  label,
  pair,
  pattern,
  readAll,
  record,
  release,
  runtimeFor,
  sleep,
  within,
} from "./_helpers.ts";

const text = (s: string) => new TextEncoder().encode(s);

for (const engine of ENGINES) {
  test(`socketToStreams gives chunks that stay intact after later reads (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const { listener, server: s, client: c } = await pair(runtime);
    listener.close();
    const { readable, closed } = socketToStreams(s);
    const client = record(c);
    try {
      for (let i = 0; i < 8; i++) {
        client.socket.write(new Uint8Array(3000).fill(i + 1));
        await sleep(5);
      }
      client.socket.closeWrite();
      const chunks: Uint8Array[] = [];
      for await (const chunk of readable) chunks.push(chunk);
      const all = chunks.flatMap((chunk) => [...chunk]);
      assert.equal(all.length, 24000);
      for (let i = 0; i < 8; i++) assert.equal(all[i * 3000 + 1500], i + 1);
    } finally {
      s.abort();
      await release(client);
      await within(closed, 5000, "server close");
    }
  });

  test(`socketToStreams keeps large reads without copying them, and queued chunks stay intact (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const { listener, server: s, client: c } = await pair(runtime);
    listener.close();
    // Count the bytes keepChunk gives away (the chunk itself) and those it copies.
    let given = 0;
    let copied = 0;
    const keep = s.keepChunk?.bind(s);
    if (keep !== undefined) {
      s.keepChunk = (chunk) => {
        const kept = keep(chunk);
        if (kept === chunk) given += chunk.byteLength;
        else copied += chunk.byteLength;
        return kept;
      };
    }
    const { readable, closed } = socketToStreams(s, { readableHighWaterMark: 1 << 20 });
    const client = record(c);
    try {
      const sent = pattern(4 << 20, 3);
      for (let i = 0; i < sent.length; i += 65536) client.socket.write(sent.subarray(i, i + 65536));
      client.socket.closeWrite();
      await sleep(100); // the kernel's buffers fill: reads come full
      const chunks: Uint8Array[] = [];
      for await (const chunk of readable) {
        chunks.push(chunk);
        await sleep(0); // later reads land while earlier chunks wait here
      }
      const got = concat(chunks);
      assert.equal(got.length, sent.length);
      const wrong = got.findIndex((b, i) => b !== sent[i]);
      assert.equal(wrong, -1, `byte ${wrong} was overwritten by a later read`);
      if (s.sharedChunks) {
        assert.ok(keep !== undefined, "a socket with borrowed chunks has keepChunk");
        assert.ok(given > copied, `bytes given away ${given}, copied ${copied}`);
      } else {
        assert.equal(given + copied, 0, "fresh chunks are kept as they are");
      }
    } finally {
      s.abort();
      await release(client);
      await within(closed, 5000, "server close");
    }
  });

  test(`socketToStreams writable close half-closes while the readable keeps reading (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const { listener, server: s, client: c } = await pair(runtime);
    listener.close();
    const { readable, writable, closed } = socketToStreams(s);
    const client = record(c);
    const writer = writable.getWriter();
    await writer.write(text("bye"));
    await writer.close();
    await within(client.ended, 5000, "client end");
    assert.equal(new TextDecoder().decode(client.received()), "bye");
    const late = pattern(200_000, 8);
    client.socket.write(late);
    client.socket.closeWrite();
    assert.deepEqual(await within(readAll(readable), 5000, "server read"), late);
    assert.equal(await within(closed, 5000, "server close"), undefined);
    assert.equal(await within(client.closed, 5000, "client close"), undefined);
  });

  test(`socketToStreams writable abort resets the connection where the runtime can (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const { listener, server: s, client: c } = await pair(runtime);
    listener.close();
    const { readable, writable, closed } = socketToStreams(s);
    const client = record(c);
    try {
      await writable.abort(new Error("give up"));
      assert.equal(await within(closed, 5000, "server close"), undefined);
      await assert.rejects(
        readable.getReader().read().then((r) => {
          if (r.done) throw new Error("closed");
        }),
      );
      if (s.canReset) {
        const error = await within(client.closed, 5000, "client close") as Error & {
          code?: string;
        };
        assert.equal(error?.code, "ECONNRESET");
      } else {
        await within(client.ended, 5000, "client end");
      }
    } finally {
      await release(client);
    }
  });

  test(`socketToStreams closes the socket once the readable is cancelled and the writable closed (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const { listener, server: s, client: c } = await pair(runtime);
    listener.close();
    const { readable, writable, closed } = socketToStreams(s);
    const client = record(c);
    try {
      await readable.cancel();
      client.socket.write(text("ignored"));
      const writer = writable.getWriter();
      await writer.write(text("last words"));
      await writer.close();
      await within(client.ended, 5000, "client end");
      assert.equal(new TextDecoder().decode(client.received()), "last words");
      client.socket.closeWrite();
      assert.equal(await within(closed, 5000, "server close"), undefined);
      // Node 20 throws synchronously here (an internal assertion in its web streams).
      await assert.rejects(async () => await writer.write(text("x")));
    } finally {
      await release(client);
    }
  });
}

test("socketToStreams rejects bad options and non-byte chunks", async () => {
  const runtime = await runtimeFor("native");
  const { listener, server: s, client: c } = await pair(runtime);
  listener.close();
  const client = record(c);
  try {
    assert.throws(() => socketToStreams(s, { readableHighWaterMark: -1 }), RangeError);
    assert.throws(() => socketToStreams(s, { writableHighWaterMark: 1.5 }), RangeError);
    const { writable, closed } = socketToStreams(s);
    await assert.rejects(writable.getWriter().write("text" as never), TypeError);
    s.abort();
    await within(closed, 5000, "server close");
  } finally {
    await release(client);
  }
});
