/** Test helpers for the handshake parser: request heads, a chunked parse, error checks. */

import assert from "node:assert/strict";
import { HandshakeParser, type HandshakeResult } from "../../src/ws/handshake.ts";
import { WsHandshakeError } from "../../src/ws/errors.ts";
import { chunkings } from "../codec/_chunkings.ts";
import { cat, latin1 } from "./_frames.ts";

export const enc = (s: string) => new TextEncoder().encode(s);
export const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

/** A request head from lines, CRLF-terminated, with the final empty line. */
export function head(...lines: string[]): Uint8Array {
  return enc(lines.map((l) => l + "\r\n").join("") + "\r\n");
}

export const UPGRADE = [
  "Host: server.example.com",
  "Upgrade: websocket",
  "Connection: Upgrade",
  `Sec-WebSocket-Key: ${KEY}`,
  "Sec-WebSocket-Version: 13",
];

/** Pushes chunks until a result; returns it with the bytes after the head (rest + unpushed chunks). */
export function parse(
  chunks: Uint8Array[],
  parser = new HandshakeParser(),
): [HandshakeResult, string] {
  for (let i = 0; i < chunks.length; i++) {
    const r = parser.push(chunks[i]);
    if (r !== undefined) return [r, latin1(cat(r.rest, ...chunks.slice(i + 1)))];
  }
  throw new Error("no result");
}

/** Expects `code`/`status` under every chunking, thrown by the push holding byte `at` (if given). */
export function checkHandshakeError(
  input: Uint8Array,
  code: string,
  status: number,
  at?: number,
): WsHandshakeError {
  let last: WsHandshakeError | undefined;
  for (const [label, chunks] of chunkings(input, 0)) {
    const parser = new HandshakeParser();
    let seen = 0;
    try {
      for (const c of chunks) {
        const r = parser.push(c);
        assert.equal(r, undefined, `${label}: no result expected`);
        seen += c.length;
      }
      assert.fail(`${label}: no error`);
    } catch (err) {
      if (!(err instanceof WsHandshakeError)) throw err;
      assert.deepEqual([err.name, err.code, err.status], ["WsHandshakeError", code, status], label);
      if (at !== undefined) {
        const chunk = chunks.find((_, i) =>
          chunks.slice(0, i + 1).reduce((n, c) => n + c.length, 0) > seen
        )!;
        assert.ok(
          seen <= at && at < seen + chunk.length,
          `${label}: thrown after ${seen} bytes, expected at ${at}`,
        );
      }
      last = err;
    }
  }
  return last!;
}
