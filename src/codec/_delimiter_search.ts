/**
 * Internal: how {@linkcode DelimiterCore} finds a delimiter in time linear
 * in the input whatever its bytes (Knuth–Morris–Pratt: a failure table
 * computed once per core, so after a mismatch the search goes on without
 * comparing again the bytes it already matched).
 *
 * @module
 */

/**
 * Delimiters up to this many bytes are compared in full at each occurrence
 * of their first byte: at most this many compares per input byte, plus up
 * to its square per push for starts in the carried bytes. That bound grows
 * with the length (4 MB of "a" against "a…ab": 36x slower at 256 bytes
 * than at 2), so longer delimiters use {@linkcode failureTable}; for short
 * ones a full compare is the faster (CRLF lines on Bun: about 10%).
 */
export const SHORT_DELIMITER = 4;

/** Bytes scanned by a plain loop before switching to `indexOf` (cheaper than a call on V8). */
export const SHORT_SCAN = 128;

/**
 * The failure table of `d`: entry `q` (1 <= q < d.length) is the length of
 * the longest proper prefix of `d[0, q)` that is also its suffix, so after
 * `q` matched bytes and a mismatch, the search goes on with that many
 * matched instead of starting over (entry 0 is unused).
 */
export function failureTable(d: Uint8Array): Int32Array {
  const m = d.length;
  const fail = new Int32Array(m);
  // k = border length of d[0, q).
  for (let q = 2, k = 0; q < m; q++) {
    const b = d[q - 1]!;
    while (k > 0 && d[k] !== b) k = fail[k]!;
    if (d[k] === b) k++;
    fail[q] = k;
  }
  return fail;
}

/** Index of the first `byte` in `chunk[from, chunk.length)`, or `chunk.length`. */
export function findByte(chunk: Uint8Array, byte: number, from: number): number {
  const n = chunk.length;
  const short = n < from + SHORT_SCAN ? n : from + SHORT_SCAN;
  let i = from;
  while (i < short && chunk[i] !== byte) i++;
  if (i === short && short < n) {
    i = chunk.indexOf(byte, short);
    if (i < 0) i = n;
  }
  return i;
}
