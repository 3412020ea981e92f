/**
 * Typed errors of the server layer. Reference-document numbers are kept where
 * they exist (IPWorks TCPServer "Trappable Errors"); socket failures keep
 * their system code (`ECONNRESET`, `ETIMEDOUT`, ...).
 *
 * @module
 */

import { TLS_STATUS } from "../runtime/errors.ts";

/** Stable numeric codes from the reference documents. */
export const ErrorCode = {
  /** The server is already listening. */
  AlreadyListening: 104,
  /** The port cannot change while listening. */
  PortWhileListening: 106,
  /** The host cannot change while listening. */
  HostWhileListening: 107,
  /** MaxConnections cannot change while listening. */
  MaxConnectionsWhileListening: 108,
  /** No connection has this id. */
  InvalidConnectionId: 126,
  /** The send queue is full; wait for ReadyToSend (`conn.ready`). */
  WouldBlock: 135,
} as const;

/** One of the values of {@linkcode ErrorCode}. */
export type ErrorCodeValue = typeof ErrorCode[keyof typeof ErrorCode];

/**
 * A server-level failure with a reference-document code.
 *
 * @example Checking the code
 * ```ts
 * import { ErrorCode, ServerError } from "./errors.ts";
 * const err = new ServerError(ErrorCode.InvalidConnectionId, "No connection has id 7");
 * if (err.code !== 126) throw new Error("unexpected");
 * ```
 */
export class ServerError extends Error {
  /** The reference code, for example 126 for an unknown connection id. */
  readonly code: ErrorCodeValue;
  /** Creates an error with a code and a message. */
  constructor(code: ErrorCodeValue, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ServerError";
    this.code = code;
  }
}

/**
 * A connection-level failure: a socket error with its system code, or a
 * timeout decided by the server (`ETIMEDOUT` for idle and write timeouts).
 *
 * @example A reset seen as an error
 * ```ts
 * import { ConnectionError } from "./errors.ts";
 * const err = new ConnectionError("ECONNRESET", "Connection reset by peer");
 * if (err.code !== "ECONNRESET") throw new Error("unexpected");
 * ```
 */
export class ConnectionError extends Error {
  /** The system error code, for example `ECONNRESET`, `EPIPE` or `ETIMEDOUT`. */
  readonly code: string;
  /** Creates an error with a system code and a message. */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConnectionError";
    this.code = code;
  }
}

/** Winsock-style numbers the reference documents use for socket errors. */
const SYSTEM_STATUS: Record<string, number> = {
  EINTR: 10004,
  EACCES: 10013,
  EINVAL: 10022,
  EMFILE: 10024,
  EWOULDBLOCK: 10035,
  EAGAIN: 10035,
  EADDRINUSE: 10048,
  EADDRNOTAVAIL: 10049,
  ENETDOWN: 10050,
  ENETUNREACH: 10051,
  ENETRESET: 10052,
  ECONNABORTED: 10053,
  ECONNRESET: 10054,
  ENOBUFS: 10055,
  ENOTCONN: 10057,
  EPIPE: 10058,
  ETIMEDOUT: 10060,
  ECONNREFUSED: 10061,
  EHOSTDOWN: 10064,
  EHOSTUNREACH: 10065,
  ENOTFOUND: 11001,
  ...TLS_STATUS, // 276 handshake, 280 client certificate, 273 credentials
};

/**
 * Maps a system error code to the reference documents' numeric status
 * (for example `ECONNRESET` to 10054); unknown codes map to -1.
 *
 * @example
 * ```ts
 * import { statusOf } from "./errors.ts";
 * if (statusOf("ECONNRESET") !== 10054) throw new Error("unexpected");
 * ```
 */
export function statusOf(code: string | undefined): number {
  if (!code) return 0;
  return SYSTEM_STATUS[code] ?? -1;
}

/** Reads a string `code` from any thrown value. */
export function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** One address that could not be bound. */
export interface ListenFailure {
  /** The address asked for, as `host:port`. */
  address: string;
  /** What the runtime reported (with its system `code`). */
  error: Error;
}

/**
 * Listening failed on one or more addresses. Every failure is listed, not
 * only the first (reference: MultiListenEx); `code` is the first one's code.
 *
 * @example
 * ```ts
 * import { ListenError } from "./errors.ts";
 * const e = Object.assign(new Error("in use"), { code: "EADDRINUSE" });
 * const err = new ListenError([{ address: "127.0.0.1:80", error: e }]);
 * if (err.code !== "EADDRINUSE") throw new Error("unexpected");
 * ```
 */
export class ListenError extends Error {
  /** Each address that failed, with its error. */
  readonly failures: ListenFailure[];
  /** The first failure's system code, for example `EADDRINUSE`. */
  readonly code: string;
  /** Creates the error from its failures. */
  constructor(failures: ListenFailure[]) {
    super(
      `Cannot listen on ${failures.length === 1 ? "" : "every address: "}` +
        failures.map((f) => `${f.address} (${codeOf(f.error) ?? "error"}: ${f.error.message})`)
          .join("; "),
      { cause: failures[0]?.error },
    );
    this.name = "ListenError";
    this.failures = failures;
    this.code = codeOf(failures[0]?.error) ?? "EINVAL";
  }
}
