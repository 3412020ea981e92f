import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { giveBack, LendingPool, takeBuffer } from "../../src/runtime/buffer_pool.ts";

describe("LendingPool", () => {
  it("hands a buffer out again only once its holder's queue is empty", () => {
    const pool = new LendingPool(1024, 4);
    const holder = { writableLength: 5 };
    const buf = new Uint8Array(1024);
    pool.lend(buf, holder);
    assert.equal(pool.take(), undefined);
    holder.writableLength = 0;
    assert.equal(pool.take(), buf);
    assert.equal(pool.take(), undefined, "a buffer leaves the pool when taken");
  });

  it("hands out a busy holder's buffer once the bytes queued up to it are written (queuedTotal)", () => {
    const pool = new LendingPool(1024, 8);
    // A socket that counts what it queues: 100 bytes queued, then our buffer's 50.
    const sock = { writableLength: 150, queuedTotal: 150 };
    const buf = new Uint8Array(1024);
    pool.lend(buf, sock);
    // A later write joins the queue: it is never empty, yet ours gets written.
    sock.queuedTotal += 70;
    sock.writableLength += 70;
    assert.equal(pool.take(), undefined, "nothing written yet");
    sock.writableLength -= 149; // 149 of the first 150 bytes written
    assert.equal(pool.take(), undefined, "one byte of it still waits");
    sock.writableLength -= 1;
    assert.equal(sock.writableLength, 70, "later bytes still wait");
    assert.equal(pool.take(), buf);
  });

  it("without queuedTotal a loan is free only once the queue is empty", () => {
    const pool = new LendingPool(1024, 8);
    const sock = { writableLength: 150 };
    const buf = new Uint8Array(1024);
    pool.lend(buf, sock);
    sock.writableLength = 70; // written past it, but the holder cannot tell
    assert.equal(pool.take(), undefined);
    sock.writableLength = 0;
    assert.equal(pool.take(), buf);
  });

  it("moves a loan still held to the back, so held buffers do not hide written ones", () => {
    const pool = new LendingPool(1024, 64);
    const stalled = Array.from({ length: 20 }, () => ({ writableLength: 1 }));
    for (const h of stalled) pool.lend(new Uint8Array(16), h);
    const free = new Uint8Array(16);
    pool.lend(free, { writableLength: 0 });
    // Each take looks at a few loans only; the held ones rotate to the back.
    let got: Uint8Array | undefined;
    for (let i = 0; i < 5 && got === undefined; i++) got = pool.take();
    assert.equal(got, free);
    assert.equal(pool.lent, 20, "the held loans stay");
    for (const h of stalled) h.writableLength = 0;
    let n = 0;
    while (pool.take() !== undefined) n++;
    assert.equal(n, 20);
  });

  it("takes only buffers of at least the size asked for", () => {
    const pool = new LendingPool(1024, 4);
    const small = new Uint8Array(100), big = new Uint8Array(1000);
    giveBack(pool, small);
    giveBack(pool, big);
    assert.equal(pool.take(500), big);
    assert.equal(pool.take(500), undefined);
    assert.equal(pool.take(50), small);
  });

  it("is bounded: larger buffers are not kept, and only the newest loans are remembered", () => {
    const pool = new LendingPool(1024, 3);
    giveBack(pool, new Uint8Array(2048));
    assert.equal(pool.lent, 0);
    const held = { writableLength: 1 };
    const bufs = [1, 2, 3, 4, 5].map(() => new Uint8Array(1024));
    for (const b of bufs) pool.lend(b, held);
    assert.equal(pool.lent, 3);
    held.writableLength = 0;
    const back = [pool.take(), pool.take(), pool.take()];
    assert.deepEqual(new Set(back), new Set(bufs.slice(2)));
    assert.equal(pool.take(), undefined);
  });

  it("keeps one buffer that was free when it came back outside the loans, and hands it out first", () => {
    const pool = new LendingPool(1024, 2);
    const held = { writableLength: 1 };
    const lent = [new Uint8Array(1024), new Uint8Array(1024)];
    for (const b of lent) pool.lend(b, held);
    const free = new Uint8Array(512);
    giveBack(pool, free);
    assert.equal(pool.lent, 3, "two loans and the free one: at most maxLent + 1");
    assert.equal(pool.take(), free);
    const another = new Uint8Array(1024);
    giveBack(pool, another); // the free slot is empty again
    assert.equal(pool.take(2048), undefined, "too small for 2048 bytes, loans still held");
    assert.equal(pool.take(1024), another);
    giveBack(pool, free);
    giveBack(pool, another); // the slot is taken: into the ring, forgetting the oldest loan
    assert.equal(pool.lent, 3);
    assert.equal(pool.take(), free);
    assert.equal(pool.take(), another, "a free loan in the ring");
  });

  it("takeBuffer reuses a written buffer or allocates half or all of the pool's size (or more than it)", () => {
    const pool = new LendingPool(4096, 4);
    assert.equal(takeBuffer(pool, 100).byteLength, 2048);
    const fresh = takeBuffer(pool, 3000);
    assert.equal(fresh.byteLength, 4096);
    giveBack(pool, fresh);
    assert.equal(takeBuffer(pool, 4000), fresh);
    assert.equal(
      takeBuffer(pool, 10_000).byteLength,
      10_000,
      "above the pool's size: exact, unpooled",
    );
  });

  it("never hands out a buffer whose bytes its holder has not written (any lends, writes and takes)", () => {
    /** A socket's queue: bytes queued so far, and how many still wait. */
    class Holder {
      queued = 0;
      writableLength = 0;
      constructor(readonly counts: boolean) {}
      get queuedTotal(): number | undefined {
        return this.counts ? this.queued : undefined;
      }
    }
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("lend" as const),
        who: fc.nat(2),
        n: fc.integer({ min: 1, max: 500 }),
      }),
      fc.record({
        kind: fc.constant("write" as const),
        who: fc.nat(2),
        n: fc.integer({ min: 1, max: 800 }),
      }),
      fc.record({ kind: fc.constant("take" as const), size: fc.integer({ min: 0, max: 1024 }) }),
      fc.record({ kind: fc.constant("give" as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), fc.boolean(), (ops, counting) => {
        const pool = new LendingPool(1024, 4);
        const holders = [new Holder(counting), new Holder(true), new Holder(false)];
        /** Per buffer: its holder and the holder's byte count once it was queued. */
        const owner = new Map<Uint8Array, { holder: Holder; mark: number }>();
        for (const o of ops) {
          if (o.kind === "lend") {
            // A write of n bytes from a buffer, then the loan (as the connection does).
            const h = holders[o.who]!;
            const buf = new Uint8Array(512 + (o.n & 511));
            h.queued += o.n;
            h.writableLength += o.n;
            owner.set(buf, { holder: h, mark: h.queued });
            pool.lend(buf, h);
          } else if (o.kind === "write") {
            const h = holders[o.who]!;
            h.writableLength = Math.max(0, h.writableLength - o.n);
          } else if (o.kind === "give") {
            giveBack(pool, new Uint8Array(1024));
          } else {
            const buf = pool.take(o.size);
            if (buf === undefined) continue;
            assert.ok(buf.byteLength >= o.size, "large enough");
            const lent = owner.get(buf);
            if (lent === undefined) continue; // given back: free from the start
            const written = lent.holder.queued - lent.holder.writableLength;
            assert.ok(written >= lent.mark, `taken after ${written} of ${lent.mark} bytes written`);
            owner.delete(buf);
          }
          assert.ok(pool.lent <= pool.maxLent + 1, "bounded");
        }
      }),
      { numRuns: 500 },
    );
  });
});
