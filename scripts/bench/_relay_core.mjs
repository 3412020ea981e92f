// @ts-self-types="./_relay_core.d.mts"
// _relay_core.mjs: the pure pieces shared by the hand-written WebSocket-to-TCP
// relays (relay_deno.ts, relay_bun.ts, relay_node.mjs): the client frame
// parser with its in-place unmask, the server frame header, the 101 response
// and the command line. No runtime API but node:crypto's createHash (Deno, Bun
// and Node all have it); each relay keeps its own socket handling.
// Types: _relay_core.d.mts (Deno reads it through the @ts-self-types line above).

import { createHash } from "node:crypto";

/** The most bytes an upgrade request head may take; a longer one closes the connection. */
export const HEAD_MAX = 8 * 1024;
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"; // RFC 6455
// The mask is applied to aligned 32-bit words in host byte order: little-endian hosts only.
if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error("big-endian host");

// ---------------------------------------------------------------- client frames

/**
 * State of the client frame parser; it survives any split of the bytes across reads.
 * @typedef {object} Parser
 * @property {Uint8Array} hdr header bytes of the frame being parsed (at most 14)
 * @property {number} got header bytes gathered
 * @property {number} need header bytes needed (2 until the length byte is known)
 * @property {number} left payload bytes left in the current frame
 * @property {boolean} data the current frame's payload is forwarded (not a control frame)
 * @property {number} mask mask key as a little-endian word, rotated to the next payload byte
 * @property {boolean} closed a close frame came
 */

/** @returns {Parser} */
export function newParser() {
  return { hdr: new Uint8Array(14), got: 0, need: 2, left: 0, data: true, mask: 0, closed: false };
}

/**
 * Parses the frame bytes buf[0, n), unmasks the data payload bytes and moves
 * them to buf[0, dst) (dst <= src, in place); returns dst. Stops at a close
 * frame (p.closed). `words` views buf's whole ArrayBuffer: a payload run is
 * unmasked in place a 32-bit word at a time (aligned), then moved down with
 * copyWithin (memmove). That beats a one-pass unaligned DataView copy loop:
 * about 1.4x on Deno, and JSC (Bun) often leaves the DataView loop at ~0.4 GB/s.
 * @param {Parser} p
 * @param {Uint8Array} buf
 * @param {Int32Array} words
 * @param {number} n
 * @returns {number}
 */
export function unmaskCompact(p, buf, words, n) {
  const off = buf.byteOffset;
  let src = 0, dst = 0;
  while (src < n) {
    if (p.left > 0) {
      const k = Math.min(p.left, n - src);
      p.left -= k;
      if (!p.data) {
        src += k;
        continue;
      }
      let m = p.mask, i = src;
      const end = src + k, w1 = (off + end) >> 2;
      for (; i < end && ((off + i) & 3) !== 0; i++) { // up to the first aligned word
        buf[i] ^= m & 255;
        m = (m >>> 8) | (m << 24);
      }
      for (let w = (off + i) >> 2; w < w1; w++) words[w] ^= m;
      for (i = Math.max(i, (w1 << 2) - off); i < end; i++) { // the bytes after the last word
        buf[i] ^= m & 255;
        m = (m >>> 8) | (m << 24);
      }
      p.mask = m;
      if (dst !== src) buf.copyWithin(dst, src, end);
      src = end;
      dst += k;
      continue;
    }
    const hdr = p.hdr;
    hdr[p.got++] = buf[src++];
    if (p.got === 2) {
      const l7 = hdr[1] & 127;
      p.need = 2 + (l7 === 126 ? 2 : l7 === 127 ? 8 : 0) + (hdr[1] & 128 ? 4 : 0);
    }
    if (p.got < p.need) continue;
    let len = hdr[1] & 127, o = 2;
    if (len === 126) {
      len = (hdr[2] << 8) | hdr[3];
      o = 4;
    } else if (len === 127) {
      len = ((hdr[2] << 24 | hdr[3] << 16 | hdr[4] << 8 | hdr[5]) >>> 0) * 2 ** 32 +
        ((hdr[6] << 24 | hdr[7] << 16 | hdr[8] << 8 | hdr[9]) >>> 0);
      o = 10;
    }
    p.mask = hdr[1] & 128 ? hdr[o] | hdr[o + 1] << 8 | hdr[o + 2] << 16 | hdr[o + 3] << 24 : 0;
    const op = hdr[0] & 15;
    p.data = op < 8;
    p.left = len;
    p.got = 0;
    p.need = 2;
    if (op === 8) {
      p.closed = true;
      return dst;
    }
  }
  return dst;
}

