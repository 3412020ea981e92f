import { test } from "node:test";
import assert from "node:assert/strict";
import { ChunkQueue } from "../../src/runtime/_chunk_queue.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

test("ChunkQueue gathers small chunks into one write and keeps the byte count", () => {
  const queue = new ChunkQueue();
  queue.push(bytes(1, 2));
  queue.push(bytes());
  queue.push(bytes(3));
  queue.push(bytes(4, 5, 6));
  assert.equal(queue.byteLength, 6);
  const merged = queue.peek(1024);
  assert.deepEqual(merged, bytes(1, 2, 3, 4, 5, 6));
  assert.equal(queue.peek(1024), merged, "a second peek returns the merged chunk, no copy");
  queue.consume(4);
  assert.equal(queue.byteLength, 2);
  assert.deepEqual(queue.peek(1024), bytes(5, 6));
  queue.consume(2);
  assert.equal(queue.isEmpty, true);
  assert.equal(queue.peek(1024).byteLength, 0);
});

test("ChunkQueue returns a large head chunk as it is and stops gathering at max", () => {
  const queue = new ChunkQueue();
  const big = new Uint8Array(300);
  queue.push(big);
  queue.push(bytes(1));
  assert.equal(queue.peek(1024), big, "a chunk of a quarter of max or more is not copied");
  queue.consume(300);
  queue.push(new Uint8Array(100).fill(2));
  queue.push(new Uint8Array(100).fill(3));
  const first = queue.peek(200);
  assert.equal(first.byteLength, 101, "1 + 100 fit in 200, the next 100 would not");
  assert.deepEqual([first[0], first[1], first[100]], [1, 2, 2]);
  queue.consume(first.byteLength);
  assert.deepEqual(queue.peek(200), new Uint8Array(100).fill(3));
});

test("ChunkQueue consumes across chunk boundaries after short writes", () => {
  const queue = new ChunkQueue();
  for (let i = 0; i < 3000; i++) queue.push(bytes(i & 0xff, (i + 1) & 0xff));
  let expected = 0;
  while (!queue.isEmpty) {
    const next = queue.peek(16);
    const n = Math.min(next.byteLength, 7);
    for (let j = 0; j < n; j++) {
      const i = expected >> 1;
      assert.equal(next[j], (expected & 1 ? i + 1 : i) & 0xff);
      expected++;
    }
    queue.consume(n);
  }
  assert.equal(expected, 6000);
  queue.push(bytes(9));
  queue.clear();
  assert.equal(queue.byteLength, 0);
});

test("ChunkQueue merges into the scratch buffer its caller supplies, only when merging", () => {
  const queue = new ChunkQueue();
  const scratch = new Uint8Array(1024).fill(0xee);
  const sizes: number[] = [];
  const take = (size: number) => (sizes.push(size), size < 4 ? undefined : scratch);
  const alone = bytes(7, 8, 9, 10);
  queue.push(alone);
  assert.equal(queue.peek(1024, take), alone, "a chunk alone is returned without asking");
  queue.consume(4);
  queue.push(bytes(1, 2));
  queue.push(bytes(3));
  const small = queue.peek(1024, take);
  assert.notEqual(small.buffer, scratch.buffer, "the caller declined: a buffer is allocated");
  assert.deepEqual(small, bytes(1, 2, 3));
  queue.consume(3);
  queue.push(bytes(4, 5));
  queue.push(bytes(6, 7, 8));
  const merged = queue.peek(1024, take);
  assert.equal(merged.buffer, scratch.buffer);
  assert.equal(merged.byteOffset, 0);
  assert.deepEqual(merged, bytes(4, 5, 6, 7, 8));
  assert.equal(queue.peek(1024, take), merged, "a second peek returns the merged view");
  assert.deepEqual(sizes, [3, 5], "asked once per merge, with its size");
  queue.consume(5);
  assert.equal(queue.isEmpty, true);
  queue.push(new Uint8Array(100));
  queue.push(new Uint8Array(600).fill(1));
  const tiny = new Uint8Array(16);
  const tooBig = queue.peek(4096, () => tiny);
  assert.equal(tooBig.byteLength, 700);
  assert.notEqual(tooBig.buffer, tiny.buffer, "a scratch too small is not used");
  assert.equal(tooBig[699], 1);
});
