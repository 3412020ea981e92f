/**
 * Events of the event-style {@linkcode WsServer} component with the
 * reference WSServer's names and fields. Connected, Disconnected,
 * ConnectionRequest, Error and ReadyToSend share the TCP component's
 * classes.
 *
 * @module
 */

import type { ConnectionRequestEvent, ConnectionStatusEvent, ErrorEvent, ReadyToSendEvent } from "./tcp_events.ts";

/** DataFormat values of DataIn: 0 continuation (or any line in line mode), 1 text, 2 binary. */
export type WsDataFormat = 0 | 1 | 2;

/** DataIn: a message, a part of one, or a line (reference: DataIn). */
export class WsDataInEvent extends Event {
  /** The connection. */
  readonly connectionId: string;
  /** 1 text (UTF-8), 2 binary, 0 a continuation part or a line in line mode. */
  readonly dataFormat: WsDataFormat;
  /** The bytes (a copy the listener may keep). */
  readonly textB: Uint8Array;
  /** True on the last part of a message (always true when BufferMessage is on; false for lines). */
  readonly eom: boolean;
  /** In line mode, true when a line end ended the line, false when cut at MaxLineLength; else false. */
  readonly eol: boolean;
  #decoder: TextDecoder;
  #text: string | undefined;
  /** Creates the event. */
  constructor(
    connectionId: string,
    dataFormat: WsDataFormat,
    textB: Uint8Array,
    eom: boolean,
    eol: boolean,
    decoder: TextDecoder,
  ) {
    super("DataIn");
    this.connectionId = connectionId;
    this.dataFormat = dataFormat;
    this.textB = textB;
    this.eom = eom;
    this.eol = eol;
    this.#decoder = decoder;
  }
  /** The bytes decoded with the component's code page (UTF-8 by default). */
  get text(): string {
    return (this.#text ??= this.#decoder.decode(this.textB));
  }
}

/** Ping: a ping (`response` false) or pong (`response` true) arrived (reference: Ping). */
export class WsPingEvent extends Event {
  /** The connection. */
  readonly connectionId: string;
  /** The control frame's payload. */
  readonly payload: Uint8Array;
  /** True for a pong (a response), false for a ping (answered automatically). */
  readonly response: boolean;
  /** Creates the event. */
  constructor(connectionId: string, payload: Uint8Array, response: boolean) {
    super("Ping");
    this.connectionId = connectionId;
    this.payload = payload;
    this.response = response;
  }
}

/** Log levels: 1 info, 2 verbose, 3 debug (reference: Log LogLevel). */
export type WsLogLevel = 1 | 2 | 3;

/** Log: one log entry, as verbose as the LogLevel setting allows (reference: Log). */
export class WsLogEvent extends Event {
  /** The connection, or "" for server-level entries. */
  readonly connectionId: string;
  /** 1 info, 2 verbose, 3 debug. */
  readonly logLevel: WsLogLevel;
  /** The entry. */
  readonly message: string;
  /** "Info", "Verbose", "Debug" or "Error". */
  readonly logType: "Info" | "Verbose" | "Debug" | "Error";
  /** Creates the event. */
  constructor(connectionId: string, logLevel: WsLogLevel, message: string, logType: WsLogEvent["logType"]) {
    super("Log");
    this.connectionId = connectionId;
    this.logLevel = logLevel;
    this.message = message;
    this.logType = logType;
  }
}

/**
 * WebSocketOpenRequest: a client asks to open a WebSocket. Set
 * `statusCode` (for example 401) to refuse, `subProtocols` to the one
 * chosen from the client's list, `responseHeaders` to add headers
 * ("Name: value" lines), `enablePermessageDeflate` false to decline
 * compression for this client (reference: WebSocketOpenRequest).
 */
export class WebSocketOpenRequestEvent extends Event {
  /** The connection. */
  readonly connectionId: string;
  /** The request target, for example `/chat?room=1`. */
  readonly requestURI: string;
  /** The Host header ("" when absent). */
  readonly hostHeader: string;
  /** The Origin header ("" when absent). */
  readonly originHeader: string;
  /** Offered subprotocols, comma separated; set it to the chosen one. */
  subProtocols: string;
  /** Offered extensions, as sent. */
  readonly extensions: string;
  /** The request headers, one "Name: value" per line. */
  readonly requestHeaders: string;
  /** 101 (default) accepts; set an HTTP status such as 401 to refuse. */
  statusCode = 101;
  /** Headers to add to the response, one "Name: value" per line. */
  responseHeaders = "";
  /**
   * Negotiate permessage-deflate if the client offered it and the server's
   * `EnablePermessageDeflate` is on; false declines it for this connection.
   * @default {true}
   */
  enablePermessageDeflate = true;
  /** Creates the event. */
  constructor(
    connectionId: string,
    requestURI: string,
    hostHeader: string,
    originHeader: string,
    subProtocols: string,
    extensions: string,
    requestHeaders: string,
  ) {
    super("WebSocketOpenRequest");
    this.connectionId = connectionId;
    this.requestURI = requestURI;
    this.hostHeader = hostHeader;
    this.originHeader = originHeader;
    this.subProtocols = subProtocols;
    this.extensions = extensions;
    this.requestHeaders = requestHeaders;
  }
}

/** Event types of {@linkcode WsServer} by name. */
export interface WsServerEventMap {
  /** A client asks to connect (TCP). */
  ConnectionRequest: ConnectionRequestEvent;
  /** A client asks to open a WebSocket. */
  WebSocketOpenRequest: WebSocketOpenRequestEvent;
  /** A WebSocket opened. */
  Connected: ConnectionStatusEvent;
  /** Data arrived. */
  DataIn: WsDataInEvent;
  /** A ping or pong arrived. */
  Ping: WsPingEvent;
  /** A WebSocket closed: `statusCode` is the close code. */
  Disconnected: ConnectionStatusEvent;
  /** A failure. */
  Error: ErrorEvent;
  /** A log entry. */
  Log: WsLogEvent;
  /** Ready to send. */
  ReadyToSend: ReadyToSendEvent;
}
