/**
 * Helpers shared by the server subcommands.
 *
 * @module
 */

import type { NetAddr } from "../net/types.ts";
import { onTerminate } from "../runtime/process.ts";

/** `host:port`, with IPv6 in brackets. */
export function formatAddr(a: NetAddr): string {
  return a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`;
}

/** Resolves on the first SIGINT or SIGTERM. */
export function waitForTermination(): Promise<string> {
  return new Promise((resolve) => {
    const off = onTerminate((signal) => {
      off();
      resolve(signal);
    });
  });
}
