// tls_echo_peer.mjs: the hand-written TLS byte-echo server that scripts/bench_tls.ts
// measures the library's TLS path against, on each runtime's fastest native TLS API:
//   deno: Deno.listenTls + a read/write loop (64 KiB buffer; no SNI, no client
//         certificates, no handshake timeout: the features that make the library
//         use node:tls instead);
//   bun:  Bun.listen({ tls }) callbacks with a write queue (no SNI on Bun.listen);
//   node: tls.createServer, pause on a full write, resume on drain.
// Every byte is echoed back as it came (no line splitting).
//
// Run: deno run -A | bun | node  scripts/bench/tls_echo_peer.mjs --cert F --key F --port 0 [--hostname H]
// Plain JavaScript, so that every runtime (Node 20 included) runs it as it is.
// The first stdout line is "listening on HOST:PORT". SIGINT/SIGTERM exit.
import process from "node:process";
import { readFileSync } from "node:fs";

const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  if (i >= 0 && argv[i + 1] !== undefined) return argv[i + 1];
  if (fallback === undefined) throw new Error(`--${name} is required`);
  return fallback;
};
const hostname = arg("hostname", "127.0.0.1");
const port = Number(arg("port", "0"));
const cert = readFileSync(arg("cert"), "utf8");
const key = readFileSync(arg("key"), "utf8");
const g = globalThis;
const ready = (p) => console.log(`listening on ${hostname}:${p}`);
for (const s of ["SIGINT", "SIGTERM"]) process.on(s, () => process.exit(0));

if (g.Deno) {
  const listener = g.Deno.listenTls({ hostname, port, cert, key });
  ready(listener.addr.port);
  for (;;) {
    const conn = await listener.accept();
    (async () => {
      const buf = new Uint8Array(65536);
      try {
        for (;;) {
          const n = await conn.read(buf);
          if (n === null) break;
          let off = 0;
          while (off < n) off += await conn.write(buf.subarray(off, n));
        }
      } catch { /* reset */ }
      try {
        conn.close();
      } catch { /* closed */ }
    })();
  }
} else if (g.Bun) {
  const server = g.Bun.listen({
    hostname,
    port,
    tls: { cert, key },
    socket: {
      open(s) {
        s.data = undefined;
      },
      data(s, chunk) {
        if (s.data) return void s.data.push(chunk.slice());
        const n = s.write(chunk);
        if (n < chunk.length) {
          s.data = [chunk.slice(Math.max(n, 0))];
          s.pause();
        }
      },
      drain(s) {
        const q = s.data;
        while (q && q.length > 0) {
          const n = q[0].length === 0 ? 0 : s.write(q[0]);
          if (n < q[0].length) {
            q[0] = q[0].subarray(Math.max(n, 0));
            return;
          }
          q.shift();
        }
        s.data = undefined;
        s.resume();
      },
      error() {},
      close() {},
    },
  });
  ready(server.port);
} else {
  const tls = process.getBuiltinModule("node:tls");
  const server = tls.createServer({ cert, key }, (t) => {
    t.on("error", () => {});
    t.on("data", (c) => {
      if (!t.write(c)) {
        t.pause();
        t.once("drain", () => t.resume());
      }
    });
    t.on("end", () => t.end());
  });
  server.listen(port, hostname, () => ready(server.address().port));
}
