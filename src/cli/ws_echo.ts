/**
 * `netstreams ws-echo`: a WebSocket echo server over the library: every
 * message comes back with the same type (the shape conformance suites and
 * benchmarks expect).
 *
 * @module
 */

import { serveWs } from "../ws/ws_server.ts";
import type { WebSocketConnection } from "../ws/ws_connection.ts";
import { intOption, parseArgs, UsageError } from "./args.ts";
import { formatAddr, waitForTermination } from "./_serve_util.ts";

/** Help text of the subcommand. */
export const WS_ECHO_HELP = `netstreams ws-echo: WebSocket echo server

Usage: netstreams ws-echo [options]

Options:
  --hostname H           address to listen on; repeat for several (default 0.0.0.0)
  --port P               port, 0 = any free port (default 9001)
  --max-payload BYTES    largest message accepted, larger ones close with 1009
                         (default 67108864, 64 MiB)
  --max-connections N    1-100000 (default 1000)
  --ping-interval S      heartbeat: ping after S seconds of silence, 0 = off (default 30)
  --deflate              accept permessage-deflate (RFC 7692) offers (the default)
  --no-deflate           decline permessage-deflate: every message goes uncompressed
  --deflate-threshold BYTES
                         messages shorter than this are echoed uncompressed
                         (default 128; 1024 with --deflate-no-context-takeover)
  --deflate-window-bits N
                         LZ77 window (9-15) of both directions; larger compresses
                         better and costs more memory per connection (default 12)
  --deflate-no-context-takeover
                         compress every message on its own, both directions: no
                         zlib state per connection, larger output
  --help                 this text

Every text or binary message is sent back as it came, with the same type;
pings are answered with pongs. The first stdout line is
"listening on HOST:PORT" (every address when several). SIGINT/SIGTERM close
every WebSocket with 1001 and exit.

Examples:
  netstreams ws-echo --port 9001
  netstreams ws-echo --hostname 127.0.0.1 --port 0 --max-payload 16777216
  netstreams ws-echo --port 9001 --deflate --deflate-threshold 0 --deflate-window-bits 15
`;

const SPEC = {
  hostname: { type: "string", multiple: true },
  port: { type: "string" },
  "max-payload": { type: "string" },
  "max-connections": { type: "string" },
  "ping-interval": { type: "string" },
  deflate: { type: "boolean" },
  "no-deflate": { type: "boolean" },
  "deflate-threshold": { type: "string" },
  "deflate-window-bits": { type: "string" },
  "deflate-no-context-takeover": { type: "boolean" },
  help: { type: "boolean" },
} as const;

/** Runs the subcommand until SIGINT/SIGTERM; resolves with the exit code. */
export async function wsEcho(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, SPEC);
  if (options.help) {
    console.log(WS_ECHO_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}"`);
  const port = intOption(options, "port", 0, 65535) ?? 9001;
  const hosts = (options.hostname as string[] | undefined) ?? ["0.0.0.0"];
  const maxPayload = intOption(options, "max-payload", 0, 2 ** 31) ?? 64 * 1024 * 1024;
  const pingSeconds = intOption(options, "ping-interval", 0, 86_400) ?? 30;
  if (options.deflate && options["no-deflate"]) {
    throw new UsageError("Use either --deflate or --no-deflate");
  }
  const bits = intOption(options, "deflate-window-bits", 9, 15);
  const perMessageDeflate = options["no-deflate"] ? false : {
    threshold: intOption(options, "deflate-threshold", 0, 2 ** 31),
    serverMaxWindowBits: bits,
    clientMaxWindowBits: bits,
    serverNoContextTakeover: options["deflate-no-context-takeover"] === true,
    clientNoContextTakeover: options["deflate-no-context-takeover"] === true,
  };
  const server = await serveWs({
    perMessageDeflate,
    listen: hosts.map((hostname) => ({ hostname, port })),
    maxPayload,
    maxConnections: intOption(options, "max-connections", 1, 100_000),
    pingInterval: pingSeconds * 1000,
    // Reading pauses while the queue is above the high-water mark, so it holds
    // at most about one chunk's messages more, plus one message of maxPayload.
    maxWriteBuffer: Math.max(8 * 1024 * 1024, maxPayload + 1024 * 1024),
    onMessage: echo,
    onDrain: (ws) => ws.resume(),
    onError: (error, ws) => console.error(`error${ws ? ` on ${ws.id}` : ""}: ${error.message}`),
  });
  console.log(`listening on ${server.addrs.map(formatAddr).join(" ")}`);
  const signal = await waitForTermination();
  await server.shutdown({ timeout: 3000 });
  console.log(`stopped (${signal})`);
  return 0;
}

function echo(ws: WebSocketConnection, data: Uint8Array, text: boolean): void {
  if (ws.readyState !== 1) return;
  if (!ws.send(data, text)) ws.pause();
}
