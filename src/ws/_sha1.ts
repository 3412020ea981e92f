/**
 * Internal: SHA-1 (RFC 3174), synchronous, for `Sec-WebSocket-Accept` only
 * (RFC 6455 §4.2.2). It is not used where collision resistance matters.
 *
 * @module
 */

function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}

/** Scratch space reused by every call (a key is hashed per handshake; SHA-1 here is synchronous). */
const SCRATCH = new Uint8Array(128);
const SCRATCH_VIEW = new DataView(SCRATCH.buffer);
const W = new Int32Array(80);

/** The 20-byte SHA-1 digest of `data`. */
export function sha1(data: Uint8Array): Uint8Array {
  const n = data.length;
  // Message, 0x80, zeros, then the bit length as a 64-bit big-endian number.
  const total = ((n + 8) >>> 6 << 6) + 64;
  const msg = total <= SCRATCH.length ? SCRATCH.fill(0, 0, total) : new Uint8Array(total);
  msg.set(data);
  msg[n] = 0x80;
  const view = msg === SCRATCH ? SCRATCH_VIEW : new DataView(msg.buffer);
  view.setUint32(total - 8, Math.floor(n / 0x20000000));
  view.setUint32(total - 4, (n << 3) >>> 0);
  let h0 = 0x67452301, h1 = 0xefcdab89, h2 = 0x98badcfe, h3 = 0x10325476, h4 = 0xc3d2e1f0;
  const w = W;
  for (let block = 0; block < total; block += 64) {
    for (let t = 0; t < 16; t++) w[t] = view.getInt32(block + t * 4);
    for (let t = 16; t < 80; t++) w[t] = rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    let a = h0, b = h1, c = h2, d = h3, e = h4;
    for (let t = 0; t < 80; t++) {
      let f: number, k: number;
      if (t < 20) f = (b & c) | (~b & d), k = 0x5a827999;
      else if (t < 40) f = b ^ c ^ d, k = 0x6ed9eba1;
      else if (t < 60) f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
      else f = b ^ c ^ d, k = 0xca62c1d6;
      const temp = (rotl(a, 5) + f + e + k + w[t]) | 0;
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = temp;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  const out = new Uint8Array(20);
  let i = 0;
  for (const h of [h0, h1, h2, h3, h4]) {
    out[i++] = h >>> 24;
    out[i++] = (h >>> 16) & 255;
    out[i++] = (h >>> 8) & 255;
    out[i++] = h & 255;
  }
  return out;
}
