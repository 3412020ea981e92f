/**
 * Pure WebSocket protocol pieces (RFC 6455): frame decoding and encoding,
 * incremental UTF-8 validation, message reassembly with limits, close
 * frames, and the HTTP/1.1 upgrade handshake. Each decoder is a synchronous
 * core the server drives from its read loop, plus a `TransformStream` class
 * over the same core. Only web APIs are used, so they run in any runtime.
 *
 * @example A handshake, then messages from the same bytes
 * ```ts
 * import {
 *   buildAcceptResponse,
 *   FrameEncoder,
 *   HandshakeParser,
 *   MessageCore,
 * } from "@netstreams/netstreams/ws";
 * import { deepStrictEqual, ok } from "node:assert/strict";
 *
 * // What a client sends: the upgrade request and, pipelined, a masked frame.
 * const chunks: Uint8Array[] = [];
 * new FrameEncoder({ mask: true }).encode(1, new TextEncoder().encode("hi"), (c) => chunks.push(c));
 * const request = new TextEncoder().encode(
 *   "GET /echo HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
 *     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
 * );
 * const input = new Uint8Array([...request, ...chunks[0]]);
 *
 * const { request: req, rest } = new HandshakeParser().push(input)!;
 * ok(req.webSocket);
 * const answer = buildAcceptResponse({ key: req.webSocket.key });
 * ok(new TextDecoder().decode(answer).startsWith("HTTP/1.1 101 "));
 *
 * const got: string[] = [];
 * new MessageCore().push(rest, {
 *   message: (data) => got.push(new TextDecoder().decode(data)),
 *   ping() {},
 *   pong() {},
 *   close() {},
 * });
 * deepStrictEqual(got, ["hi"]);
 * ```
 *
 * @module
 */

export * from "./types.ts";
export * from "./errors.ts";
export * from "./close_codes.ts";
export * from "./close_frame.ts";
export * from "./utf8_validator.ts";
export * from "./frame_decoder_core.ts";
export * from "./frame_decoder_stream.ts";
export * from "./frame_encoder.ts";
export * from "./frame_encoder_stream.ts";
export * from "./message_core.ts";
export * from "./message_stream.ts";
export * from "./extensions.ts";
export * from "./deflate_engine.ts";
export * from "./permessage_deflate.ts";
export * from "./handshake.ts";
export * from "./handshake_response.ts";
export * from "./open_request.ts";
export * from "./ws_connection.ts";
export * from "./ws_server.ts";
