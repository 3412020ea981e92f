/**
 * Real TLS peers for the tests: Python's `ssl` module (tls_client.py) and
 * `openssl s_client`, each run as a child process with a time limit, plus a
 * raw TCP client for bad input.
 */

import { fileURLToPath } from "node:url";
import { have, runWithInput } from "../_cli.ts";
import { OPENSSL } from "./_certs.ts";

export const PY = "/usr/bin/python3";
/** Skip reason when a peer is missing, or false. */
export const NO_PEERS: string | false = !have(PY)
  ? "python3 not installed"
  : !have(OPENSSL)
  ? "openssl not installed"
  : false;

// The .py fixture sits next to the source; the npm build copies it beside the compiled tests.
const CLIENT = fileURLToPath(new URL("./tls_client.py", import.meta.url));

/** Options of {@linkcode pyTls}. */
export interface PyOptions {
  servername?: string;
  ca?: string;
  cert?: string;
  key?: string;
  send?: string;
  expect?: number;
  starttls?: boolean;
  pipelined?: boolean;
  /** Lines of 1,000 bytes sent (and their "echo:" replies read) in plaintext before STARTTLS. */
  before?: number;
  maxVersion?: "1.2" | "1.3";
  alpn?: string;
  timeout?: number;
}

/** What tls_client.py reports. */
export interface PyResult {
  ok: boolean;
  handshake?: boolean;
  version?: string;
  cipher?: string;
  alpn?: string | null;
  subject?: string;
  reply?: string;
  echo?: string;
  /** Whether the plaintext lines of `before` came back as their "echo:" replies. */
  before?: boolean;
  error?: string;
}

/** Runs tls_client.py against 127.0.0.1:`port`. */
export async function pyTls(port: number, o: PyOptions = {}): Promise<PyResult> {
  const args = [CLIENT, "--port", String(port)];
  if (o.servername) args.push("--servername", o.servername);
  if (o.ca) args.push("--ca", o.ca);
  if (o.cert) args.push("--cert", o.cert, "--key", o.key!);
  if (o.send !== undefined) args.push("--send", o.send);
  if (o.expect !== undefined) args.push("--expect", String(o.expect));
  if (o.starttls) args.push("--starttls");
  if (o.pipelined) args.push("--pipelined");
  if (o.before) args.push("--before", String(o.before));
  if (o.maxVersion) args.push("--max-version", o.maxVersion);
  if (o.alpn) args.push("--alpn", o.alpn);
  args.push("--timeout", String(o.timeout ?? 5));
  const r = await runWithInput(PY, args, "", ((o.timeout ?? 5) + 5) * 1000);
  const line = r.stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line) as PyResult;
  } catch {
    throw new Error(`tls_client.py gave no result (exit ${r.code}): ${r.stdout} ${r.stderr}`);
  }
}

/** Options of {@linkcode sClient}. */
export interface SClientOptions {
  servername?: string;
  ca?: string;
  cert?: string;
  key?: string;
  input?: string;
  extra?: string[];
}

/**
 * Runs `openssl s_client -brief -ign_eof` with `input` on stdin; resolves
 * when the server closes. `stderr` holds the -brief summary ("Protocol
 * version", "Peer certificate", "Verification").
 */
export function sClient(
  port: number,
  o: SClientOptions = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const args = ["s_client", "-connect", `127.0.0.1:${port}`, "-brief", "-ign_eof"];
  if (o.servername) args.push("-servername", o.servername);
  else args.push("-noservername");
  if (o.ca) args.push("-CAfile", o.ca, "-verify_return_error");
  if (o.cert) args.push("-cert", o.cert, "-key", o.key!);
  args.push(...(o.extra ?? []));
  return runWithInput(OPENSSL, args, o.input ?? "", 10_000);
}
