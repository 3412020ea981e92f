/**
 * The small compression interface permessage-deflate (RFC 7692) runs on:
 * a {@linkcode Deflater} per direction that compresses whole messages, an
 * {@linkcode Inflater} that decompresses a message in parts with an output
 * bound, and a {@linkcode DeflateEngine} that makes them. Implementations
 * live apart from the protocol code (the server uses `node:zlib`, see
 * `src/runtime/zlib.ts`); both run synchronously, so messages keep their
 * order without queues.
 *
 * @module
 */

/** Parameters of a {@linkcode Deflater}. */
export interface DeflaterSettings {
  /** LZ77 window as a power of two, 9-15 (RFC 7692 `server_max_window_bits`). */
  windowBits: number;
  /** zlib memory level 1-9: hash table size (speed and ratio against memory). */
  memLevel: number;
  /** zlib compression level 0-9. */
  level: number;
  /** Start every message with an empty window (RFC 7692 §7.1.1). */
  noContextTakeover: boolean;
}

/** Parameters of an {@linkcode Inflater}. */
export interface InflaterSettings {
  /** LZ77 window as a power of two, 9-15 (RFC 7692 `client_max_window_bits`). */
  windowBits: number;
  /** The peer starts every message with an empty window (RFC 7692 §7.1.1). */
  noContextTakeover: boolean;
}

/**
 * Compresses messages into permessage-deflate payloads (RFC 7692 §7.2.1):
 * deflate with a sync flush, the trailing `00 00 ff ff` removed.
 */
export interface Deflater {
  /**
   * Compresses one message, or with `end` false one piece of a message sent
   * in pieces (RFC 7692 §6.1: the pieces' outputs, joined, are the message's
   * compressed data; only the message's final `00 00 ff ff` is removed, so
   * a piece's tail is held back until the next piece shows it is not final).
   * `end` defaults to true. Returns the frame payload (owned by the caller;
   * may be empty for a piece).
   */
  deflate(data: Uint8Array, end?: boolean): Uint8Array;
  /** Frees the compression state; the deflater cannot be used afterwards. */
  close(): void;
}

/**
 * Decompresses permessage-deflate payloads (RFC 7692 §7.2.2) part by part.
 * Throws on corrupt data (the connection then fails with 1007).
 */
export interface Inflater {
  /**
   * Inflates the next part of a message; `end` marks its last part (the
   * `00 00 ff ff` tail is appended). Returns the inflated bytes, or
   * undefined as soon as they would exceed `maxOutput` bytes: inflating
   * stops there (a deflate bomb is never inflated in full) and the inflater
   * cannot be used again. The result may be a view valid until the next call.
   */
  inflate(data: Uint8Array, end: boolean, maxOutput: number): Uint8Array | undefined;
  /** Frees the decompression state; the inflater cannot be used afterwards. */
  close(): void;
}

/**
 * Makes deflaters and inflaters (for example from `node:zlib`).
 *
 * @example An engine that stores messages uncompressed (valid deflate, for tests)
 * ```ts
 * import type { DeflateEngine } from "@netstreams/netstreams/ws";
 * import { strictEqual } from "node:assert/strict";
 *
 * // A stored block (BFINAL 0, BTYPE 00) per message, which ends in 00 00 ff ff
 * // after a sync flush; the 5-byte header carries LEN and NLEN.
 * const stored: DeflateEngine = {
 *   name: "stored",
 *   createDeflater: () => ({
 *     deflate(data) {
 *       const out = new Uint8Array(5 + data.length);
 *       out.set([0, data.length & 255, data.length >> 8, ~data.length & 255, (~data.length >> 8) & 255]);
 *       out.set(data, 5);
 *       return out;
 *     },
 *     close() {},
 *   }),
 *   createInflater: () => {
 *     throw new Error("not needed here");
 *   },
 * };
 * strictEqual(stored.createDeflater({ windowBits: 15, memLevel: 8, level: 0, noContextTakeover: true })
 *   .deflate(new Uint8Array(3)).length, 8);
 * ```
 */
export interface DeflateEngine {
  /** Name for logs, for example `node:zlib`. */
  readonly name: string;
  /** A deflater for one connection (or shared, when it keeps no context). */
  createDeflater(settings: DeflaterSettings): Deflater;
  /** An inflater for one connection (or shared, when it keeps no context). */
  createInflater(settings: InflaterSettings): Inflater;
}
