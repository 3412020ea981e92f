/**
 * Write gathering inside a read batch: the small writes a data callback
 * makes are copied into one buffer and handed to the socket once per read
 * (one system call, like cork/uncork), and bytes that are views of the
 * socket's reused read buffer are copied before the socket keeps them.
 *
 * @module
 */

/** Writes up to this size inside a read batch are gathered into one buffer. */
export const STAGE_MAX = 4096;
/** First size of a gather buffer. */
const STAGE_MIN = 2048;

/**
 * Appends `n` bytes of `chunk` to the `len` bytes gathered in `buf`;
 * returns the buffer that holds them (`buf`, or a larger copy).
 */
export function stage(
  buf: Uint8Array | undefined,
  len: number,
  chunk: Uint8Array,
  n: number,
): Uint8Array {
  if (buf === undefined || len + n > buf.byteLength) {
    const grown = new Uint8Array(Math.max(STAGE_MIN, (len + n) * 2));
    if (buf !== undefined) grown.set(buf.subarray(0, len));
    buf = grown;
  }
  if (n <= 16) {
    // A line end or a short reply: a loop beats set() at this size.
    for (let i = 0; i < n; i++) buf[len + i] = chunk[i];
  } else buf.set(chunk, len);
  return buf;
}
