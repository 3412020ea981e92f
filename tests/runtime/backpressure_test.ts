import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { socketToStreams } from "../../src/net/socket_streams.ts";
import {
  blast,
  deferred,
  ENGINES,
  label,
  listen,
  pair,
  record,
  recordedPair,
  release,
  rss,
  runtimeFor,
  settlesWithin,
  sleep,
  within,
} from "./_helpers.ts";

const MB = 1024 * 1024;

for (const engine of ENGINES) {
  test(`Socket stalls a blasting peer while nobody reads its readable stream (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const { listener, server: s, client: c } = await pair(runtime);
    listener.close();
    const { readable, closed } = socketToStreams(s); // never read (yet)
    const client = record(c);
    try {
      const before = rss();
      const first = await blast(client, 64 * MB, 500);
      const grown = rss() - before;
      assert.ok(first.stalled, "the client's writes stall");
      assert.ok(first.accepted < 16 * MB, `accepted ${first.accepted} bytes, expected < 16 MB`);
      assert.ok(grown < 32 * MB, `RSS grew by ${grown} bytes while 64 MB were offered`);
      // Reading again resumes the socket, and the client can write more.
      const reader = readable.getReader();
      let read = 0;
      const reading = (async () => {
        while (read < first.accepted + 2 * MB) {
          const { value, done } = await reader.read();
          if (done) break;
          read += value.byteLength;
        }
      })();
      const second = await blast(client, 2 * MB, 2000);
      assert.ok(!second.stalled, "writes flow again once the server reads");
      await within(reading, 10000, "server to read everything");
      assert.equal(read, first.accepted + second.accepted);
      reader.releaseLock();
    } finally {
      s.abort(); // a paused socket would not notice the peer leaving
      await release(client);
      await within(closed, 5000, "server close");
    }
  });

  test(`Socket write returns false and keeps the queue bounded against a peer that does not read (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const { server, client } = await recordedPair(runtime, true, false);
    client.socket.pause();
    try {
      const first = await blast(server, 64 * MB, 500);
      assert.ok(first.stalled, "the server's writes stall");
      assert.ok(first.accepted < 16 * MB, `accepted ${first.accepted} bytes, expected < 16 MB`);
      assert.ok(first.maxQueued <= 256 * 1024, `writableLength reached ${first.maxQueued}`);
      assert.ok(server.drains === 0 || first.accepted > 0);
      // The client starts reading: drain fires and everything arrives.
      client.socket.resume();
      const second = await blast(server, 4 * MB, 2000);
      assert.ok(!second.stalled);
      server.socket.closeWrite();
      await within(client.ended, 10000, "client end");
      assert.equal(client.bytes, first.accepted + second.accepted);
      assert.ok(server.drains > 0, "drain was emitted");
    } finally {
      await release(server, client);
    }
  });

  test(`Socket writable stream waits for drain instead of buffering without bound (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const { listener, server: s, client: c } = await pair(runtime);
    listener.close();
    const { writable, closed } = socketToStreams(s, { writableHighWaterMark: 65536 });
    const client = record(c, false);
    client.socket.pause();
    const writer = writable.getWriter();
    const chunk = new Uint8Array(65536);
    let resolved = 0;
    try {
      for (let i = 0; i < 1024; i++) {
        if (!(await settlesWithin(writer.ready, 500))) break;
        writer.write(chunk).then(() => resolved++, () => {});
      }
      const stalledAt = resolved * chunk.byteLength;
      assert.ok(stalledAt < 16 * MB, `${stalledAt} bytes written before the stall`);
      assert.ok((writer.desiredSize ?? 0) <= 0, "the writer reports backpressure");
      client.socket.resume();
      await within(writer.ready, 5000, "writer ready after the peer reads");
      writer.releaseLock();
      await writable.close();
      await within(client.ended, 10000, "client end");
      assert.ok(client.bytes >= stalledAt);
    } finally {
      s.abort();
      await release(client);
      await within(closed, 5000, "server close");
    }
  });
}

const BLASTER = `
import socket, sys
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(1.0)
buf = b"x" * 65536
sent = 0
try:
    while sent < 64 * 1024 * 1024:
        sent += s.send(buf)
except socket.timeout:
    pass
print(sent, flush=True)
s.settimeout(20)
s.shutdown(socket.SHUT_WR)
reply = b""
while True:
    data = s.recv(100)
    if not data:
        break
    reply += data
print(reply.decode(), flush=True)
`;

for (const engine of ENGINES) {
  test(`Socket read backpressure stalls a real python3 peer sending 64 MB (${label(engine)})`, async () => {
    const runtime = await runtimeFor(engine);
    const srv = await listen(runtime, { hostname: "127.0.0.1", port: 0 });
    const child = spawn("/usr/bin/python3", ["-c", BLASTER, String(srv.listener.addr.port)]);
    const lines: string[] = [];
    const firstLine = deferred();
    const exited = deferred<number | null>();
    let buffered = "";
    child.stdout!.on("data", (chunk: Uint8Array) => {
      buffered += new TextDecoder().decode(chunk);
      const parts = buffered.split("\n");
      buffered = parts.pop()!;
      lines.push(...parts);
      if (lines.length > 0) firstLine.resolve();
    });
    child.on("close", (code: number | null) => exited.resolve(code));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30000);
    try {
      const socket = await srv.next();
      srv.listener.close();
      const { readable, writable } = socketToStreams(socket);
      await within(firstLine.promise, 15000, "python to stall");
      const sent = Number(lines[0]);
      assert.ok(sent > 0 && sent < 16 * MB, `python sent ${sent} bytes before stalling`);
      let received = 0;
      for await (const chunk of readable) received += chunk.byteLength;
      const writer = writable.getWriter();
      await writer.write(new TextEncoder().encode(String(received)));
      await writer.close();
      assert.equal(await within(exited.promise, 15000, "python to exit"), 0);
      assert.equal(received, sent);
      assert.equal(lines[1], String(sent));
    } finally {
      clearTimeout(timer);
      child.kill("SIGKILL");
      await exited.promise;
      srv.listener.close();
      await sleep(0);
    }
  });
}
