/**
 * Internal: how {@linkcode LineCore} finds the next CR or LF. Pure; the
 * runtime layer picks the strategy that is faster on its engine.
 *
 * @module
 */

/** Line feed. */
export const LF = 10;
/** Carriage return. */
export const CR = 13;

/**
 * `byIndexOf`: search with `Uint8Array.prototype.indexOf`, one call per line
 * end kind. JavaScriptCore runs it as memchr, so Bun's adapter turns it on
 * (Bun, 64-byte lines, in-process: 77-82 -> 70 ns per echoed line); V8's
 * `indexOf` scans about 0.5 ns per byte, slower than the word loop below.
 */
export const lineScan: { byIndexOf: boolean } = { byIndexOf: false };

/**
 * Chunks this long are scanned four bytes at a time through an `Int32Array`
 * view (making the view costs about what scanning ~150 bytes one by one does).
 */
export const WORDS_MIN = 256;

/** An `Int32Array` over the aligned words that hold `chunk`: word k is chunk[4k - chunk.byteOffset % 4, +4). */
export function wordsOf(chunk: Uint8Array): Int32Array {
  const off = chunk.byteOffset;
  const head = off & 3;
  return new Int32Array(chunk.buffer, off - head, (head + chunk.length) >>> 2);
}

/** Index of the first CR or LF in `chunk[from, limit)`, or `limit`. */
export function scanBytes(chunk: Uint8Array, from: number, limit: number): number {
  let i = from;
  while (i < limit) {
    const b = chunk[i]!;
    if (b <= CR && (b === LF || b === CR)) return i;
    i++;
  }
  return limit;
}

/**
 * {@linkcode scanBytes} a word at a time: a word with no byte below 14 holds
 * no line end (the test is exact: a borrow only starts at a byte below 14),
 * so only the bytes of words that fail it (and the unaligned ends) are
 * looked at one by one. V8: 64-byte lines cut 2x faster than by bytes or
 * `indexOf`.
 */
export function scanWords(
  chunk: Uint8Array,
  words: Int32Array,
  from: number,
  limit: number,
): number {
  const head = chunk.byteOffset & 3;
  let i = from;
  // Bytes up to the first word boundary.
  while (i < limit && ((i + head) & 3) !== 0) {
    const b = chunk[i]!;
    if (b <= CR && (b === LF || b === CR)) return i;
    i++;
  }
  if (i >= limit) return limit;
  let k = (i + head) >>> 2; // i is at a word boundary
  const kEnd = (limit + head) >>> 2; // words that end at or before limit
  for (;;) {
    while (k < kEnd) {
      const w = words[k]!;
      if (((w - 0x0e0e0e0e) & ~w & 0x80808080) !== 0) break;
      k++;
    }
    // A word with a byte below 14, or the bytes after the last whole word.
    i = (k << 2) - head;
    const stop = k < kEnd ? i + 4 : limit;
    while (i < stop) {
      const b = chunk[i]!;
      if (b <= CR && (b === LF || b === CR)) return i;
      i++;
    }
    if (k >= kEnd) return limit;
    k++;
  }
}
