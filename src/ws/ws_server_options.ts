/**
 * Options of the WebSocket server ({@linkcode WebSocketServer}, `serveWs`)
 * and their validation. Connection management (listening, admission lists,
 * `maxConnections`, TLS, socket options) comes from the TCP server's
 * options; the rest is WebSocket specific, each limit with a finite default.
 *
 * @module
 */

import type { ServerOptions } from "../net/server_options.ts";
import { DEFAULT_LINE_LENGTH, MIN_LINE_LENGTH } from "../net/framing.ts";
import { isToken } from "./_http.ts";
import {
  checkBoolean,
  checkInteger,
  DEFAULT_MAX_FRAGMENTS,
  DEFAULT_MAX_OUTGOING_FRAME,
  DEFAULT_MAX_PAYLOAD,
} from "./_options.ts";
import type { WebSocketHandlers } from "./_ws_host.ts";
import {
  type PerMessageDeflateOptions,
  type ResolvedDeflateOptions,
  resolveDeflateOptions,
} from "./permessage_deflate.ts";

/**
 * TCP server options a WebSocket server sets itself (framing, banners,
 * the callbacks) or replaces with its own (`idleTimeout` counts messages,
 * `maxWriteBuffer` is checked per message).
 */
export type NotForWebSocket =
  | "eol"
  | "singleLineMode"
  | "maxLineLength"
  | "recordLength"
  | "banner"
  | "tooBusyBanner"
  | "allowHalfOpen"
  | "readHighWaterMark"
  | "idleTimeout"
  | "maxWriteBuffer"
  | "onConnection"
  | "onData"
  | "onDrain"
  | "onEnd"
  | "onDisconnect"
  | "onError";

/** The WebSocket settings of {@linkcode WebSocketServerOptions}, all optional. */
export interface WebSocketSettings {
  /**
   * Largest incoming message in bytes (all its frames). Larger ones close
   * the connection with 1009 before their payload is buffered.
   * @default {67108864} (64 MiB)
   */
  maxPayload?: number;
  /**
   * Most frames in one incoming message; more close with 1009.
   * @default {65536}
   */
  maxFragments?: number;
  /**
   * Largest outgoing frame payload in bytes; longer messages are sent as
   * several frames (reference: MaxFrameSize).
   * @default {16777216} (16 MiB)
   */
  maxFrameSize?: number;
  /**
   * Deliver each message whole (true) or each part as it arrives with `eom`
   * on the last (false) (reference: BufferMessage).
   * @default {true}
   */
  bufferMessage?: boolean;
  /**
   * Longest request line of the opening handshake in bytes; longer: 414.
   * @default {8192}
   */
  maxRequestLineLength?: number;
  /**
   * Most bytes of request header lines; more: 431.
   * @default {16384}
   */
  maxHeaderBytes?: number;
  /**
   * Most request header lines; more: 431.
   * @default {100}
   */
  maxHeaders?: number;
  /**
   * Milliseconds from accepting the TCP connection to the end of the
   * opening handshake (or of a plain HTTP request's body); a slower client
   * gets 408 and is disconnected (slowloris). Includes the time
   * `onOpenRequest` takes.
   * @default {10000}
   */
  handshakeTimeout?: number;
  /**
   * Largest body in bytes of a plain HTTP request passed to `onRequest`;
   * larger: 413.
   * @default {1048576} (1 MiB)
   */
  maxRequestBody?: number;
  /**
   * Subprotocols this server speaks, in its order of preference. The first
   * one the client also offers is preselected in
   * `WebSocketOpenRequest.protocol`.
   * @default {[]}
   */
  protocols?: string[];
  /**
   * Heartbeat: milliseconds a connection may stay silent (nothing received)
   * before the server sends a ping; 0 turns the heartbeat off. Traffic
   * resets it, so busy connections are never pinged.
   * @default {30000}
   */
  pingInterval?: number;
  /**
   * Heartbeat: milliseconds to wait for anything (normally the pong) after
   * a heartbeat ping before dropping the connection as dead (1006).
   * @default {30000}
   */
  pongTimeout?: number;
  /**
   * Milliseconds without a data message in either direction (pings and
   * pongs do not count) after which the server closes with 1001; 0 = none.
   * @default {0}
   */
  idleTimeout?: number;
  /**
   * After sending a close frame, wait for the peer's close frame before
   * closing TCP (true), or close at once (false) (reference:
   * WaitForCloseResponse). The wait is bounded by `closeTimeout`.
   * @default {true}
   */
  waitForCloseResponse?: boolean;
  /**
   * Start new connections in line mode: text is cut into lines (CRLF, LF or
   * CR) delivered to `onLine` (reference: LineMode, ChangeLineMode).
   * @default {false}
   */
  lineMode?: boolean;
  /**
   * Longest line in bytes in line mode, >= 256; longer lines are cut and
   * delivered with `eol` false (reference: MaxLineLength).
   * @default {2048}
   */
  maxLineLength?: number;
  /**
   * Bytes queued for sending at which `send` throws `ServerError` 135 (would
   * block) instead of queueing more; below it a send is always accepted
   * whole, so one message may take the queue past it.
   * @default {8388608} (8 MiB)
   */
  maxWriteBuffer?: number;
  /**
   * permessage-deflate (RFC 7692; reference: EnablePermessageDeflate):
   * true or options to accept a client's offer (browsers always offer it),
   * false to decline. Compression runs synchronously through `node:zlib`
   * (Node 20.16+, Deno, Bun); where that is unavailable offers are declined
   * and `onLog` says why. `maxPayload` bounds the inflated size. Messages
   * sent in pieces (`sendFragment`, `openMessage`, `sendFile`) are
   * compressed piece by piece when their first piece reaches the threshold;
   * `{ compress: false }` opts one message out, and the open-request hook's
   * `req.perMessageDeflate` declines or tunes it for one connection.
   * @default {true} (with the defaults of {@linkcode PerMessageDeflateOptions})
   */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
}

