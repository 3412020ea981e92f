/**
 * Incremental HTTP/1.1 request parsing with byte limits, and WebSocket
 * upgrade validation (RFC 6455 §4.2.1, RFC 9112; reference:
 * WebSocketOpenRequest).
 *
 * @module
 */

import { checkInteger } from "./_options.ts";
import { latin1 } from "./_http.ts";
import { parseHead } from "./_request_head.ts";
import { WsHandshakeError } from "./errors.ts";
import type { ExtensionOffer } from "./extensions.ts";

const LF = 10;

/** Options of {@linkcode HandshakeParser}: byte limits (slowloris time limits are the caller's). */
export interface HandshakeOptions {
  /**
   * Longest request line in bytes, line end not counted (nginx's default
   * buffer). Longer: `WS_HANDSHAKE_REQUEST_LINE_TOO_LONG`, status 414.
   * @default {8192}
   */
  maxRequestLineLength?: number;
  /**
   * Most bytes of header lines after the request line, line ends and the
   * final empty line counted (Node's default header size). More:
   * `WS_HANDSHAKE_HEADERS_TOO_LARGE`, status 431.
   * @default {16384}
   */
  maxHeaderBytes?: number;
  /**
   * Most header lines. More: `WS_HANDSHAKE_TOO_MANY_HEADERS`, status 431.
   * @default {100}
   */
  maxHeaders?: number;
}

/** What a valid WebSocket upgrade request offers (reference: WebSocketOpenRequest). */
export interface WebSocketOffer {
  /** `Sec-WebSocket-Key`, for {@linkcode acceptKey}. */
  key: string;
  /** `Sec-WebSocket-Version`: always 13. */
  version: 13;
  /** Offered subprotocols in the client's order of preference (may be empty). */
  protocols: string[];
  /** Offered extensions in order (may be empty). */
  extensions: ExtensionOffer[];
}

/** A parsed HTTP/1.x request head (reference: WebSocketOpenRequest). */
export interface HttpRequest {
  /** The method, for example `GET` (case-sensitive, RFC 9110 §9.1). */
  method: string;
  /** The request target as sent, for example `/chat?room=1`. */
  target: string;
  /** The target's path (from an absolute-form target, the URL's path). */
  path: string;
  /** The target's query without `?`, empty when there is none. */
  query: string;
  /** The HTTP version, for example `1.1`. */
  httpVersion: string;
  /** The headers; repeated ones are joined with `, ` and names are case-insensitive. */
  headers: Headers;
  /** The header lines in order, as sent (names not lowercased). */
  rawHeaders: [string, string][];
  /** The `Host` header, if any. */
  host: string | undefined;
  /** The `Origin` header, if any (browsers send it). */
  origin: string | undefined;
  /** Set when this is a valid WebSocket upgrade request; undefined for a plain HTTP request. */
  webSocket: WebSocketOffer | undefined;
}

/** A complete request head and the bytes that followed it in the same chunk. */
export interface HandshakeResult {
  /** The request. */
  request: HttpRequest;
  /** Bytes after the head (a pipelined first frame, or a request body), a view of the last chunk. */
  rest: Uint8Array;
}

/**
 * Parses an HTTP/1.1 request head from bytes arriving in any pieces, with
 * limits checked as bytes arrive (a peer cannot make it buffer more than
 * the request line and header limits allow). Line ends may be CRLF or LF.
 * When the head is complete, `push` returns it with the bytes after it.
 *
 * A request with `Upgrade: websocket` is validated as a WebSocket opening
 * handshake: method GET, HTTP/1.1 or later, `Connection: upgrade`,
 * `Sec-WebSocket-Version: 13` (else status 426 with
 * `Sec-WebSocket-Version: 13`), a `Sec-WebSocket-Key` of 16 base64 bytes,
 * token subprotocols and well-formed extension offers. Other requests come
 * back as plain requests (`webSocket` undefined) for the caller to route.
 *
 * Problems throw a {@linkcode WsHandshakeError} carrying the HTTP status to
 * answer with (400, 405, 414, 426, 431, 505) and, when the head was read,
 * the request.
 *
 * @example A browser's upgrade request in two pieces, with a pipelined frame
 * ```ts
 * import { HandshakeParser } from "@netstreams/netstreams/ws";
 * import { deepStrictEqual, strictEqual } from "node:assert/strict";
 *
 * const enc = new TextEncoder();
 * const parser = new HandshakeParser();
 * strictEqual(parser.push(enc.encode("GET /chat?x=1 HTTP/1.1\r\nHost: a.example\r\n")), undefined);
 * const head = enc.encode(
 *   "Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n" +
 *     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
 *     "Sec-WebSocket-Protocol: chat, superchat\r\n\r\n",
 * );
 * const result = parser.push(new Uint8Array([...head, 0x81, 0x80]));
 * deepStrictEqual(
 *   [result?.request.path, result?.request.query, result?.request.webSocket?.protocols],
 *   ["/chat", "x=1", ["chat", "superchat"]],
 * );
 * deepStrictEqual([...result!.rest], [0x81, 0x80]);
 * ```
 */
