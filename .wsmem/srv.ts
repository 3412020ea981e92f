// Memory probe: ws-echo-like server printing heap after GC, every 1.5 s.
import { serveWs } from "../src/ws/ws_server.ts";
import { serve } from "../src/net/server.ts";
const args: string[] = (globalThis as any).Deno?.args ?? (globalThis as any).process.argv.slice(2);
const kind = args[0] ?? "ws";
const server = kind.startsWith("tcp")
  ? await serve({ hostname: "127.0.0.1", port: 0, maxConnections: 20000, banner: kind === "tcpw" ? "x".repeat(129) : undefined, onData: (c, b) => void c.write(b.slice()) })
  : await serveWs({ hostname: "127.0.0.1", port: 0, maxConnections: 20000, onMessage: (ws, d, t) => void ws.send(d, t) });
console.log(`listening on 127.0.0.1:${server.addr.port}`);
const g = globalThis as any;
setInterval(() => {
  g.gc?.();
  const m = g.Deno ? g.Deno.memoryUsage() : g.process.memoryUsage();
  console.error(`total ${(m.heapTotal / 1024).toFixed(0)} KiB heap ${(m.heapUsed / 1024).toFixed(0)} KiB ext ${(m.external / 1024).toFixed(0)} KiB rss ${(m.rss / 1024).toFixed(0)} KiB conns ${server.connections.size}`);
}, 1500);
