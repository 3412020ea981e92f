// The write queue of the Bun adapter, driven through a fake Bun socket (the
// class uses no Bun API itself, so this runs on every runtime).
import { test } from "node:test";
import assert from "node:assert/strict";
import { type BunRawSocket, BunSocket } from "../../src/runtime/_bun_socket.ts";
import type { SocketHandlers } from "../../src/net/types.ts";
import { concat } from "./_helpers.ts";

/** A Bun socket whose kernel takes `room` more bytes; records what it took. */
function fakeRaw(room: number) {
  const taken: Uint8Array[] = [];
  const raw: BunRawSocket & { room: number; taken: Uint8Array[] } = {
    data: undefined,
    room,
    taken,
    remoteAddress: "127.0.0.1",
    remotePort: 40000,
    localAddress: "127.0.0.1",
    localPort: 7000,
    write(bytes: Uint8Array, offset = 0, length = bytes.byteLength - offset) {
      const n = Math.min(length, raw.room);
      raw.room -= n;
      if (n > 0) taken.push(bytes.slice(offset, offset + n));
      return n;
    },
    shutdown() {},
    end() {},
    terminate() {},
    pause() {},
    resume() {},
    setNoDelay: () => true,
    setKeepAlive: () => true,
  };
  return raw;
}

function open(room: number) {
  const raw = fakeRaw(room);
  let drains = 0;
  BunSocket.handlers().open(raw);
  const socket = raw.data!;
  const handlers: SocketHandlers = { data() {}, end() {}, drain: () => drains++, close() {} };
  socket.start(handlers);
  return { raw, socket, drains: () => drains };
}

const fill = (n: number, v: number) => new Uint8Array(n).fill(v);

test("BunSocket writes a large chunk at once inside a cork when nothing is gathered", async () => {
  const { raw, socket, drains } = open(1 << 30);
  socket.cork();
  const big = fill(256 * 1024, 7);
  assert.equal(socket.write(big), true, "taken whole by the kernel: no reason to wait");
  assert.equal(raw.taken.length, 1, "written before uncork");
  assert.equal(socket.writableLength, 0);
  socket.write(fill(10, 1)); // a small write after it is gathered as before
  assert.equal(raw.taken.length, 1);
  socket.uncork();
  assert.deepEqual(concat(raw.taken), concat([big, fill(10, 1)]));
  await Promise.resolve();
  assert.equal(drains(), 0, "no drain was asked for");
});

test("BunSocket queues the rest of a large chunk the kernel takes in part inside a cork", () => {
  const { raw, socket, drains } = open(10_000);
  socket.cork();
  const big = Uint8Array.from({ length: 200_000 }, (_, i) => i % 251);
  assert.equal(socket.write(big), false, "190,000 bytes wait: above the high-water mark");
  assert.equal(socket.writableLength, 190_000);
  assert.equal(socket.write(fill(3, 9)), false, "queued behind the rest, in order");
  socket.uncork();
  assert.equal(socket.writableLength, 190_003, "the kernel is still full");
  raw.room = 1 << 30;
  BunSocket.handlers().drain(raw); // Bun says writable again
  assert.equal(socket.writableLength, 0);
  assert.deepEqual(concat(raw.taken), concat([big, fill(3, 9)]));
  assert.equal(drains(), 1, "one drain once the queue is written");
});

test("BunSocket writes the gathered chunk, then a large one, at once inside a cork", () => {
  const { raw, socket } = open(1 << 30);
  socket.cork();
  socket.write(fill(5, 1));
  assert.equal(socket.write(fill(100_000, 2)), true, "both taken whole by the kernel");
  assert.equal(raw.taken.length, 2, "written before uncork, the gathered chunk first");
  socket.uncork();
  assert.deepEqual(concat(raw.taken), concat([fill(5, 1), fill(100_000, 2)]));
  assert.equal(socket.writableLength, 0);
});

test("BunSocket queues a large chunk behind a gathered one the kernel takes in part", () => {
  const { raw, socket, drains } = open(3);
  socket.cork();
  socket.write(fill(5, 1));
  assert.equal(socket.write(fill(100_000, 2)), false, "100,002 bytes wait");
  assert.equal(socket.writableLength, 100_002);
  socket.uncork();
  raw.room = 1 << 30;
  BunSocket.handlers().drain(raw);
  assert.deepEqual(concat(raw.taken), concat([fill(5, 1), fill(100_000, 2)]));
  assert.equal(drains(), 1);
});
