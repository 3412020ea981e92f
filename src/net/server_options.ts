/**
 * Options of the TCP server and their validation.
 *
 * @module
 */

import type { CloseInfo, Connection } from "./connection.ts";
import type { FramingOptions } from "./framing.ts";
import type { NetAddr } from "./types.ts";
import { checkTlsOptions, type TlsOptions } from "../tls/tls_options.ts";
import type { ClientCertificateRequest } from "../tls/client_auth.ts";
import { NotSupportedError } from "../runtime/errors.ts";

/** One address to listen on. */
export interface ListenAddress {
  /** Address to bind; `"::"` is dual stack unless `ipv6Only`. @default "0.0.0.0" */
  hostname?: string;
  /** Port, 0 = any free port. @default 0 */
  port?: number;
}

/** What the accept hook is told about a new connection (reference: ConnectionRequest). */
export interface ConnectionRequest {
  /** The peer. */
  remoteAddr: NetAddr;
  /** The local address that accepted it. */
  localAddr: NetAddr;
  /** The allow/block lists' verdict; the hook may overrule it. */
  accept: boolean;
}

/** Options of {@linkcode Server} and `serve()`. */
export interface ServerOptions extends FramingOptions, ListenAddress {
  /**
   * Several addresses at once (reference: MultiListenSockets); replaces
   * hostname/port. When every one asks for port 0 they share one free port
   * where they can (not `0.0.0.0` with dual-stack `::`: each gets its own).
   */
  listen?: ListenAddress[];
  /** Pending-connection queue length (reference: ConnectionBacklog). @default 511 */
  backlog?: number;
  /** Allow several processes to bind the port (SO_REUSEPORT; reference: BindExclusively=false). @default false */
  reusePort?: boolean;
  /** With an IPv6 hostname, refuse IPv4 clients (reference: UseIPv6). @default false */
  ipv6Only?: boolean;
  /** Most simultaneous connections, 1 to 100,000 (reference: MaxConnections). @default 1000 */
  maxConnections?: number;
  /** Sent to each accepted client first; a string is followed by CRLF (reference: Banner). */
  banner?: string | Uint8Array;
  /** Sent before a client is refused because the server is full; a string gets CRLF (reference: BannerTooBusy). */
  tooBusyBanner?: string | Uint8Array;
  /** Only these clients (comma list or array: addresses, `192.168.*`, CIDR). @default all */
  allow?: string | string[];
  /** Never these clients (same syntax as `allow`). @default none */
  block?: string | string[];
  /** Idle timeout in milliseconds: no data either way closes the connection; 0 = none. @default 0 */
  idleTimeout?: number;
  /** Send timeout in milliseconds: a queue making no progress that long fails the connection; 0 = none. @default 0 */
  writeTimeout?: number;
  /** TCP_NODELAY on accepted sockets. @default true */
  noDelay?: boolean;
  /**
   * TCP keep-alive (reference: KeepAlive); a number above 0 is also the idle
   * time in milliseconds before the first probe (reference: KeepAliveTime;
   * 0 is off, like false), `true` keeps the system's (usually 2 hours). On
   * Deno a number makes the server use the `"node"`
   * {@linkcode ServerOptions.engine}, since native Deno sockets cannot set
   * the idle time. @default false
   */
  keepAlive?: boolean | number;
  /**
   * true: `disconnect()` and `shutdown()` flush, then send FIN; false: they
   * reset the connection (RST), dropping what is queued (reference: Linger).
   * A change applies to connections accepted afterwards. On Deno `false`
   * makes the server use the `"node"` {@linkcode ServerOptions.engine}, since
   * native Deno sockets cannot send RST. @default true
   */
  linger?: boolean;
  /**
   * The socket engine that accepts connections: `"native"` is the runtime's
   * own API (`Deno.listen`, `Bun.listen`; `node:net` on Node), `"node"` its
   * `node:net` compatibility layer. Unset, `listen()` picks `"node"` with
   * `tls`, and on Deno also with a numeric `keepAlive` or `linger: false`
   * (native Deno sockets can neither set a keep-alive idle time nor send
   * RST); otherwise `"native"`, which accepts connections about 2.5x faster
   * on Deno. On Bun both engines do all of this; on Node both values give
   * the same adapter. `tls` needs `"node"` (except on Node). On Deno an explicit `"native"` with those options makes
   * `listen()` throw `NotSupportedError`, and `conn.abort()` on a native
   * socket closes with FIN, not RST. @default chosen from the options as above
   */
  engine?: "native" | "node";
  /** Milliseconds a graceful close may take (a peer not reading the last bytes) before a reset; 0 = forever. @default 10000 */
  closeTimeout?: number;
  /** Keep our write side open after the peer's FIN (events mode). @default false */
  allowHalfOpen?: boolean;
  /** Send-queue bytes above which `write` returns false (reference: OutBufferSize). @default 65536 */
  writeHighWaterMark?: number;
  /** Send-queue bytes above which `write` throws 135 (would block). @default 8388608 */
  maxWriteBuffer?: number;
  /** Bytes buffered in `conn.readable` before reading pauses (reference: InBufferSize). @default 65536 */
  readHighWaterMark?: number;
  /** Decide on each connection; return false to refuse. Runs after the allow/block lists. */
  onConnectionRequest?: (request: ConnectionRequest) => boolean | void | Promise<boolean | void>;
  /** A connection was accepted (reference: Connected). May be async; a rejection is reported and closes it. */
  onConnection?: (conn: Connection) => void | Promise<void>;
  /** Data arrived, cut by the framing (reference: DataIn). `bytes` is only valid during the call. */
  onData?: (conn: Connection, bytes: Uint8Array, eol: boolean) => void;
  /** The send queue drained after `write` returned false (reference: ReadyToSend). */
  onDrain?: (conn: Connection) => void;
  /** The peer half-closed while `allowHalfOpen` is on. */
  onEnd?: (conn: Connection) => void;
  /** A connection closed (reference: Disconnected). */
  onDisconnect?: (conn: Connection, info: CloseInfo) => void;
  /** A failure that did not come back through a promise (reference: Error). */
  onError?: (error: Error, conn?: Connection) => void;
  /** Stops the server (like `shutdown()`) when aborted. */
  signal?: AbortSignal;
  /**
   * TLS (reference: SSLEnabled, SSLStartMode, SSLCert): `mode: "implicit"`
   * (default) runs the handshake on accept and `onConnection` follows it;
   * `"explicit"` starts in plaintext until `conn.startTls()` (STARTTLS).
   * Certificates are read and checked by `listen()`. @default none
   */
  tls?: TlsOptions;
  /** A TLS handshake completed: implicit mode before `onConnection`, explicit after `conn.startTls()` (reference: Connected after StartSSL). */
  onSecure?: (conn: Connection) => void;
  /**
   * Decide on a client certificate (reference: SSLClientAuthentication);
   * called when `tls.clientCertificate` is optional or require. Return false
   * to refuse, true to accept, nothing to keep `request.accept`.
   */
  onClientCertificate?: (
    conn: Connection,
    request: ClientCertificateRequest,
  ) => boolean | void | Promise<boolean | void>;
  /** TLS progress, for logs (reference: SSLStatus); `conn` is absent for server-level messages. */
  onTlsStatus?: (message: string, conn?: Connection) => void;
}

