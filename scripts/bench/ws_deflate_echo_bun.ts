// ws_deflate_echo_bun.ts: Bun's native WebSocket echo (uWebSockets) with
// perMessageDeflate on (Bun's shared compressor and decompressor), the Bun
// peer of the deflate section of scripts/bench_ws.ts.
// Run: bun scripts/bench/ws_deflate_echo_bun.ts --port 0 --hostname 127.0.0.1
import process from "node:process";

declare const Bun: any;
const argv = process.argv.slice(2);
const opt = (k: string, d: string) => (argv.includes(k) ? argv[argv.indexOf(k) + 1] : d);
const server = Bun.serve({
  hostname: opt("--hostname", "127.0.0.1"),
  port: Number(opt("--port", "0")),
  fetch(req: Request, s: { upgrade(r: Request): boolean }) {
    return s.upgrade(req) ? undefined : new Response("upgrade", { status: 426 });
  },
  websocket: {
    perMessageDeflate: true,
    maxPayloadLength: 64 * 1024 * 1024,
    message(
      ws: { send(d: string | Uint8Array, compress?: boolean): number },
      m: string | Uint8Array,
    ) {
      ws.send(m, true);
    },
  },
});
console.log(`listening on ${server.hostname}:${server.port}`);
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => process.exit(0));
