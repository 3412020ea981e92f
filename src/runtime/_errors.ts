/**
 * Maps each runtime's socket and file errors to `Error`s carrying the POSIX
 * code (`ECONNRESET`, `EPIPE`, `EADDRINUSE`, ...), the way Node reports them.
 *
 * @module
 */

/** An `Error` with a stable system error `code`. */
export interface SystemError extends Error {
  /** POSIX-style code such as `"ECONNRESET"`. */
  code: string;
}

/** Deno's `Deno.errors.*` class names and the codes they stand for. */
const DENO_CODES: Record<string, string> = {
  AddrInUse: "EADDRINUSE",
  AddrNotAvailable: "EADDRNOTAVAIL",
  AlreadyExists: "EEXIST",
  BadResource: "EBADF",
  BrokenPipe: "EPIPE",
  ConnectionAborted: "ECONNABORTED",
  ConnectionRefused: "ECONNREFUSED",
  ConnectionReset: "ECONNRESET",
  Interrupted: "EINTR",
  IsADirectory: "EISDIR",
  NetworkUnreachable: "ENETUNREACH",
  NotConnected: "ENOTCONN",
  NotFound: "ENOENT",
  NotSupported: "ENOTSUP",
  PermissionDenied: "EACCES",
  TimedOut: "ETIMEDOUT",
  WouldBlock: "EAGAIN",
};

/** Creates an `Error` with `code` (and `cause` when given). */
export function systemError(code: string, message: string, cause?: unknown): SystemError {
  const error = new Error(message, cause === undefined ? undefined : { cause }) as SystemError;
  error.code = code;
  return error;
}

/**
 * Returns `err` as an `Error` whose `code` is set when the failure is known:
 * runtime errors that already carry a code are returned as they are.
 */
export function toSystemError(err: unknown): Error {
  if (!(err instanceof Error)) return systemError("EUNKNOWN", String(err), err);
  const withCode = err as Partial<SystemError>;
  if (typeof withCode.code !== "string") {
    const code = DENO_CODES[err.name];
    if (code !== undefined) {
      try {
        withCode.code = code;
      } catch {
        return systemError(code, err.message, err);
      }
    }
  }
  return err;
}

/** The `code` of an error, or undefined. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string") return code;
  return err instanceof Error ? DENO_CODES[err.name] : undefined;
}

/** Formats an address for messages: `127.0.0.1:80`, `[::1]:80`. */
export function formatAddress(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/** Wraps a failed bind so the message names the address and the code survives. */
export function listenError(err: unknown, hostname: string, port: number): Error {
  const code = errorCode(err) ?? "EUNKNOWN";
  const reason = err instanceof Error ? err.message : String(err);
  return systemError(
    code,
    `Cannot listen on ${formatAddress(hostname, port)}: ${code} (${reason})`,
    err,
  );
}

/** Wraps a failed connect so the message names the address and the code survives. */
export function connectError(err: unknown, hostname: string, port: number): Error {
  const code = errorCode(err) ?? "EUNKNOWN";
  const reason = err instanceof Error ? err.message : String(err);
  return systemError(
    code,
    `Cannot connect to ${formatAddress(hostname, port)}: ${code} (${reason})`,
    err,
  );
}
