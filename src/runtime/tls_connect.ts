/**
 * Outbound TLS (client side) on every runtime through its `node:tls`
 * (`tls.connect`), wrapped as a {@linkcode Socket}. Used by the
 * WebSocket-to-TCP proxy for TLS targets; the server side lives in
 * `_node_tls.ts`.
 *
 * @module
 */

import type { Socket } from "../net/types.ts";
import { resolveConnectOptions } from "./_common.ts";
import { builtin } from "./_builtin.ts";
import { connectError, formatAddress, systemError } from "./_errors.ts";
import { type NodeRawSocket, NodeSocket } from "./_node_socket.ts";
import { runtimeName } from "./mod.ts";
import { TlsError } from "./errors.ts";

/** Options of {@linkcode connectTls}. */
export interface TlsConnectOptions {
  /** Host name or address. @default "127.0.0.1" */
  hostname?: string;
  /** Port. */
  port: number;
  /** Milliseconds for the TCP connect and the TLS handshake together. @default 10000 */
  timeout?: number;
  /** Server name sent in SNI and checked against the certificate. @default hostname (none for IP addresses) */
  servername?: string;
  /** Trusted CA certificates (PEM text); the runtime's default store when absent. */
  ca?: string | string[];
  /** Refuse servers whose certificate does not verify. @default true */
  rejectUnauthorized?: boolean;
}

interface NodeTlsClientModule {
  connect(options: Record<string, unknown>): NodeRawSocket & {
    readonly authorized?: boolean;
    readonly authorizationError?: Error | string;
  };
}

const IP = /^(\d{1,3}(\.\d{1,3}){3}|.*:.*)$/;

/**
 * Opens a TLS connection and resolves once the handshake is done. Rejects
 * with a `TlsError` (`ERR_TLS_HANDSHAKE`, or the certificate check's
 * reason) or a system error (`ECONNREFUSED`, `ETIMEDOUT`).
 *
 * @example Connecting to a TLS service with a private CA
 * ```ts ignore
 * import { connectTls } from "./tls_connect.ts";
 * const socket = await connectTls({ hostname: "db.internal", port: 5433, ca: caPem });
 * socket.start({ data: (b) => console.log(b.length), end() {}, drain() {}, close() {} });
 * ```
 */
export function connectTls(options: TlsConnectOptions): Promise<Socket> {
  let o: ReturnType<typeof resolveConnectOptions>;
  try {
    o = resolveConnectOptions(options);
  } catch (err) {
    return Promise.reject(err);
  }
  let tls: NodeTlsClientModule;
  try {
    tls = builtin<NodeTlsClientModule>(runtimeName(), "node:tls");
  } catch (err) {
    return Promise.reject(err);
  }
  const servername = options.servername ?? (IP.test(o.hostname) ? undefined : o.hostname);
  const raw = tls.connect({
    host: o.hostname,
    port: o.port,
    servername,
    ca: options.ca,
    rejectUnauthorized: options.rejectUnauthorized ?? true,
    allowHalfOpen: true,
  });
  return new Promise<Socket>((resolve, reject) => {
    let connected = false;
    const settle = () => {
      clearTimeout(timer);
      raw.removeListener("secureConnect", onSecure);
      raw.removeListener("connect", onConnect);
      raw.removeListener("error", onError);
    };
    const fail = (error: Error) => {
      settle();
      raw.on("error", () => {});
      raw.destroy();
      reject(error);
    };
    const onConnect = () => (connected = true);
    const onSecure = () => {
      settle();
      raw.pause();
      resolve(new NodeSocket(raw));
    };
    const onError = (err: unknown) => {
      if (!connected) return fail(connectError(err, o.hostname, o.port));
      const message = err instanceof Error ? err.message : String(err);
      fail(
        new TlsError(
          "ERR_TLS_HANDSHAKE",
          `TLS handshake with ${formatAddress(o.hostname, o.port)} failed: ${message}`,
          { cause: err },
        ),
      );
    };
    const timer = setTimeout(() => {
      fail(systemError(
        "ETIMEDOUT",
        `Cannot connect to ${
          formatAddress(o.hostname, o.port)
        } with TLS: ETIMEDOUT (no handshake within ${o.timeout} ms)`,
      ));
    }, o.timeout);
    raw.once("connect", onConnect);
    raw.once("secureConnect", onSecure);
    raw.once("error", onError);
  });
}