// ---------------------------------------------------------------- server frames

/**
 * Writes the 2/4/10-byte header of an unmasked binary frame (FIN) of n payload
 * bytes into out[h, 10), so that it ends just before a payload at out[10];
 * returns h (8, 6 or 0).
 * @param {Uint8Array} out at least 10 bytes
 * @param {number} n
 * @returns {number}
 */
export function frameHeader(out, n) {
  let h;
  if (n < 126) {
    h = 8;
    out[9] = n;
  } else if (n < 65536) {
    h = 6;
    out[7] = 126;
    out[8] = n >>> 8;
    out[9] = n & 255;
  } else {
    h = 0;
    out[1] = 127;
    out.fill(0, 2, 4);
    out[4] = Math.floor(n / 2 ** 40) & 255;
    out[5] = Math.floor(n / 2 ** 32) & 255;
    out[6] = n >>> 24;
    out[7] = (n >>> 16) & 255;
    out[8] = (n >>> 8) & 255;
    out[9] = n & 255;
  }
  out[h] = 0x82; // FIN, binary
  return h;
}

// ---------------------------------------------------------------- upgrade

/**
 * Index just past the "\r\n\r\n" in buf[0, n) (bytes from `from` are new), or -1.
 * @param {Uint8Array} buf
 * @param {number} from
 * @param {number} n
 * @returns {number}
 */
export function headEnd(buf, from, n) {
  for (let i = Math.max(from, 3); i < n; i++) {
    if (buf[i] === 10 && buf[i - 1] === 13 && buf[i - 2] === 10 && buf[i - 3] === 13) return i + 1;
  }
  return -1;
}

/**
 * The 101 response to a request head (Sec-WebSocket-Protocol: binary if
 * offered), or null without a Sec-WebSocket-Key.
 * @param {string} head
 * @returns {string | null}
 */
export function response(head) {
  const key = /^sec-websocket-key:[ \t]*(\S+)/im.exec(head)?.[1];
  if (!key) return null;
  const protocols = /^sec-websocket-protocol:(.*)$/im.exec(head)?.[1] ?? "";
  const binary = protocols.split(",").some((p) => p.trim() === "binary");
  const accept = createHash("sha1").update(key + GUID).digest("base64");
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Accept: ${accept}\r\n` +
    (binary ? "Sec-WebSocket-Protocol: binary\r\n" : "") + "\r\n";
}

// ---------------------------------------------------------------- command line

/**
 * @typedef {object} Args
 * @property {number} port
 * @property {string} hostname
 * @property {string} targetHost
 * @property {number} targetPort
 */

/**
 * Parses `--target HOST:PORT [--port N] [--hostname H]` (HOST may be a
 * [bracketed] IPv6 address); null without a valid --target or on any other
 * argument (the caller prints its usage and exits 2).
 * @param {readonly string[]} argv
 * @returns {Args | null}
 */
export function parseArgs(argv) {
  const out = { port: 0, hostname: "127.0.0.1", targetHost: "", targetPort: 0 };
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (key === "--port") out.port = Number(value);
    else if (key === "--hostname") out.hostname = value;
    else if (key === "--target" && /^.+:\d+$/.test(value ?? "")) {
      const colon = value.lastIndexOf(":");
      out.targetHost = value.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
      out.targetPort = Number(value.slice(colon + 1));
    } else {
      out.targetHost = "";
      break;
    }
  }
  return out.targetHost ? out : null;
}
