/**
 * The byte queue behind the Deno and Bun write paths: chunks are kept by
 * reference, small ones are concatenated into one write, large ones are
 * written as they are.
 *
 * @module
 */

/** A FIFO of byte chunks with a running byte count. */
export class ChunkQueue {
  #chunks: (Uint8Array | undefined)[] = [];
  #head = 0;
  #bytes = 0;

  /** Bytes queued. */
  get byteLength(): number {
    return this.#bytes;
  }

  /** True when nothing is queued. */
  get isEmpty(): boolean {
    return this.#bytes === 0;
  }

  /** Appends a chunk (kept by reference; empty chunks are ignored). */
  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.#chunks.push(chunk);
    this.#bytes += chunk.byteLength;
  }

  /**
   * Returns the bytes to write next without removing them: the head chunk as
   * it is when it is large or alone, otherwise the following small chunks
   * concatenated up to `max` bytes (the merged chunk replaces them, so a short
   * write never copies twice). When merging, `scratch(size)` may supply the
   * buffer to merge into (a view of its start is returned; the caller must
   * not reuse it before those bytes are consumed); otherwise one is allocated.
   * Returns an empty array when the queue is empty.
   */
  peek(max: number, scratch?: (size: number) => Uint8Array | undefined): Uint8Array {
    const chunks = this.#chunks;
    const head = this.#head;
    const first = chunks[head];
    if (first === undefined) return new Uint8Array(0);
    if (first.byteLength >= max >>> 2 || head + 1 === chunks.length) return first;
    let total = 0;
    let end = head;
    while (end < chunks.length) {
      const size = chunks[end]!.byteLength;
      if (total + size > max) break;
      total += size;
      end++;
    }
    if (end - head < 2) return first;
    const into = scratch?.(total);
    const merged = into !== undefined && total <= into.byteLength
      ? into.subarray(0, total)
      : new Uint8Array(total);
    let offset = 0;
    for (let i = head; i < end; i++) {
      merged.set(chunks[i]!, offset);
      offset += chunks[i]!.byteLength;
      chunks[i] = undefined;
    }
    chunks[end - 1] = merged;
    this.#head = end - 1;
    return merged;
  }

  /** Removes `n` bytes from the front. */
  consume(n: number): void {
    const chunks = this.#chunks;
    this.#bytes -= n;
    while (n > 0) {
      const chunk = chunks[this.#head]!;
      if (chunk.byteLength <= n) {
        n -= chunk.byteLength;
        chunks[this.#head++] = undefined;
      } else {
        chunks[this.#head] = chunk.subarray(n);
        n = 0;
      }
    }
    if (this.#head === chunks.length) {
      chunks.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= chunks.length) {
      this.#chunks = chunks.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Drops everything. */
  clear(): void {
    this.#chunks = [];
    this.#head = 0;
    this.#bytes = 0;
  }
}
