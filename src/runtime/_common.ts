/**
 * Pieces every adapter shares: option checks, limits and the do-nothing
 * handlers a socket holds before `start`.
 *
 * @module
 */

import type { ConnectOptions, ListenOptions, NetAddr, SocketHandlers } from "../net/types.ts";

/** Bytes queued by `Socket.write` above which it returns false (Deno and Bun adapters). */
export const WRITE_HIGH_WATER_MARK = 65536;
/** Largest write the Deno and Bun adapters build by concatenating small queued chunks. */
export const MAX_GATHER = 65536;
/**
 * Milliseconds a graceful `close()` waits, after sending FIN, for the peer's
 * FIN while discarding its input, before it releases the socket anyway.
 * Releasing a socket that still has unread input makes the kernel send RST,
 * which can destroy data not yet read by the peer.
 */
export const CLOSE_LINGER_MS = 2000;

/** Handlers used until `start` is called and after the socket closed. */
export const NOOP_HANDLERS: SocketHandlers = {
  data() {},
  end() {},
  drain() {},
  close() {},
};

/** {@linkcode ListenOptions} with defaults applied and values checked. */
export interface ResolvedListenOptions {
  hostname: string;
  port: number;
  backlog: number;
  reusePort: boolean;
  ipv6Only: boolean;
}

/** {@linkcode ConnectOptions} with defaults applied and values checked. */
export interface ResolvedConnectOptions {
  hostname: string;
  port: number;
  timeout: number;
}

function checkPort(port: unknown, min: number, verb: string): number {
  if (typeof port !== "number" || !Number.isInteger(port) || port < min || port > 65535) {
    throw new RangeError(
      `Cannot ${verb} as port must be an integer ${min}-65535: current value is ${String(port)}`,
    );
  }
  return port;
}

function checkHostname(hostname: unknown, verb: string): string {
  if (typeof hostname !== "string" || hostname === "") {
    throw new TypeError(
      `Cannot ${verb} as hostname must be a non-empty string: current value is ${String(hostname)}`,
    );
  }
  // Accept "[::1]" as well as "::1".
  return hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
}

/** Applies defaults to {@linkcode ListenOptions}; throws RangeError/TypeError on bad values. */
export function resolveListenOptions(options: ListenOptions): ResolvedListenOptions {
  const backlog = options.backlog ?? 511;
  if (!Number.isInteger(backlog) || backlog < 1) {
    throw new RangeError(
      `Cannot listen as backlog must be a positive integer: current value is ${String(backlog)}`,
    );
  }
  return {
    hostname: checkHostname(options.hostname ?? "0.0.0.0", "listen"),
    port: checkPort(options.port ?? 0, 0, "listen"),
    backlog,
    reusePort: options.reusePort === true,
    ipv6Only: options.ipv6Only === true,
  };
}

/** Applies defaults to {@linkcode ConnectOptions}; throws RangeError/TypeError on bad values. */
export function resolveConnectOptions(options: ConnectOptions): ResolvedConnectOptions {
  const timeout = options.timeout ?? 10000;
  if (typeof timeout !== "number" || !(timeout > 0) || timeout > 2147483647) {
    throw new RangeError(
      `Cannot connect as timeout must be 1-2147483647 milliseconds: current value is ${
        String(timeout)
      }`,
    );
  }
  return {
    hostname: checkHostname(options.hostname ?? "127.0.0.1", "connect"),
    port: checkPort(options.port, 1, "connect"),
    timeout,
  };
}

/** Builds a {@linkcode NetAddr}, with `""`/0 when the runtime no longer knows. */
export function netAddr(hostname: string | undefined, port: number | undefined): NetAddr {
  return { hostname: hostname ?? "", port: port ?? 0 };
}

/** Runs a user handler; returns the error it threw, if any. */
export function callSafely(fn: () => void): Error | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** Rethrows an error from a user callback outside the socket's own code. */
export function rethrowLater(error: Error): void {
  queueMicrotask(() => {
    throw error;
  });
}
