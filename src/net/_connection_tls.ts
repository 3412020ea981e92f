/**
 * The errors of {@linkcode Connection.startTls} (STARTTLS, reference:
 * StartSSL) refusing to start.
 *
 * @module
 */

import { TlsError } from "../runtime/errors.ts";

/** STARTTLS asked for twice, or on a connection that is TLS from the first byte. */
export function tlsAlreadyStarted(id: string, secure: boolean): TlsError {
  return new TlsError(
    "ERR_TLS_ALREADY_STARTED",
    `Cannot start TLS on connection ${id}: ${
      secure ? "it already uses TLS" : "TLS was already started"
    } (STARTTLS requested twice)`,
  );
}

/** STARTTLS on a server without the `tls` option. */
export function tlsNotConfigured(id: string): TlsError {
  return new TlsError(
    "ERR_TLS_NOT_CONFIGURED",
    `Cannot start TLS on connection ${id}: the server has no tls option`,
  );
}

/** A stream consumer already holds plaintext bytes that followed the STARTTLS command. */
export function tlsPipelined(id: string, consumer: string): TlsError {
  return new TlsError(
    "ERR_TLS_PIPELINED",
    `Cannot start TLS on connection ${id}: ${consumer} read past the STARTTLS command are still queued in plaintext`,
  );
}