/** Validates numeric options; throws `RangeError` naming the option and the value. */
export function checkServerOptions(o: ServerOptions): void {
  int("maxConnections", o.maxConnections, 1, 100_000);
  int("backlog", o.backlog, 0, 65_535);
  int("writeHighWaterMark", o.writeHighWaterMark, 1, 2 ** 31);
  int("maxWriteBuffer", o.maxWriteBuffer, 1, 2 ** 31);
  int("readHighWaterMark", o.readHighWaterMark, 1, 2 ** 31);
  num("idleTimeout", o.idleTimeout);
  num("writeTimeout", o.writeTimeout);
  num("closeTimeout", o.closeTimeout);
  if (typeof o.keepAlive === "number") num("keepAlive", o.keepAlive);
  if (o.engine !== undefined && o.engine !== "native" && o.engine !== "node") {
    throw new TypeError(
      `Cannot use engine as it must be "native" or "node": current value is ${String(o.engine)}`,
    );
  }
  if (o.tls !== undefined) checkTlsOptions(o.tls);
  for (const a of o.listen ?? [o]) checkAddress(a);
}

/** Validates one listen address. */
export function checkAddress(a: ListenAddress): void {
  if (a.port !== undefined && (!Number.isInteger(a.port) || a.port < 0 || a.port > 65_535)) {
    throw new RangeError(
      `Cannot listen as port must be an integer 0-65535: current value is ${a.port}`,
    );
  }
  if (a.hostname !== undefined && (typeof a.hostname !== "string" || a.hostname === "")) {
    throw new TypeError(
      `Cannot listen as hostname must be a non-empty string: current value is ${
        String(a.hostname)
      }`,
    );
  }
}

