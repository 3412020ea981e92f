/**
 * The server's side of a TLS upgrade: runs the runtime adapter's handshake
 * with the server's settings, reports progress (reference: SSLStatus), and
 * applies the client-certificate policy and hook (reference:
 * SSLClientAuthentication) before the connection sees any data.
 *
 * @module
 */

import type { RuntimeAdapter, Socket } from "./types.ts";
import type { StartTlsOptions } from "./tls_types.ts";
import type { Connection } from "./connection.ts";
import type { ServerOptions } from "./server_options.ts";
import type { ResolvedTls } from "../tls/tls_options.ts";
import { clientCertificateRequest } from "../tls/client_auth.ts";
import { NotSupportedError, TlsError } from "../runtime/errors.ts";

const IGNORE = { data() {}, end() {}, drain() {}, close() {} };

/** What {@linkcode upgradeConnection} needs from the server. */
export interface TlsHost {
  /** The adapter in use. */
  runtime: RuntimeAdapter | undefined;
  /** Resolved TLS settings, undefined without TLS. */
  tls: ResolvedTls | undefined;
  /** The server's current options (hooks). */
  options: ServerOptions;
  /** Reports an error thrown by a hook. */
  report(error: unknown, conn?: Connection): void;
}

/** Sends a status message to `onTlsStatus`, never throwing. */
export function tlsStatus(options: ServerOptions, message: string, conn?: Connection): void {
  try {
    options.onTlsStatus?.(message, conn);
  } catch { /* a log hook must not break a connection */ }
}

/** Upgrades `socket` for `conn`; rejects with `TlsError` when the handshake or the client certificate fails. */
export async function upgradeConnection(
  host: TlsHost,
  conn: Connection,
  socket: Socket,
  options: StartTlsOptions,
): Promise<Socket> {
  const { runtime, tls } = host;
  if (tls === undefined || runtime === undefined) {
    socket.abort();
    throw new TlsError(
      "ERR_TLS_NOT_CONFIGURED",
      `Cannot start TLS on connection ${conn.id}: the server has no tls option (or is not listening)`,
    );
  }
  if (runtime.startTls === undefined) {
    socket.abort();
    throw new NotSupportedError(
      runtime.name,
      "startTls",
      `The ${runtime.name} adapter cannot run a TLS server handshake`,
    );
  }
  const o = host.options;
  const tlsSocket = await runtime.startTls(socket, tls.config, {
    ...options,
    onStatus: (message) => tlsStatus(o, message, conn),
  });
  if (tls.clientCertificate === "none") return tlsSocket;
  const info = tlsSocket.tls?.();
  if (info === undefined) return tlsSocket;
  const request = clientCertificateRequest(tls.clientCertificate, info);
  let accept = request.accept;
  if (o.onClientCertificate !== undefined) {
    try {
      const verdict = await o.onClientCertificate(conn, request);
      if (verdict !== undefined) accept = verdict === true;
    } catch (error) {
      host.report(error, conn);
      accept = false;
    }
  }
  const who = request.certificate?.subject ?? "none";
  tlsStatus(
    o,
    `client certificate ${who}: ${request.status}, ${accept ? "accepted" : "refused"}`,
    conn,
  );
  if (accept && options.signal?.aborted !== true) return tlsSocket;
  tlsSocket.start(IGNORE);
  if (!accept) tlsSocket.close();
  else tlsSocket.abort();
  throw new TlsError(
    "ERR_TLS_CLIENT_CERT",
    accept
      ? `TLS on connection ${conn.id} aborted: the connection was closed by the server`
      : `Client certificate refused on connection ${conn.id}: ${request.status}`,
    { reason: request.status },
  );
}