/**
 * Options of {@linkcode WebSocketServer} and `serveWs()`: the TCP server's
 * (listening, admission, TLS, socket options), the WebSocket settings and
 * the callbacks. `closeTimeout` (default 10000 ms) bounds both the wait
 * for the peer's close frame and the final flush; `writeTimeout` fails a
 * connection whose send queue makes no progress.
 */
export interface WebSocketServerOptions
  extends Omit<ServerOptions, NotForWebSocket>, WebSocketSettings, WebSocketHandlers {}

/** The settings with defaults applied (see {@linkcode WebSocketSettings} for each). */
export type ResolvedWsSettings = Required<Omit<WebSocketSettings, "perMessageDeflate">> & {
  /** The permessage-deflate policy, or false when offers are declined. */
  perMessageDeflate: ResolvedDeflateOptions | false;
};

const ACT = "configure the WebSocket server";

/** Validates `options` over `base` (or the defaults); throws `TypeError`/`RangeError` naming the value. */
export function resolveWsSettings(
  options: WebSocketSettings,
  base?: ResolvedWsSettings,
): ResolvedWsSettings {
  const int = (name: keyof WebSocketSettings, min: number, fallback: number): number =>
    checkInteger(ACT, name, options[name], min, base ? base[name] as number : fallback);
  const bool = (name: keyof WebSocketSettings, fallback: boolean): boolean =>
    checkBoolean(ACT, name, options[name], base ? base[name] as boolean : fallback);
  const protocols = options.protocols ?? base?.protocols ?? [];
  if (!Array.isArray(protocols) || !protocols.every((p) => typeof p === "string" && isToken(p))) {
    throw new TypeError(
      `Cannot ${ACT} as protocols must be an array of tokens: current value is ${
        JSON.stringify(protocols)
      }`,
    );
  }
  const maxLineLength = int("maxLineLength", MIN_LINE_LENGTH, DEFAULT_LINE_LENGTH);
  return {
    maxPayload: int("maxPayload", 0, DEFAULT_MAX_PAYLOAD),
    maxFragments: int("maxFragments", 1, DEFAULT_MAX_FRAGMENTS),
    maxFrameSize: int("maxFrameSize", 1, DEFAULT_MAX_OUTGOING_FRAME),
    bufferMessage: bool("bufferMessage", true),
    maxRequestLineLength: int("maxRequestLineLength", 16, 8192),
    maxHeaderBytes: int("maxHeaderBytes", 2, 16384),
    maxHeaders: int("maxHeaders", 1, 100),
    handshakeTimeout: int("handshakeTimeout", 1, 10_000),
    maxRequestBody: int("maxRequestBody", 0, 1024 * 1024),
    protocols: [...protocols],
    pingInterval: int("pingInterval", 0, 30_000),
    pongTimeout: int("pongTimeout", 1, 30_000),
    idleTimeout: int("idleTimeout", 0, 0),
    waitForCloseResponse: bool("waitForCloseResponse", true),
    lineMode: bool("lineMode", false),
    maxLineLength,
    maxWriteBuffer: int("maxWriteBuffer", 1, 8 * 1024 * 1024),
    perMessageDeflate: deflatePolicy(options.perMessageDeflate, base?.perMessageDeflate),
  };
}

function deflatePolicy(
  value: boolean | PerMessageDeflateOptions | undefined,
  base: ResolvedDeflateOptions | false | undefined,
): ResolvedDeflateOptions | false {
  if (value === undefined) return base ?? resolveDeflateOptions({});
  if (value === false) return false;
  if (value === true) return base || resolveDeflateOptions({});
  if (typeof value !== "object" || value === null) {
    throw new TypeError(
      `Cannot ${ACT} as perMessageDeflate must be a boolean or an options object: current value is ${value}`,
    );
  }
  return resolveDeflateOptions({ ...(base || {}), ...value });
}

/** Keys of {@linkcode WebSocketSettings}, to split an options object. */
export const WS_SETTING_KEYS: readonly (keyof WebSocketSettings)[] = [
  "maxPayload",
  "maxFragments",
  "maxFrameSize",
  "bufferMessage",
  "maxRequestLineLength",
  "maxHeaderBytes",
  "maxHeaders",
  "handshakeTimeout",
  "maxRequestBody",
  "protocols",
  "pingInterval",
  "pongTimeout",
  "idleTimeout",
  "waitForCloseResponse",
  "lineMode",
  "maxLineLength",
  "maxWriteBuffer",
  "perMessageDeflate",
];