function int(name: string, v: number | undefined, min: number, max: number): void {
  if (v === undefined) return;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(
      `Cannot use ${name} as it must be an integer ${min}-${max}: current value is ${v}`,
    );
  }
}

function num(name: string, v: number | undefined): void {
  if (v === undefined) return;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw new RangeError(
      `Cannot use ${name} as it must be >= 0 milliseconds: current value is ${v}`,
    );
  }
}

/**
 * The first option that Deno's native sockets cannot honour (runtime-matrix.md,
 * TCP: no keep-alive idle time, no RST), or undefined. `reusePort` listeners
 * are served by Deno's `node:net` anyway (see `src/runtime/deno.ts`).
 */
export function denoNativeGap(o: ServerOptions): { option: string; message: string } | undefined {
  if (o.reusePort) return undefined;
  if (typeof o.keepAlive === "number" && o.keepAlive > 0) {
    return {
      option: "keepAlive",
      message:
        `keepAlive: ${o.keepAlive} needs a keep-alive idle time, which Deno's native sockets ` +
        "cannot set (the system's, usually 2 hours, would apply)",
    };
  }
  if (o.linger === false) {
    return {
      option: "linger",
      message: "linger: false needs an abortive close (RST), which Deno's native sockets cannot " +
        "send (they close with FIN)",
    };
  }
  return undefined;
}

/**
 * The engine `listen()` asks `getRuntime` for (see {@linkcode ServerOptions.engine});
 * throws `NotSupportedError` when an explicit `"native"` cannot do what the
 * options ask on this runtime.
 */
export function resolveEngine(o: ServerOptions, runtime: string): "native" | "node" {
  const gap = runtime === "deno" ? denoNativeGap(o) : undefined;
  if (o.engine === "native" && gap !== undefined) {
    throw new NotSupportedError(
      "deno",
      gap.option,
      `Cannot listen with engine "native" as ${gap.message}: use engine "node" ` +
        "(or leave engine unset to have it chosen)",
    );
  }
  // TLS runs on node:tls over node:net sockets on every runtime (runtime-matrix.md, TLS).
  if (o.tls !== undefined && o.engine === "native" && runtime !== "node") {
    throw new NotSupportedError(
      runtime,
      "tls",
      `Cannot listen with engine "native" and tls as TLS runs on node:tls over the runtime's ` +
        `node:net sockets: use engine "node" (or leave engine unset to have it chosen)`,
    );
  }
  if (o.engine !== undefined) return o.engine;
  return o.tls || gap !== undefined ? "node" : "native";
}
