/**
 * `netstreams proxy`: the WebSocket-to-TCP proxy from the command line,
 * close to websockify's interface (the positional
 * `[HOST:]PORT TARGET_HOST:TARGET_PORT` form, `--web`, `--cert`/`--key`,
 * `--heartbeat`, `--ssl-target`) so it can be swapped in.
 *
 * @module
 */

import {
  parseTarget,
  type ProxyTarget,
  TargetAllowlist,
  type TargetTlsOptions,
} from "../proxy/target.ts";
import { serveProxy } from "../proxy/web_socket_proxy.ts";
import { serveStatic } from "../proxy/static_files.ts";
import type { ProxyProtocolVersion } from "../proxy/proxy_protocol.ts";
import { getRuntime } from "../runtime/mod.ts";
import { intOption, parseArgs, UsageError } from "./args.ts";
import { formatAddr, waitForTermination } from "./_serve_util.ts";
import { tlsFromArgs } from "./_tls_args.ts";

/** Help text of the subcommand. */
export const PROXY_HELP = `netstreams proxy: WebSocket-to-TCP proxy (a websockify replacement)

Usage: netstreams proxy --port P --target HOST:PORT [options]
       netstreams proxy [options] [HOST:]PORT TARGET_HOST:TARGET_PORT

Each WebSocket client gets its own TCP connection to the target; binary and
text messages go to the target as bytes, the target's bytes come back as
binary messages. The "binary" subprotocol is accepted when offered (noVNC);
"base64" is not (websockify dropped it too).

Options:
  --hostname H           address to listen on; repeat for several (default 0.0.0.0)
  --port P               port, 0 = any free port (default 6080)
  --target HOST:PORT     where clients go ([v6addr]:PORT for IPv6)
  --allow-target LIST    targets a ?token= may pick (with --token), e.g.
                         "10.0.0.0/24:5900-5909,db.local:5432"; repeatable
  --token NAME=HOST:PORT route ws://.../?token=NAME to HOST:PORT; repeatable
  --target-tls           connect to the target with TLS (also: --ssl-target)
  --target-ca F          CA certificates (PEM) the target's certificate must chain to
  --proxy-protocol V     send a PROXY protocol v1 or v2 header to the target
  --connect-timeout S    seconds to reach the target, else close 1014 (default 10)
  --idle-timeout S       close a proxied connection after S seconds without data
                         either way (websockify's option of this name stops the
                         whole server instead); 0 = never (default 0)
  --heartbeat S          ping a silent client after S seconds, drop it when no
                         answer comes within S more; 0 = off (default 30)
  --web DIR              serve the files in DIR on the same port (index.html,
                         content types, no paths outside DIR)
  --deflate              accept permessage-deflate offers (off by default: proxied
                         data such as VNC or TLS is often compressed already)
  --max-connections N    1-100000 (default 1000)
  --max-payload BYTES    largest client message, larger ones close with 1009
                         (default 67108864; parts are streamed, not gathered)
  --tls-cert F           serve wss:// with this PEM certificate chain (also: --cert)
  --tls-key F            its PEM private key (also: --key)
  --reuse-port           let several processes listen on the same port (SO_REUSEPORT,
                         Linux; the kernel spreads connections over them): start
                         one per core, as websockify forks one per client.
                         Deno, Bun, and Node 22.12+ (older Node exits with an error)
  --verbose              log connections and closes to stderr
  --help                 this text

The first stdout line is "listening on HOST:PORT". A target that refuses or
fails closes the WebSocket with 1014 and a reason; a target that closes
closes the WebSocket with 1000 after its last bytes; a client that closes
gets the target connection closed (FIN). SIGINT/SIGTERM close every
WebSocket with 1001 and exit.

Examples:
  netstreams proxy --port 6080 --target 127.0.0.1:5900
  for i in 1 2; do netstreams proxy --port 6080 --target 127.0.0.1:5900 --reuse-port & done
  netstreams proxy 6080 localhost:5900 --web /usr/share/novnc
  netstreams proxy --port 6080 --token vm1=10.0.0.11:5900 --token vm2=10.0.0.12:5900 \\
    --allow-target 10.0.0.0/24:5900
  netstreams proxy --port 443 --tls-cert proxy.pem --tls-key proxy.key \\
    --target db.internal:5432 --target-tls --target-ca ca.pem --idle-timeout 600
  netstreams proxy --hostname 127.0.0.1 --port 0 --target 127.0.0.1:7000 --proxy-protocol 2
`;

