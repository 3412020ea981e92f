/**
 * Internal: the growing buffers that gather a frame or a message across
 * chunks. They start at what is needed now and double, within a bound, so
 * memory stays within twice what has arrived.
 *
 * @module
 */

/**
 * Returns `buf` when it can hold `need` bytes, else a new array keeping its
 * first `keep` bytes, sized twice the old one (or `first` for the first),
 * at least `need` and at most `max` (`max` >= `need`).
 */
export function grow(
  buf: Uint8Array | undefined,
  keep: number,
  need: number,
  first: number,
  max: number,
): Uint8Array {
  if (buf !== undefined && need <= buf.length) return buf;
  let cap = buf === undefined ? first : buf.length * 2;
  if (cap < need) cap = need;
  if (cap > max) cap = max;
  const out = new Uint8Array(cap);
  if (buf !== undefined && keep > 0) out.set(buf.subarray(0, keep));
  return out;
}