export class HandshakeParser {
  readonly #maxLine: number;
  readonly #maxHeaderBytes: number;
  readonly #maxHeaders: number;
  /** Bytes carried from earlier pushes (never more than the limits allow). */
  #buf = new Uint8Array(0);
  #len = 0;
  /** Where the next LF is searched, and where the current line starts. */
  #scanned = 0;
  #lineStart = 0;
  /** End of the request line (after its LF), 0 until found. */
  #headStart = 0;
  #headers = 0;
  #done = false;

  /** Validates the options; throws `TypeError`/`RangeError` naming the bad value. */
  constructor(options: HandshakeOptions = {}) {
    const act = "create HandshakeParser";
    this.#maxLine = checkInteger(
      act,
      "maxRequestLineLength",
      options.maxRequestLineLength,
      16,
      8192,
    );
    this.#maxHeaderBytes = checkInteger(act, "maxHeaderBytes", options.maxHeaderBytes, 2, 16384);
    this.#maxHeaders = checkInteger(act, "maxHeaders", options.maxHeaders, 1, 100);
  }

  /**
   * Feeds bytes. Returns the request and the bytes after its head once the
   * head is complete, else undefined. Throws {@linkcode WsHandshakeError}.
   * After a result (or an error) the parser is spent.
   */
  push(chunk: Uint8Array): HandshakeResult | undefined {
    if (this.#done) {
      throw new TypeError(
        "Cannot push to HandshakeParser as it already returned a result or threw",
      );
    }
    const carried = this.#len;
    let data = chunk;
    if (carried > 0) {
      // Copy no more than the head may still take; the rest is returned as a view.
      const room = this.#maxLine + 2 + this.#maxHeaderBytes - carried;
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      if (carried + part.length > this.#buf.length) {
        const grown = new Uint8Array(Math.max(carried + part.length, this.#buf.length * 2));
        grown.set(this.#buf.subarray(0, carried));
        this.#buf = grown;
      }
      this.#buf.set(part, carried);
      data = this.#buf.subarray(0, carried + part.length);
    }
    let end: number;
    try {
      end = this.#scan(data);
    } catch (err) {
      this.#done = true;
      throw err;
    }
    if (end < 0) {
      if (carried === 0 && chunk.length > 0) {
        // Below the limits, else the scan threw.
        this.#buf = new Uint8Array(Math.max(chunk.length * 2, 256));
        this.#buf.set(chunk);
      }
      this.#len = data.length;
      return undefined;
    }
    this.#done = true;
    const request = parseHead(latin1(data.subarray(0, end)));
    this.#buf = new Uint8Array(0);
    this.#len = 0;
    return { request, rest: chunk.subarray(end - carried) };
  }

  /** Scans new bytes for line ends, checking limits; returns the head's end or -1. */
  #scan(data: Uint8Array): number {
    const n = data.length;
    for (;;) {
      // Never scan past what the limits allow to be buffered.
      // Empty lines before the request line count toward its limit.
      const limit = this.#headStart === 0
        ? this.#maxLine + 2
        : this.#headStart + this.#maxHeaderBytes;
      const lf = data.subarray(this.#scanned, Math.min(n, limit)).indexOf(LF);
      if (lf < 0) {
        this.#scanned = Math.min(n, limit);
        if (n >= limit) this.#tooLong();
        return -1;
      }
      const at = this.#scanned + lf;
      this.#scanned = at + 1;
      const start = this.#lineStart;
      this.#lineStart = at + 1;
      const empty = at === start || (at === start + 1 && data[start] === 13);
      if (this.#headStart === 0) {
        if (at - start - (data[at - 1] === 13 ? 1 : 0) > this.#maxLine) this.#tooLong();
        // Empty lines before the request line are ignored (RFC 9112 §2.2).
        if (!empty) this.#headStart = at + 1;
      } else if (empty) {
        return at + 1;
      } else if (++this.#headers > this.#maxHeaders) {
        throw new WsHandshakeError(
          "WS_HANDSHAKE_TOO_MANY_HEADERS",
          431,
          `Received more than ${this.#maxHeaders} header lines (maxHeaders)`,
        );
      }
    }
  }

  #tooLong(): never {
    if (this.#headStart === 0) {
      throw new WsHandshakeError(
        "WS_HANDSHAKE_REQUEST_LINE_TOO_LONG",
        414,
        `Received a request line longer than ${this.#maxLine} bytes (maxRequestLineLength)`,
      );
    }
    throw new WsHandshakeError(
      "WS_HANDSHAKE_HEADERS_TOO_LARGE",
      431,
      `Received more than ${this.#maxHeaderBytes} bytes of headers (maxHeaderBytes)`,
    );
  }
}
