/**
 * Internal: the rarely used part of a WebSocket session's state, built on
 * first use so an idle session stays small (as `src/net/_connection_extras.ts`
 * does for the TCP connection): close info and the `closed` promise, pings,
 * line mode, the streams faces, a message sent in pieces and the frames held
 * behind it, permessage-deflate, the subprotocol, a per-session line limit.
 *
 * @module
 */

import type { LineCore } from "../codec/line_core.ts";
import type { DeflateSession } from "./_ws_deflate.ts";
import type { PendingPings } from "./_ws_pings.ts";
import type { HeldFrames } from "./_ws_send.ts";
import type { StreamSink } from "./_ws_streams.ts";
import type { WebSocketCloseInfo } from "./ws_connection_types.ts";

/** Rare per-session state; every field starts empty (see `WebSocketConnection._ex`). */
export class WsExtras {
  /** How the session closed (or is closing), once known. */
  info: WebSocketCloseInfo | undefined = undefined;
  /** The `closed` promise, once asked for before the close. */
  closedP: Promise<WebSocketCloseInfo> | undefined = undefined;
  /** Settles {@linkcode WsExtras.closedP}. */
  resolveClosed: ((info: WebSocketCloseInfo) => void) | undefined = undefined;
  /** Last measured ping round trip in milliseconds. */
  rtt: number | undefined = undefined;
  /** Pings sent with `ping()` waiting for their pong. */
  pings: PendingPings | undefined = undefined;
  /** The line codec while line mode is on. */
  lines: LineCore | undefined = undefined;
  /** Delivers a line to `onLine`, bound to the session. */
  lineEmit: ((line: Uint8Array, eol: boolean) => void) | undefined = undefined;
  /** Longest line in line mode, when set for this session (else the server's). */
  maxLine: number | undefined = undefined;
  /** The consumer of `messages` / `fragments`, once taken. */
  sink: StreamSink | undefined = undefined;
  /** The `writable` face, once taken. */
  writable: WritableStream<string | Uint8Array> | undefined = undefined;
  /** Opcode of the message sent in pieces (0 when none has begun). */
  outType = 0;
  /** Who sends the open message in pieces: `sendFragment`, a stream or a file. */
  outOwner: object | undefined = undefined;
  /** Frames and messages held until the message sent in pieces ends. */
  held: HeldFrames | undefined = undefined;
  /** permessage-deflate state when negotiated. */
  pmd: DeflateSession | undefined = undefined;
  /** The negotiated `Sec-WebSocket-Extensions`, "" for none. */
  ext = "";
  /** The subprotocol chosen in the handshake, "" for none. */
  protocol = "";
}
