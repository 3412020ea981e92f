/**
 * Internal: one free port for several listening addresses that ask for
 * port 0 (`serve({ listen: [{ hostname: "127.0.0.1" }, { hostname: "::1" }] })`).
 *
 * @module
 */

import { codeOf } from "./errors.ts";
import type { ListenAddress } from "./server_options.ts";
import type { Listener } from "./types.ts";

/** Tries to give several addresses of port 0 one free port. */
const SHARED_PORT_TRIES = 3;

/**
 * Several addresses that all ask for port 0 get the same free port (the one
 * the first is given), so clients are told one port: retried when another
 * program holds it on one of the others. Undefined when that does not apply
 * or cannot be done (the wildcards `0.0.0.0` and dual-stack `::` cannot share
 * one, for example): each address then gets a port of its own.
 */
export async function sharedPort(
  addresses: readonly ListenAddress[],
  bind: (a: ListenAddress, port: number) => Promise<Listener>,
): Promise<PromiseSettledResult<Listener>[] | undefined> {
  if (addresses.length < 2 || addresses.some((a) => (a.port ?? 0) !== 0)) return undefined;
  for (let tries = 0; tries < SHARED_PORT_TRIES; tries++) {
    let first: Listener;
    try {
      first = await bind(addresses[0]!, 0);
    } catch {
      return undefined; // bound again with the others, to report every failure
    }
    const rest = await Promise.allSettled(addresses.slice(1).map((a) => bind(a, first.addr.port)));
    if (rest.every((r) => r.status === "fulfilled")) {
      return [{ status: "fulfilled", value: first }, ...rest];
    }
    first.close();
    for (const r of rest) if (r.status === "fulfilled") r.value.close();
    if (!rest.some((r) => r.status === "rejected" && codeOf(r.reason) === "EADDRINUSE")) break;
  }
  return undefined;
}
