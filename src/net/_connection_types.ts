/**
 * The types a {@linkcode Connection} shares with its server: how it closed,
 * what it needs from the server, STARTTLS options.
 *
 * @module
 */

import type { Socket } from "./types.ts";
import type { StartTlsOptions } from "./tls_types.ts";
import type { Connection } from "./connection.ts";

/** How a connection ended (reference: Disconnected StatusCode / Description). */
export interface CloseInfo {
  /** 0 for a normal close, else the reference number of the system error (10054 reset, 10060 timeout). */
  code: number;
  /** "OK" or a description of the failure. */
  reason: string;
  /** The failure, with its system `code`, when the close was not normal. */
  error?: Error;
}

/** What a connection needs from its server. */
export interface ConnectionHost {
  /** Hot-path data callback, when the application uses events. */
  onData?: (conn: Connection, bytes: Uint8Array, eol: boolean) => void;
  /** The send queue drained (ReadyToSend). */
  onDrain?: (conn: Connection) => void;
  /** Peer sent FIN while `allowHalfOpen` is on. */
  onEnd?: (conn: Connection) => void;
  /** Keep the write side open after the peer's FIN. */
  allowHalfOpen: boolean;
  /** Graceful (true) or abortive (false) `disconnect()`. */
  linger: boolean;
  /** Queue size in bytes above which `write` returns false. */
  writeHighWaterMark: number;
  /** Queue size in bytes above which `write` throws code 135. */
  maxWriteBuffer: number;
  /** Raw-bytes readable high-water mark in bytes. */
  readHighWaterMark: number;
  /** Milliseconds a graceful close may take before the connection is reset. */
  closeTimeout: number;
  /** Opens a file as a byte stream. */
  openFile(path: string): Promise<ReadableStream<Uint8Array>>;
  /** Reports an error thrown by application code (reference: Error event). */
  report(error: Error, conn: Connection): void;
  /** Called once when the connection has closed. */
  closed(conn: Connection, info: CloseInfo): void;
  /** A per-connection timeout changed (the sweeper may need a finer tick). */
  timeoutChanged(ms: number): void;
  /**
   * Runs the server-side TLS handshake over `socket` and judges the client
   * certificate; resolves with the TLS socket (not started). Absent when
   * the server has no TLS.
   */
  startTls?(conn: Connection, socket: Socket, options: StartTlsOptions): Promise<Socket>;
  /** A TLS handshake completed on `conn` (reference: Connected after StartSSL). */
  secured?(conn: Connection): void;
}

/** Options of {@linkcode Connection.startTls}. */
export interface ConnectionStartTlsOptions {
  /**
   * Bytes the application already took from the connection that belong to
   * the TLS stream: on an unframed connection, what followed the STARTTLS
   * command in the same chunk. With framing, the connection keeps such
   * bytes itself and this is not needed.
   */
  initialData?: Uint8Array;
}

/** Who reads the connection: the data callback, or one of the two streams. */
export type Consumer = "events" | "bytes" | "segments";
