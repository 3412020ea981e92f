/**
 * One server-side `node:tls` handshake with a deadline, resolving with the
 * {@linkcode Socket} it yields (`_node_tls_socket.ts`).
 *
 * @module
 */

import type { Socket } from "../net/types.ts";
import type { NodeSocketOptions } from "./_node_socket.ts";
import { readTlsInfo, type X509Parser } from "./_tls_info.ts";
import { type NodeTlsRawSocket, NodeTlsSocket, type Transport } from "./_node_tls_socket.ts";
import { errorCode } from "./_errors.ts";
import { TlsError } from "./errors.ts";

export type { NodeTlsRawSocket, Transport } from "./_node_tls_socket.ts";

/** What {@linkcode runHandshake} needs. */
export interface HandshakeOptions {
  /** Makes the `TLSSocket` (throws on bad options). */
  create(onSni: (name: string) => void): NodeTlsRawSocket;
  /** The transport, for `abort`. */
  transport: Transport;
  /** Addresses and reset ability of the plaintext socket. */
  socketOptions: NodeSocketOptions;
  /** Whether a client certificate was asked for. */
  requestCert: boolean;
  /** The SNI name, when it was read before the TLS library saw the bytes. */
  servername: string | undefined;
  /** `Date.now()` value after which the handshake fails. */
  deadline: number;
  /** The configured timeout in milliseconds, for the message. */
  timeout: number;
  /** Progress messages. */
  status(message: string): void;
  /** Ends the handshake when aborted. */
  signal: AbortSignal | undefined;
  /** Reads the client certificate's names in their order. */
  parse: X509Parser | undefined;
}

const noop = () => {};

/** An aborted handshake as a {@linkcode TlsError}. */
export function abortedError(): TlsError {
  return new TlsError(
    "ERR_TLS_HANDSHAKE",
    "TLS handshake aborted: the connection was closed by the server",
  );
}

/** A handshake timeout as a {@linkcode TlsError}. */
export function timeoutError(ms: number): TlsError {
  return new TlsError("ERR_TLS_HANDSHAKE_TIMEOUT", `TLS handshake not completed within ${ms} ms`);
}

/**
 * Creates the `TLSSocket` and waits for `secure`. On an error, a close or
 * the deadline, destroys the TLS socket and its transport and rejects with
 * a {@linkcode TlsError}.
 */
export function runHandshake(o: HandshakeOptions): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    let sni = o.servername;
    let done = false;
    let t: NodeTlsRawSocket;
    try {
      t = o.create((name) => {
        if (!name) return; // Deno calls SNICallback with "" when the client sent no name
        sni = name;
        o.status(`client asked for host name ${name} (SNI)`);
      });
    } catch (err) {
      o.transport.abort();
      reject(
        err instanceof TlsError
          ? err
          : new TlsError("ERR_TLS_HANDSHAKE", `Cannot start TLS: ${(err as Error).message}`, {
            cause: err,
          }),
      );
      return;
    }
    const fail = (error: TlsError, reset: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      o.signal?.removeEventListener("abort", onAbort);
      o.status(error.message);
      t.removeListener("secure", onSecure);
      t.on("error", noop);
      // A failed handshake closes gracefully so the client can read the alert; a timeout resets.
      if (reset) o.transport.abort();
      t.destroy();
      reject(error);
    };
    const onError = (err: Error) => {
      fail(
        new TlsError("ERR_TLS_HANDSHAKE", `TLS handshake failed: ${err.message}`, {
          reason: errorCode(err),
          cause: err,
        }),
        false,
      );
    };
    const onClose = () => {
      fail(
        new TlsError("ERR_TLS_HANDSHAKE", "TLS handshake failed: the client closed the connection"),
        false,
      );
    };
    const onAbort = () => fail(abortedError(), true);
    const onSecure = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      o.signal?.removeEventListener("abort", onAbort);
      t.removeListener("error", onError);
      t.removeListener("close", onClose);
      const info = readTlsInfo(t, o.requestCert, sni, o.parse);
      o.status(
        `handshake complete: ${info.protocol} ${info.cipher}` +
          (info.alpnProtocol ? `, ALPN ${info.alpnProtocol}` : "") +
          (info.servername ? `, host ${info.servername}` : ""),
      );
      resolve(new NodeTlsSocket(t, o.socketOptions, info, o.transport));
    };
    const timer = setTimeout(
      () => fail(timeoutError(o.timeout), true),
      Math.max(0, o.deadline - Date.now()),
    );
    t.once("secure", onSecure);
    t.on("error", onError);
    t.once("close", onClose);
    if (o.signal?.aborted) onAbort();
    else o.signal?.addEventListener("abort", onAbort, { once: true });
  });
}
