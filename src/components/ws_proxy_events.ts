/**
 * Events of the event-style {@linkcode WsProxy} component with the
 * reference WebSocketProxy's names and fields. Connected, Disconnected,
 * ConnectionRequest and Error share the TCP component's classes; Log is
 * the WsServer's.
 *
 * @module
 */

import type { ConnectionRequestEvent, ConnectionStatusEvent, ErrorEvent } from "./tcp_events.ts";
import { WebSocketOpenRequestEvent } from "./ws_events.ts";
import type { WsLogEvent } from "./ws_events.ts";

/**
 * WebSocketOpenRequest of the proxy: besides the WSServer fields, the
 * target of this connection, prefilled with DefaultForwardHost and
 * DefaultForwardPort and writable (reference: WebSocketProxy
 * WebSocketOpenRequest ForwardHost, ForwardPort, StatusCode).
 */
export class WsProxyOpenRequestEvent extends WebSocketOpenRequestEvent {
  /** Where this connection goes; "" when no default is set. */
  forwardHost: string;
  /** Its port; 0 when no default is set. */
  forwardPort: number;
  /** Creates the event. */
  constructor(base: WebSocketOpenRequestEvent, forwardHost: string, forwardPort: number) {
    super(
      base.connectionId,
      base.requestURI,
      base.hostHeader,
      base.originHeader,
      base.subProtocols,
      base.extensions,
      base.requestHeaders,
    );
    this.forwardHost = forwardHost;
    this.forwardPort = forwardPort;
  }
}

/** DataIn: bytes passed through the proxy (reference: DataIn). */
export class WsProxyDataInEvent extends Event {
  /** The connection. */
  readonly connectionId: string;
  /** True for data from the WebSocket client to the target, false for the target's answer. */
  readonly fromClient: boolean;
  /** The bytes (a copy the listener may keep). */
  readonly textB: Uint8Array;
  #decoder: TextDecoder;
  #text: string | undefined;
  /** Creates the event. */
  constructor(connectionId: string, fromClient: boolean, textB: Uint8Array, decoder: TextDecoder) {
    super("DataIn");
    this.connectionId = connectionId;
    this.fromClient = fromClient;
    this.textB = textB;
    this.#decoder = decoder;
  }
  /** The bytes decoded with the component's code page (UTF-8 by default). */
  get text(): string {
    return (this.#text ??= this.#decoder.decode(this.textB));
  }
}

/** Event types of {@linkcode WsProxy} by name. */
export interface WsProxyEventMap {
  /** A client asks to connect (TCP). */
  ConnectionRequest: ConnectionRequestEvent;
  /** A client asks to open a WebSocket: set forwardHost/forwardPort, or statusCode to refuse. */
  WebSocketOpenRequest: WsProxyOpenRequestEvent;
  /** The WebSocket is open and its target connection is up. */
  Connected: ConnectionStatusEvent;
  /** Data passed through, in either direction. */
  DataIn: WsProxyDataInEvent;
  /** A proxied connection ended: `statusCode` is the WebSocket close code, `description` the reason. */
  Disconnected: ConnectionStatusEvent;
  /** A failure (target unreachable, socket errors, protocol errors). */
  Error: ErrorEvent;
  /** A log entry. */
  Log: WsLogEvent;
}
