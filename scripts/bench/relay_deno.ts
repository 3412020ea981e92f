// relay_deno.ts: the hand-written Deno WebSocket-to-TCP relay that
// scripts/bench_proxy.ts --hand measures `netstreams proxy` against (Deno's
// ceiling: no library, one process, one thread).
//
// Per connection: read the HTTP/1.1 upgrade request (at most 8 KiB, else
// close), answer 101 (Sec-WebSocket-Protocol: binary if offered), connect to
// the target, then two strictly sequential read -> write-all loops (write
// backpressure is the pending `write`, as in echo_deno.ts):
//   client -> target: client frames are parsed (7/16/64-bit lengths, any split
//          across reads); each payload run is unmasked in place a 32-bit word
//          at a time, then moved towards the front of the same 64 KiB read
//          buffer (copyWithin); then one write of the payload bytes of that
//          read. A close frame closes both sides; other control frames are
//          dropped.
//   target -> client: each target read (into a reused 64 KiB + 10 buffer at
//          offset 10) becomes one unmasked binary frame whose 2/4/10-byte
//          header is written just before the payload: one write, no copy.
// Either side closing closes the other. The frame parsing and unmasking, the
// frame header, the 101 response and the arguments are _relay_core.mjs's.
//
// Run: deno run -A scripts/bench/relay_deno.ts --target HOST:PORT [--port 0]
//        [--hostname 127.0.0.1]
// The first stdout line is "listening on HOST:PORT". SIGINT/SIGTERM exit.
import {
  frameHeader,
  HEAD_MAX,
  headEnd,
  newParser,
  parseArgs,
  response,
  unmaskCompact,
} from "./_relay_core.mjs";

const BUF_SIZE = 64 * 1024;

const args = parseArgs(Deno.args) ?? usage();
const listener = Deno.listen({ hostname: args.hostname, port: args.port });
const { hostname, port } = listener.addr as Deno.NetAddr;
console.log(`listening on ${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`);
for (const sig of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(sig, () => Deno.exit(0));

for await (const conn of listener) {
  relay(conn).catch(() => {
    try {
      conn.close();
    } catch { /* already closed */ }
  });
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}

async function relay(client: Deno.TcpConn): Promise<void> {
  client.setNoDelay(true);
  const buf = new Uint8Array(BUF_SIZE);
  // The upgrade request; what follows its head in buf[end, n) is frame bytes.
  let n = 0, end = -1;
  while (end < 0) {
    if (n >= HEAD_MAX) throw new Error("request head too long");
    const r = await client.read(buf.subarray(n, HEAD_MAX));
    if (r === null) throw new Error("closed during the upgrade");
    end = headEnd(buf, n, n + r);
    n += r;
  }
  const res = response(new TextDecoder().decode(buf.subarray(0, end)));
  if (res === null) {
    await writeAll(client, new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\n"));
    throw new Error("not a WebSocket upgrade");
  }
  await writeAll(client, new TextEncoder().encode(res));
  const target = await Deno.connect({ hostname: args.targetHost, port: args.targetPort });
  target.setNoDelay(true);
  buf.copyWithin(0, end, n);
  let closed = false;
  const closeBoth = () => {
    if (closed) return;
    closed = true;
    for (const c of [client, target]) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
  };
  up(client, target, buf, n - end).catch(() => {}).finally(closeBoth);
  down(target, client).catch(() => {}).finally(closeBoth);
}

/** Client frames -> their payload bytes, `n` bytes of which are already in buf. */
async function up(client: Deno.Conn, target: Deno.Conn, buf: Uint8Array, n: number) {
  const p = newParser();
  const words = new Int32Array(buf.buffer, 0, buf.buffer.byteLength >> 2);
  for (;;) {
    if (n > 0) {
      const dst = unmaskCompact(p, buf, words, n);
      if (dst > 0) await writeAll(target, buf.subarray(0, dst));
      if (p.closed) return;
    }
    const r = await client.read(buf);
    if (r === null) return;
    n = r;
  }
}

/** Target reads -> one binary frame each, the header written in place before the payload. */
async function down(target: Deno.Conn, client: Deno.Conn) {
  const out = new Uint8Array(BUF_SIZE + 10);
  const payload = out.subarray(10);
  for (let n; (n = await target.read(payload)) !== null;) {
    const h = frameHeader(out, n);
    await writeAll(client, out.subarray(h, 10 + n));
  }
}

function usage(): never {
  console.error("usage: relay_deno.ts --target HOST:PORT [--port N] [--hostname H]");
  Deno.exit(2);
}