const SPEC = {
  hostname: { type: "string", multiple: true },
  port: { type: "string" },
  target: { type: "string" },
  "allow-target": { type: "string", multiple: true },
  token: { type: "string", multiple: true },
  "target-tls": { type: "boolean" },
  "ssl-target": { type: "boolean" },
  "target-ca": { type: "string" },
  "proxy-protocol": { type: "string" },
  "connect-timeout": { type: "string" },
  "idle-timeout": { type: "string" },
  heartbeat: { type: "string" },
  web: { type: "string" },
  "max-connections": { type: "string" },
  "max-payload": { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  cert: { type: "string" },
  key: { type: "string" },
  verbose: { type: "boolean" },
  "reuse-port": { type: "boolean" },
  deflate: { type: "boolean" },
  help: { type: "boolean" },
} as const;

function target(text: string, what: string): ProxyTarget {
  try {
    return parseTarget(text);
  } catch (error) {
    throw new UsageError(`${what}: ${(error as Error).message}`);
  }
}

async function readText(path: string): Promise<string> {
  const stream = await (await getRuntime()).openFile(path);
  let out = "";
  const dec = new TextDecoder();
  for await (const chunk of stream) out += dec.decode(chunk, { stream: true });
  return out + dec.decode();
}

/** Runs the subcommand until SIGINT/SIGTERM; resolves with the exit code. */
export async function proxy(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, SPEC);
  if (options.help) {
    console.log(PROXY_HELP);
    return 0;
  }
  const s = (name: string) => options[name] as string | undefined;
  if (positionals.length > 2) throw new UsageError(`Unexpected argument "${positionals[2]}"`);
  let hosts = (options.hostname as string[] | undefined) ?? undefined;
  let port = intOption(options, "port", 0, 65535);
  let targetText = s("target");
  if (positionals.length > 0) {
    // websockify: [source_addr:]source_port [target_addr:target_port]
    const source = positionals[0]!;
    const colon = source.lastIndexOf(":");
    const portText = colon >= 0 ? source.slice(colon + 1) : source;
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
      throw new UsageError(`The listening port must be [HOST:]PORT: got "${source}"`);
    }
    if (port !== undefined || (colon >= 0 && hosts !== undefined)) {
      throw new UsageError(
        "Give the listening address as [HOST:]PORT or with --hostname/--port, not both",
      );
    }
    port = Number(portText);
    if (colon > 0) hosts = [source.slice(0, colon).replace(/^\[(.*)\]$/, "$1")];
    if (positionals[1] !== undefined) {
      if (targetText !== undefined) {
        throw new UsageError("Give the target once: positional or --target");
      }
      targetText = positionals[1];
    }
  }
  const tokens: Record<string, ProxyTarget> = {};
  for (const t of (options.token as string[] | undefined) ?? []) {
    const eq = t.indexOf("=");
    if (eq <= 0) throw new UsageError(`Option --token must be NAME=HOST:PORT: got "${t}"`);
    tokens[t.slice(0, eq)] = target(t.slice(eq + 1), `Option --token ${t}`);
  }
  const hasTokens = Object.keys(tokens).length > 0;
  if (targetText === undefined && !hasTokens) {
    throw new UsageError(
      "Give a target: --target HOST:PORT (or TARGET_HOST:TARGET_PORT, or --token)",
    );
  }
  const defaultTarget = targetText === undefined ? undefined : target(targetText, "Target");
  const allow = ((options["allow-target"] as string[] | undefined) ?? []).join(",");
  try {
    new TargetAllowlist(allow);
  } catch (error) {
    throw new UsageError(`Option --allow-target: ${(error as Error).message}`);
  }
  const tls = tlsFromArgs({
    ...options,
    "tls-cert": s("tls-cert") ?? s("cert") as string,
    "tls-key": s("tls-key") ?? s("key") as string,
  });
  const proxyProtocol = intOption(options, "proxy-protocol", 1, 2) as
    | ProxyProtocolVersion
    | undefined;
  let targetTls: boolean | TargetTlsOptions = Boolean(
    options["target-tls"] || options["ssl-target"],
  );
  const ca = s("target-ca");
  if (ca !== undefined) {
    if (!targetTls) throw new UsageError("Option --target-ca needs --target-tls");
    targetTls = { ca: await readText(ca) };
  }
  const verbose = Boolean(options.verbose);
  const server = await serveProxy({
    listen: (hosts ?? ["0.0.0.0"]).map((hostname) => ({ hostname, port: port ?? 6080 })),
    target: defaultTarget,
    resolveTarget: hasTokens
      ? (req) => tokens[new URLSearchParams(req.query).get("token") ?? ""]
      : undefined,
    allowTargets: allow === "" ? undefined : allow,
    targetTls,
    proxyProtocol,
    connectTimeout: (intOption(options, "connect-timeout", 1, 86_400) ?? 10) * 1000,
    idleTimeout: (intOption(options, "idle-timeout", 0, 86_400 * 365) ?? 0) * 1000,
    pingInterval: (intOption(options, "heartbeat", 0, 86_400) ?? 30) * 1000,
    pongTimeout: Math.max(1, intOption(options, "heartbeat", 0, 86_400) ?? 30) * 1000,
    maxConnections: intOption(options, "max-connections", 1, 100_000),
    reusePort: Boolean(options["reuse-port"]),
    maxPayload: intOption(options, "max-payload", 1, 2 ** 31),
    perMessageDeflate: Boolean(options.deflate),
    tls,
    onRequest: s("web") === undefined ? undefined : serveStatic(s("web")!),
    onError: (error, session) =>
      console.error(`error${session ? ` on ${session.id}` : ""}: ${error.message}`),
    onLog: verbose
      ? (_level, message, session) =>
        console.error(
          `${session ? `${session.id} ${session.remoteAddr.hostname}: ` : ""}${message}`,
        )
      : undefined,
  });
  console.log(`listening on ${server.addrs.map(formatAddr).join(" ")}`);
  const signal = await waitForTermination();
  await server.shutdown({ timeout: 3000 });
  console.log(`stopped (${signal})`);
  return 0;
}
