/**
 * Internal: the server side of the opening handshake (RFC 6455 §4.2) for
 * one connection: parse the request head with limits, route plain HTTP to
 * `onRequest` (else 426), run the open-request hook (sync or async), answer
 * 101 or the refusal, then hand pipelined bytes to the frame decoder.
 *
 * @module
 */

import { WsHandshakeError } from "./errors.ts";
import { HandshakeParser, type HttpRequest } from "./handshake.ts";
import {
  acceptKey,
  buildAcceptResponse,
  buildErrorResponse,
  type HeaderList,
} from "./handshake_response.ts";
import { bodyLength, exchange } from "./_http_exchange.ts";
import { pickProtocol, WebSocketOpenRequest } from "./open_request.ts";
import { feedFrames, log } from "./_ws_receive.ts";
import { contextBudget, deflateEngine, DeflateSession, policyFor } from "./_ws_deflate.ts";
import { NotSupportedError } from "../runtime/errors.ts";
import { formatExtensions } from "./extensions.ts";
import {
  negotiatePerMessageDeflate,
  type PerMessageDeflateOptions,
  resolveDeflateOptions,
} from "./permessage_deflate.ts";
import { CLOSING, CONNECTING, OPEN } from "./_ws_state.ts";
import type { WebSocketConnection } from "./ws_connection.ts";

const UPGRADE_REQUIRED: [string, string][] = [["Upgrade", "websocket"], [
  "Sec-WebSocket-Version",
  "13",
]];

/** The handshake of one connection, dropped once it is over. */
export class HandshakeStage {
  readonly #ws: WebSocketConnection;
  #parser: HandshakeParser;
  /** A plain request waiting for its body. */
  #head: HttpRequest | undefined = undefined;
  #body: Uint8Array | undefined = undefined;
  #at = 0;
  /** Waiting for the hook or the HTTP handler, or answered: input is ignored. */
  #busy = false;

