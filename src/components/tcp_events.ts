/**
 * Events of the event-style {@linkcode TcpServer} component, with the
 * reference documents' names and fields.
 *
 * @module
 */

import type { SSLClientAuthenticationEvent, SSLStatusEvent } from "./tls_events.ts";

/** ConnectionRequest: set `accept` to false to refuse (reference: ConnectionRequest). */
export class ConnectionRequestEvent extends Event {
  /** The peer's address. */
  readonly address: string;
  /** The peer's port. */
  readonly port: number;
  /** Whether the connection will be accepted; prefilled by AllowedClients/BlockedClients. */
  accept: boolean;
  /** Creates the event. */
  constructor(address: string, port: number, accept: boolean) {
    super("ConnectionRequest");
    this.address = address;
    this.port = port;
    this.accept = accept;
  }
}

/** Connected and Disconnected: `statusCode` 0 and "OK" when normal. */
export class ConnectionStatusEvent extends Event {
  /** The connection. */
  readonly connectionId: string;
  /** 0, or the reference number of the system error (10054 reset, 10060 timeout). */
  readonly statusCode: number;
  /** "OK" or what went wrong. */
  readonly description: string;
  /** Creates a "Connected" or "Disconnected" event. */
  constructor(type: "Connected" | "Disconnected", connectionId: string, statusCode: number, description: string) {
    super(type);
    this.connectionId = connectionId;
    this.statusCode = statusCode;
    this.description = description;
  }
}

/** DataIn: one unit of incoming data (reference: DataIn). */
export class DataInEvent extends Event {
  /** The connection. */
  readonly connectionId: string;
  /** The bytes (a copy the listener may keep). */
  readonly textB: Uint8Array;
  /** True when the EOL ended this unit; false when cut at MaxLineLength (always true without EOL). */
  readonly EOL: boolean;
  #decoder: TextDecoder;
  #text: string | undefined;
  /** Creates the event. */
  constructor(connectionId: string, textB: Uint8Array, eol: boolean, decoder: TextDecoder) {
    super("DataIn");
    this.connectionId = connectionId;
    this.textB = textB;
    this.EOL = eol;
    this.#decoder = decoder;
  }
  /** The bytes decoded with the component's code page (UTF-8 by default). */
  get text(): string {
    return (this.#text ??= this.#decoder.decode(this.textB));
  }
}

/** Error: a failure on a connection (reference: Error). */
export class ErrorEvent extends Event {
  /** The connection, or "" for server-level errors. */
  readonly connectionId: string;
  /** A reference number (135 would block, 10054 reset, ...) or -1. */
  readonly errorCode: number;
  /** What happened. */
  readonly description: string;
  /** The original error. */
  readonly error: Error;
  /** Creates the event. */
  constructor(connectionId: string, errorCode: number, error: Error) {
    super("Error");
    this.connectionId = connectionId;
    this.errorCode = errorCode;
    this.description = error.message;
    this.error = error;
  }
}

/** ReadyToSend: the send queue has room again, or the connection just opened. */
export class ReadyToSendEvent extends Event {
  /** The connection. */
  readonly connectionId: string;
  /** Creates the event. */
  constructor(connectionId: string) {
    super("ReadyToSend");
    this.connectionId = connectionId;
  }
}

/** Event types of {@linkcode TcpServer} by name. */
export interface TcpServerEventMap {
  /** A client certificate arrived (or was missing); set `accept`. */
  SSLClientAuthentication: SSLClientAuthenticationEvent;
  /** TLS handshake progress. */
  SSLStatus: SSLStatusEvent;
  /** A client asks to connect. */
  ConnectionRequest: ConnectionRequestEvent;
  /** A connection is established. */
  Connected: ConnectionStatusEvent;
  /** Data arrived. */
  DataIn: DataInEvent;
  /** A connection closed. */
  Disconnected: ConnectionStatusEvent;
  /** A failure. */
  Error: ErrorEvent;
  /** Ready to send. */
  ReadyToSend: ReadyToSendEvent;
}
