/**
 * `netstreams tcp-echo`: a TCP echo server over the library, for trying the
 * framing options with telnet/nc/socat and for benchmarks.
 *
 * @module
 */

import { serve } from "../net/server.ts";
import type { ServerOptions } from "../net/server_options.ts";
import type { Connection } from "../net/connection.ts";
import { IpFilter } from "../net/ip_filter.ts";
import {
  intOption,
  parseArgs,
  type ParsedArgs,
  secondsOption,
  unescape,
  UsageError,
} from "./args.ts";
import { formatAddr, waitForTermination } from "./_serve_util.ts";
import { STARTTLS_FRAMING, starttlsEcho, TLS_HELP, TLS_SPEC, tlsFromArgs } from "./_tls_args.ts";

/** Help text of the subcommand. */
export const TCP_ECHO_HELP = `netstreams tcp-echo: echo server for TCP clients

Usage: netstreams tcp-echo [options]

Options:
  --hostname H           address to listen on; repeat for several (default 0.0.0.0)
  --port P               port, 0 = any free port (default 7000)
  --lines                single-line mode: lines end at CRLF, LF or CR
  --eol S                delimiter, with \\r \\n \\t \\0 \\xHH escapes (e.g. "\\r\\n")
  --max-line-length N    cut longer lines, 256-16777216 (default 2048)
  --record-length N      fixed-length records of N bytes
  --max-connections N    1-100000 (default 1000)
  --banner S             line sent to each client on connect
  --too-busy S           line sent to a client refused because the server is full
  --idle-timeout S       close connections idle for S seconds
  --allow LIST           only these clients (e.g. "127.0.0.1,10.0.0.0/8,192.168.*");
                         IP addresses only, host names are not resolved
  --block LIST           never these clients
${TLS_HELP}
  --help                 this text

Plain mode echoes bytes back unchanged. In a framing mode (--lines, --eol,
--record-length) each unit is echoed followed by \\r\\n, so a line cut at the
maximum length comes back as two lines. The first stdout line is
"listening on HOST:PORT" (every address when several). SIGINT/SIGTERM shut
down gracefully.

Examples:
  netstreams tcp-echo --port 7000 --lines --banner "hello"
  netstreams tcp-echo --port 0 --eol "\\0" --max-line-length 256
  netstreams tcp-echo --record-length 16 --allow 127.0.0.1
  netstreams tcp-echo --tls-cert server.pem --tls-key server.key --lines
  netstreams tcp-echo --tls-cert server.pem --tls-key server.key --tls-ca ca.pem \\
    --client-cert require --starttls
`;

const SPEC = {
  hostname: { type: "string", multiple: true },
  port: { type: "string" },
  lines: { type: "boolean" },
  eol: { type: "string" },
  "max-line-length": { type: "string" },
  "record-length": { type: "string" },
  "max-connections": { type: "string" },
  banner: { type: "string" },
  "too-busy": { type: "string" },
  "idle-timeout": { type: "string" },
  allow: { type: "string" },
  block: { type: "string" },
  help: { type: "boolean" },
  ...TLS_SPEC,
} as const;

/** Runs the subcommand until SIGINT/SIGTERM; resolves with the exit code. */
export async function tcpEcho(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, SPEC);
  if (options.help) {
    console.log(TCP_ECHO_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}"`);
  const port = intOption(options, "port", 0, 65535) ?? 7000;
  const hosts = (options.hostname as string[] | undefined) ?? ["0.0.0.0"];
  const idleSeconds = secondsOption(options, "idle-timeout", 0, 86_400 * 365) ?? 0;
  const eolText = options.eol === undefined ? undefined : unescape(String(options.eol));
  const recordLength = intOption(options, "record-length", 1, 2 ** 30);
  const framed = Boolean(options.lines) || eolText !== undefined || recordLength !== undefined;
  const tls = tlsFromArgs(options);
  const framing = {
    singleLineMode: Boolean(options.lines),
    eol: eolText === undefined ? "" : textBytes(eolText),
    maxLineLength: intOption(options, "max-line-length", 256, 16 * 1024 * 1024),
    recordLength: recordLength ?? 0,
  };
  const echo = framed ? echoUnit : echoBytes;
  const starttls = tls?.mode === "explicit";
  const serverOptions: ServerOptions = {
    listen: hosts.map((hostname) => ({ hostname, port })),
    ...(starttls ? { ...STARTTLS_FRAMING, maxLineLength: framing.maxLineLength } : framing),
    tls,
    maxConnections: intOption(options, "max-connections", 1, 100_000),
    banner: options.banner as string | undefined,
    tooBusyBanner: options["too-busy"] as string | undefined,
    idleTimeout: idleSeconds * 1000,
    allow: addressList(options, "allow"),
    block: addressList(options, "block"),
    onData: starttls ? starttlsEcho(framing, echo) : echo,
    onDrain: (conn) => conn.resume(),
    onError: (error, conn) =>
      console.error(`error${conn ? ` on ${conn.id}` : ""}: ${error.message}`),
  };
  const server = await serve(serverOptions);
  console.log(`listening on ${server.addrs.map(formatAddr).join(" ")}`);
  const signal = await waitForTermination();
  await server.shutdown({ timeout: 3000 });
  console.log(`stopped (${signal})`);
  return 0;
}

/** Reads `--allow`/`--block`; a bad entry is a usage error. */
function addressList(options: ParsedArgs["options"], name: string): string | undefined {
  const list = options[name] as string | undefined;
  if (list === undefined) return undefined;
  try {
    new IpFilter(list);
  } catch (error) {
    throw new UsageError(`Option --${name}: ${(error as Error).message}`);
  }
  return list;
}

function echoBytes(conn: Connection, bytes: Uint8Array): void {
  if (!conn.connected) return;
  // write() copies bytes of a reused read buffer itself, so no slice() here.
  if (!conn.write(bytes)) conn.pause();
}

function echoUnit(conn: Connection, bytes: Uint8Array): void {
  if (!conn.connected) return;
  if (!conn.writeLine(bytes)) conn.pause();
}

/** Characters up to U+00FF become single bytes (so "\xff" is one byte); others UTF-8. */
function textBytes(s: string): Uint8Array {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 255) return new TextEncoder().encode(s);
  }
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}