  /** Starts the handshake of `ws`. */
  constructor(ws: WebSocketConnection) {
    this.#ws = ws;
    const s = ws._host.s;
    this.#parser = new HandshakeParser({
      maxRequestLineLength: s.maxRequestLineLength,
      maxHeaderBytes: s.maxHeaderBytes,
      maxHeaders: s.maxHeaders,
    });
  }

  /** Bytes from the client before the handshake is done. */
  push(chunk: Uint8Array): void {
    if (this.#busy) return;
    if (this.#body !== undefined) return this.#collect(chunk);
    let result;
    try {
      result = this.#parser.push(chunk);
    } catch (error) {
      if (!(error instanceof WsHandshakeError)) throw error;
      log(this.#ws, () => `Refused handshake of ${this.#ws.id}: ${error.status} ${error.message}`);
      return refuse(this.#ws, error.status, error.headers, error.message);
    }
    if (result === undefined) return;
    const { request, rest } = result;
    log(
      this.#ws,
      () =>
        `${request.method} ${request.target} HTTP/${request.httpVersion} from ${this.#ws.remoteAddr.hostname}`,
    );
    if (request.webSocket !== undefined) return this.#upgrade(request, rest);
    const host = this.#ws._host;
    if (host.onRequest === undefined) {
      return refuse(
        this.#ws,
        426,
        UPGRADE_REQUIRED,
        "This service requires the WebSocket protocol",
      );
    }
    const length = bodyLength(request, host.s.maxRequestBody);
    if (typeof length !== "number") return refuse(this.#ws, length.status, [], "");
    this.#head = request;
    this.#body = new Uint8Array(length);
    this.#collect(rest);
  }

  /** The handshake took longer than `handshakeTimeout`: 408, then close. */
  timeout(): void {
    log(this.#ws, () => `Handshake of ${this.#ws.id} timed out`);
    if (this.#busy) void this.#ws._conn.close();
    else refuse(this.#ws, 408, [], "Request Timeout");
  }

  #collect(chunk: Uint8Array): void {
    const body = this.#body!;
    const take = Math.min(chunk.length, body.length - this.#at);
    body.set(chunk.subarray(0, take), this.#at);
    this.#at += take;
    if (this.#at < body.length) return;
    this.#busy = true;
    const ws = this.#ws;
    const conn = ws._conn;
    conn.pause();
    const info = { remoteAddr: ws.remoteAddr, localAddr: ws.localAddr, connectionId: ws.id };
    void exchange(ws._host, this.#head!, body, info).then((bytes) => {
      if (!conn.connected) return;
      conn.write(bytes);
      void conn.close();
    });
  }

  #upgrade(request: HttpRequest, rest: Uint8Array): void {
    const ws = this.#ws;
    const host = ws._host;
    const hook = host.onOpenRequest;
    if (hook === undefined) {
      const protocol = pickProtocol(host.s.protocols, request.webSocket!.protocols);
      return open(ws, request, protocol, undefined, rest);
    }
    const req = new WebSocketOpenRequest(ws, request, host.s.protocols);
    let pending: void | Promise<void>;
    try {
      pending = hook(req);
    } catch (error) {
      host.report(error, ws);
      return refuse(ws, 500, [], "");
    }
    if (!(pending instanceof Promise)) return accept(ws, req, rest);
    this.#busy = true;
    const conn = ws._conn;
    conn.pause();
    const kept = rest.length > 0 ? rest.slice() : rest;
    pending.then(
      () => {
        if (ws._state !== CONNECTING || !conn.connected) return;
        accept(ws, req, kept);
        conn.resume();
      },
      (error) => {
        host.report(error, ws);
        if (ws._state === CONNECTING && conn.connected) refuse(ws, 500, [], "");
      },
    );
  }
}

/** Answers with a non-101 status and closes. */
export function refuse(
  ws: WebSocketConnection,
  status: number,
  headers: HeaderList,
  body: string | Uint8Array,
): void {
  const conn = ws._conn;
  if (!conn.connected) return;
  let bytes: Uint8Array;
  try {
    bytes = buildErrorResponse(status, { headers, body });
  } catch (error) {
    ws._host.report(error, ws);
    bytes = buildErrorResponse(500);
  }
  conn.write(bytes);
  void conn.close();
}

/** Applies the hook's decision: refuse, or open. */
function accept(ws: WebSocketConnection, req: WebSocketOpenRequest, rest: Uint8Array): void {
  const status = req.status;
  if (status === 101) {
    return open(ws, req.request, req.protocol, req._headers, rest, req.perMessageDeflate);
  }
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    ws._host.report(
      new RangeError(
        `Cannot answer the WebSocket request as status must be 101 or 200-599: current value is ${status}`,
      ),
      ws,
    );
    return refuse(ws, 500, [], "");
  }
  log(ws, () => `Refused WebSocket ${ws.id}: ${status}`);
  refuse(ws, status, req._headers ?? [], req.body);
}

/** Answers 101, opens the session, calls `onOpen`, then decodes the bytes that followed. */
function open(
  ws: WebSocketConnection,
  request: HttpRequest,
  protocol: string | undefined,
  headers: Headers | undefined,
  rest: Uint8Array,
  deflate: boolean | PerMessageDeflateOptions = true,
): void {
  const offer = request.webSocket!;
  let bytes: Uint8Array;
  try {
    if (protocol !== undefined && !offer.protocols.includes(protocol)) {
      throw new TypeError(
        `Cannot accept the WebSocket request with protocol ${
          JSON.stringify(protocol)
        }: the client offered ${JSON.stringify(offer.protocols)}`,
      );
    }
    const extensions = negotiate(ws, request, deflate);
    bytes = headers === undefined
      ? switchingProtocols(offer.key, protocol, extensions)
      : buildAcceptResponse({ key: offer.key, protocol, headers, extensions });
  } catch (error) {
    const x = ws._x;
    if (x !== undefined) {
      x.pmd?.close();
      x.pmd = undefined;
      x.ext = "";
    }
    ws._host.report(error, ws);
    return refuse(ws, 500, [], "");
  }
  ws._conn.write(bytes);
  ws._conn._largeReads(); // a window of 64 KiB of payload is a little more in frames
  ws._state = OPEN;
  ws._hs = undefined;
  if (protocol) ws._ex().protocol = protocol;
  // The head as one flat string: a few hundred bytes, parsed again on demand.
  ws._head = [
    `${request.method} ${request.target} HTTP/${request.httpVersion}`,
    ...request.rawHeaders.map(([name, value]) => `${name}: ${value}`),
    "",
    "",
  ].join("\r\n");
  ws._age = 0;
  if (ws._host.s.lineMode) ws.lineMode = true;
  log(ws, () => `WebSocket ${ws.id} open${protocol ? ` (${protocol})` : ""}`);
  const onOpen = ws._host.onOpen;
  if (onOpen !== undefined) {
    try {
      const r = onOpen(ws) as unknown;
      if (r instanceof Promise) r.catch((error) => failOpen(ws, error));
    } catch (error) {
      failOpen(ws, error);
    }
  }
  // Also when onOpen closed: the peer's close frame may be among these bytes.
  if (rest.length > 0 && (ws._state === OPEN || ws._state === CLOSING)) feedFrames(ws, rest);
}

const encoder = new TextEncoder();

/**
 * The usual 101 response (no extra headers) built directly: the key and
 * the protocol were validated with the request (a token the client offered).
 */
function switchingProtocols(
  key: string,
  protocol: string | undefined,
  extensions: string | undefined,
): Uint8Array {
  let s = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n`;
  if (protocol !== undefined) s += `Sec-WebSocket-Protocol: ${protocol}\r\n`;
  if (extensions !== undefined) s += `Sec-WebSocket-Extensions: ${extensions}\r\n`;
  return encoder.encode(s + "\r\n");
}

/**
 * permessage-deflate (RFC 7692 §7.1): accepts the first acceptable offer
 * under the server's policy as the open-request hook adjusted it (`choice`),
 * sets up the session's state and returns the `Sec-WebSocket-Extensions`
 * value, or undefined when none is accepted.
 */
function negotiate(
  ws: WebSocketConnection,
  request: HttpRequest,
  choice: boolean | PerMessageDeflateOptions,
): string | undefined {
  const offers = request.webSocket!.extensions;
  if (choice === false || offers.length === 0) return undefined;
  const base = ws._host.s.perMessageDeflate;
  const policy = choice === true ? base : resolveDeflateOptions({ ...(base || {}), ...choice });
  if (policy === false) return undefined;
  const budget = contextBudget(ws._host);
  const agreed = negotiatePerMessageDeflate(offers, policyFor(policy, budget));
  if (agreed === undefined) return undefined;
  const engine = deflateEngine();
  if (engine instanceof NotSupportedError) {
    log(ws, () => `Declined permessage-deflate for ${ws.id}: ${engine.message}`);
    return undefined;
  }
  const x = ws._ex();
  x.pmd = new DeflateSession(engine, agreed.params, policy, budget);
  return x.ext = formatExtensions([agreed.response]);
}

function failOpen(ws: WebSocketConnection, error: unknown): void {
  ws._host.report(error, ws);
  if (ws._state === OPEN) void ws.close(1011, "", { wait: false });
}
