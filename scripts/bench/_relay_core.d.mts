// Types of _relay_core.mjs (see there for what each piece does).

export declare const HEAD_MAX: number;

/** State of the client frame parser; it survives any split of the bytes across reads. */
export interface Parser {
  /** header bytes of the frame being parsed (at most 14) */
  hdr: Uint8Array;
  /** header bytes gathered */
  got: number;
  /** header bytes needed (2 until the length byte is known) */
  need: number;
  /** payload bytes left in the current frame */
  left: number;
  /** the current frame's payload is forwarded (not a control frame) */
  data: boolean;
  /** mask key as a little-endian word, rotated to the next payload byte */
  mask: number;
  /** a close frame came */
  closed: boolean;
}

export declare function newParser(): Parser;

/** Unmasks and compacts the data payload bytes of buf[0, n) into buf[0, dst); returns dst. */
export declare function unmaskCompact(
  p: Parser,
  buf: Uint8Array,
  words: Int32Array,
  n: number,
): number;

/** Writes a binary frame header for n payload bytes into out[h, 10); returns h. */
export declare function frameHeader(out: Uint8Array, n: number): number;

/** Index just past the "\r\n\r\n" in buf[0, n) (bytes from `from` are new), or -1. */
export declare function headEnd(buf: Uint8Array, from: number, n: number): number;

/** The 101 response to a request head, or null without a Sec-WebSocket-Key. */
export declare function response(head: string): string | null;

export interface Args {
  port: number;
  hostname: string;
  targetHost: string;
  targetPort: number;
}

/** `--target HOST:PORT [--port N] [--hostname H]`, or null on bad arguments. */
export declare function parseArgs(argv: readonly string[]): Args | null;
