// ws_echo_bun.ts: Bun's native WebSocket server (uWebSockets inside `Bun.serve`)
// as the echo peer that scripts/bench_ws.ts measures the library against on Bun.
//
// Every request is upgraded; `message` sends the data back as it came (a
// string for text, a Buffer for binary, so the type is kept). Compression off,
// 64 MiB max payload, Bun's other defaults (idle timeout 120 s, pings on).
//
// Run: bun scripts/bench/ws_echo_bun.ts --port 0 [--hostname 127.0.0.1]
// The first stdout line is "listening on HOST:PORT". SIGINT/SIGTERM exit.
import process from "node:process";

/** The part of Bun's API used here (no Bun type package is installed). */
interface BunWebSocket {
  send(data: string | Uint8Array): number;
}
declare const Bun: {
  serve(o: {
    hostname: string;
    port: number;
    fetch(req: Request, server: { upgrade(req: Request): boolean }): Response | undefined;
    websocket: {
      message(ws: BunWebSocket, message: string | Uint8Array): void;
      perMessageDeflate: boolean;
      maxPayloadLength: number;
    };
  }): { hostname: string; port: number };
};

const args = parseArgs(process.argv.slice(2));
const server = Bun.serve({
  hostname: args.hostname,
  port: args.port,
  fetch(req, server) {
    if (server.upgrade(req)) return undefined;
    return new Response("WebSocket upgrade required\n", { status: 426 });
  },
  websocket: {
    message(ws, message) {
      ws.send(message);
    },
    perMessageDeflate: false,
    maxPayloadLength: 64 * 1024 * 1024,
  },
});
const host = server.hostname.includes(":") ? `[${server.hostname}]` : server.hostname;
console.log(`listening on ${host}:${server.port}`);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(0));

function parseArgs(argv: string[]): { port: number; hostname: string } {
  const out = { port: 0, hostname: "127.0.0.1" };
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (key === "--port") out.port = Number(value);
    else if (key === "--hostname") out.hostname = value;
    else {
      console.error("usage: ws_echo_bun.ts --port N [--hostname H]");
      process.exit(2);
    }
  }
  return out;
}
