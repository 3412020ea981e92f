/**
 * The TLS options of the server subcommands: `--tls-cert`, `--tls-key`,
 * `--tls-pfx`, `--tls-passphrase`, `--tls-ca`, `--client-cert`,
 * `--handshake-timeout`, `--starttls`.
 *
 * @module
 */

import type { Connection } from "../net/connection.ts";
import type { FramingOptions } from "../net/framing.ts";
import type { TlsOptions } from "../tls/tls_options.ts";
import { type ParsedArgs, secondsOption, UsageError } from "./args.ts";

/** Option specs to merge into a subcommand's. */
export const TLS_SPEC = {
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "tls-pfx": { type: "string" },
  "tls-passphrase": { type: "string" },
  "tls-ca": { type: "string" },
  "client-cert": { type: "string" },
  "handshake-timeout": { type: "string" },
  starttls: { type: "boolean" },
} as const;

/** Help lines for the TLS options. */
export const TLS_HELP =
  `  --tls-cert F           serve TLS with this PEM certificate chain (with --tls-key)
  --tls-key F            the PEM private key of --tls-cert
  --tls-pfx F            serve TLS with this PKCS#12 file instead (password: --tls-passphrase)
  --tls-passphrase P     password of the PFX or of an encrypted key
  --tls-ca F             CA certificates (PEM) that client certificates must chain to
  --client-cert MODE     none, optional or require (default none; needs --tls-ca)
  --handshake-timeout S  seconds a client has to finish the TLS handshake (default 10)
  --starttls             start in plaintext; a line "STARTTLS" is answered with
                         "220 Ready to start TLS" and the connection upgrades to TLS`;

/** Reads the TLS options; undefined when no certificate was given. Throws UsageError. */
export function tlsFromArgs(options: ParsedArgs["options"]): TlsOptions | undefined {
  const s = (name: string) => options[name] as string | undefined;
  const cert = s("tls-cert");
  const key = s("tls-key");
  const pfx = s("tls-pfx");
  const mode = s("client-cert") ?? "none";
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError("Options --tls-cert and --tls-key go together");
  }
  if (pfx !== undefined && cert !== undefined) {
    throw new UsageError("Give --tls-pfx or --tls-cert/--tls-key, not both");
  }
  if (mode !== "none" && mode !== "optional" && mode !== "require") {
    throw new UsageError(`Option --client-cert must be none, optional or require: got "${mode}"`);
  }
  const hasCert = cert !== undefined || pfx !== undefined;
  if (!hasCert) {
    for (
      const name of ["tls-ca", "client-cert", "handshake-timeout", "starttls", "tls-passphrase"]
    ) {
      if (options[name] !== undefined) {
        throw new UsageError(`Option --${name} needs --tls-cert/--tls-key or --tls-pfx`);
      }
    }
    return undefined;
  }
  if (mode !== "none" && s("tls-ca") === undefined) {
    throw new UsageError(`Option --client-cert ${mode} needs --tls-ca`);
  }
  // At least 1 ms, as tls.handshakeTimeout requires.
  const seconds = secondsOption(options, "handshake-timeout", 0.001, 2_147_483) ?? 10;
  return {
    ...(pfx !== undefined ? { pfx } : { cert, key }),
    passphrase: s("tls-passphrase"),
    ca: s("tls-ca"),
    clientCertificate: mode,
    handshakeTimeout: Math.round(seconds * 1000),
    mode: options.starttls ? "explicit" : "implicit",
  };
}

const READY = new TextEncoder().encode("220 Ready to start TLS\r\n");
const CRLF = new Uint8Array([13, 10]);
const decoder = new TextDecoder();

/** The framing of the plaintext phase: lines ending in LF (a CR before it is dropped). */
export const STARTTLS_FRAMING: FramingOptions = {
  eol: "\n",
  singleLineMode: false,
  recordLength: 0,
};

/**
 * Wraps the echo handler for `--starttls`: before TLS, each line is echoed
 * with CRLF, and a line `STARTTLS` is answered with 220, switches to the
 * configured framing and upgrades; after TLS, `echo` handles everything.
 */
export function starttlsEcho(
  framing: FramingOptions,
  echo: (conn: Connection, bytes: Uint8Array, eol: boolean) => void,
): (conn: Connection, bytes: Uint8Array, eol: boolean) => void {
  return (conn, bytes, eol) => {
    if (conn.tls) return echo(conn, bytes, eol);
    if (!conn.connected) return;
    const line = bytes.length > 0 && bytes[bytes.length - 1] === 13 ? bytes.subarray(0, -1) : bytes;
    if (decoder.decode(line).toUpperCase() === "STARTTLS") {
      conn.write(READY);
      conn.setFraming(framing);
      conn.startTls().catch(() => {}); // a failed handshake closes the connection
      return;
    }
    const out = new Uint8Array(line.length + 2);
    out.set(line, 0);
    out.set(CRLF, line.length);
    if (!conn.write(out)) conn.pause();
  };
}
