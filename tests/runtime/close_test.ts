import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ENGINES,
  label,
  pattern,
  recordedPair,
  release,
  runtimeFor,
  sleep,
  within,
} from "./_helpers.ts";

const text = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

for (const engine of ENGINES) {
  test(`Socket delivers the peer's half close as end and can still write back (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const { server, client } = await recordedPair(runtime);
    try {
      client.socket.write(text("question"));
      client.socket.closeWrite();
      await within(server.ended, 5000, "server end");
      assert.equal(decode(server.received()), "question");
      assert.equal(server.socket.write(text("answer after FIN")), true);
      server.socket.closeWrite();
      await within(client.ended, 5000, "client end");
      assert.equal(decode(client.received()), "answer after FIN");
      // Both directions ended: both sockets release themselves, without error.
      assert.equal(await within(server.closed, 5000, "server close"), undefined);
      assert.equal(await within(client.closed, 5000, "client close"), undefined);
    } finally {
      await release(server, client);
    }
  });

  test(`Socket closeWrite sends FIN first and keeps reading the peer (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const { server, client } = await recordedPair(runtime);
    try {
      server.socket.write(text("banner"));
      server.socket.closeWrite();
      assert.equal(
        server.socket.write(text("too late")),
        false,
        "write after closeWrite is refused",
      );
      await within(client.ended, 5000, "client end");
      assert.equal(decode(client.received()), "banner");
      const big = pattern(1_000_000, 5);
      client.socket.write(big);
      client.socket.closeWrite();
      await within(server.ended, 5000, "server end");
      assert.deepEqual(server.received(), big);
      assert.equal(await within(server.closed, 5000, "server close"), undefined);
      assert.equal(await within(client.closed, 5000, "client close"), undefined);
    } finally {
      await release(server, client);
    }
  });

  test(`Socket close delivers every queued byte, then FIN (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const { server, client } = await recordedPair(runtime, true, false);
    const data = pattern(64 * 1024, 9);
    try {
      client.socket.pause(); // let the server's queue build up first
      // At least 4 MiB, and on until the socket queues: with a large tcp_rmem
      // the loopback kernel buffers alone took 4 MiB (bounded at 64 MiB).
      let chunks = 0;
      while (chunks < 64 || (server.socket.writableLength === 0 && chunks < 1024)) {
        server.socket.write(data);
        chunks++;
      }
      assert.ok(server.socket.writableLength > 0);
      server.socket.close();
      await sleep(50);
      client.socket.resume();
      await within(client.ended, 10000, "client end");
      assert.equal(client.bytes, chunks * data.byteLength);
      client.socket.close();
      assert.equal(await within(server.closed, 5000, "server close"), undefined);
      assert.equal(await within(client.closed, 5000, "client close"), undefined);
    } finally {
      await release(server, client);
    }
  });

  test(`Socket close with unread input still delivers its data and a clean FIN (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const { server, client } = await recordedPair(runtime, false);
    const reply = pattern(200_000, 11);
    try {
      server.socket.pause(); // the server never reads what the client sends
      client.socket.write(pattern(100_000, 12));
      await sleep(50);
      server.socket.write(reply);
      server.socket.close(); // must not turn into RST because of the unread input
      await within(client.ended, 5000, "client end");
      assert.deepEqual(client.received(), reply);
      client.socket.closeWrite();
      assert.equal(await within(client.closed, 5000, "client close"), undefined);
      assert.equal(await within(server.closed, 5000, "server close"), undefined);
      assert.equal(server.bytes, 0, "no data is delivered after close()");
    } finally {
      await release(server, client);
    }
  });

  test(`Socket abort resets the connection where canReset (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const { server, client } = await recordedPair(runtime);
    try {
      server.socket.write(pattern(10_000)); // dropped or not, abort must not wait for it
      client.socket.write(text("unread"));
      await sleep(20);
      const canReset = server.socket.canReset;
      server.socket.abort();
      assert.equal(await within(server.closed, 5000, "server close"), undefined);
      if (canReset) {
        const error = await within(client.closed, 5000, "client close") as Error & {
          code?: string;
        };
        assert.ok(error instanceof Error, "the peer sees an error");
        assert.equal(error.code, "ECONNRESET");
      } else {
        // Deno native: no RST available; the peer sees a plain FIN.
        await within(client.ended, 5000, "client end");
        client.socket.close();
        assert.equal(await within(client.closed, 5000, "client close"), undefined);
      }
    } finally {
      await release(server, client);
    }
  });

  test(`Socket methods are harmless no-ops once closed (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const { server, client } = await recordedPair(runtime);
    server.socket.abort();
    await within(server.closed, 5000, "server close");
    await within(Promise.race([client.closed, client.ended]), 5000, "client notices");
    client.socket.abort();
    await within(client.closed, 5000, "client close");
    for (const socket of [server.socket, client.socket]) {
      assert.equal(socket.write(text("x")), false);
      socket.cork();
      socket.uncork();
      socket.pause();
      socket.resume();
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 1000);
      socket.closeWrite();
      socket.close();
      socket.abort();
      assert.equal(socket.writableLength, 0);
    }
    const noop = () => {};
    assert.throws(
      () => server.socket.start({ data: noop, end: noop, drain: noop, close: noop }),
      /already started/,
    );
  });
}
