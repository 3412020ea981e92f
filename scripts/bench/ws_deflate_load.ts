// ws_deflate_load.ts: permessage-deflate load client for scripts/bench_ws.ts
// (run with Deno). Each connection offers
// "permessage-deflate; client_no_context_takeover; client_max_window_bits", so
// every request can be one precompressed, premasked frame (the same bytes each
// time); the server inflates each message and compresses its echo (with its
// own context takeover). Echoes are counted by their FIN data frames; the
// first echo of each connection must carry RSV1 (compressed).
//
//   throughput: --conns N --inflight K --duration S --warmup S --size BYTES
//   memory:     --mem-conns N --pid PID  (each connection echoes one message,
//               then the server's RSS growth per connection is reported)
// Prints one JSON line.
import { constants, deflateRawSync } from "node:zlib";

const a = Object.fromEntries(
  Deno.args.reduce<[string, string][]>(
    (acc, v, i, all) => (v.startsWith("--") ? [...acc, [v.slice(2), all[i + 1]]] : acc),
    [],
  ),
);
const host = a.host ?? "127.0.0.1", port = Number(a.port);
const size = Number(a.size ?? 256);

function message(n: number): Uint8Array {
  let s = "";
  for (let k = 0; s.length < n; k++) {
    s += JSON.stringify({ seq: k % 10, user: "alice", text: "hello again" });
  }
  return new TextEncoder().encode(s.slice(0, n));
}
const z = deflateRawSync(message(size), { finishFlush: constants.Z_SYNC_FLUSH, level: 1 });
const payload = z.subarray(0, z.length - 4);
const len = payload.length;
const head = len < 126 ? [0xc1, 0x80 | len] : [0xc1, 0x80 | 126, len >> 8, len & 255];
const frame = new Uint8Array(head.length + 4 + len);
frame.set(head);
frame.set([1, 2, 3, 4], head.length);
for (let i = 0; i < len; i++) frame[head.length + 4 + i] = payload[i] ^ [1, 2, 3, 4][i & 3];

const REQ = new TextEncoder().encode(
  `GET / HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
    "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; client_max_window_bits\r\n\r\n",
);

let echoed = 0, compressedFirst = 0, errors = 0;

/** One connection: upgrade, then keep `inflight` messages outstanding until `stop()`. */
async function run(inflight: number, until: () => boolean, once = false): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: host, port });
  conn.setNoDelay(true);
  await conn.write(REQ);
  const buf = new Uint8Array(256 * 1024);
  let have = 0, upgraded = false, first = true, pending = 0;
  const batch = new Uint8Array(frame.length * inflight);
  for (let k = 0; k < inflight; k++) batch.set(frame, k * frame.length);
  const loop = (async () => {
    for (;;) {
      const n = await conn.read(buf.subarray(have));
      if (n === null) return;
      have += n;
      let at = 0;
      if (!upgraded) {
        const text = new TextDecoder().decode(buf.subarray(0, have));
        const end = text.indexOf("\r\n\r\n");
        if (end < 0) continue;
        if (!/sec-websocket-extensions: permessage-deflate/i.test(text)) {
          errors++;
          throw new Error("permessage-deflate not negotiated: " + text.split("\r\n")[0]);
        }
        upgraded = true;
        at = end + 4;
        await conn.write(batch);
        pending = inflight;
      }
      let done = 0;
      while (have - at >= 2) {
        const b0 = buf[at], b1 = buf[at + 1] & 127;
        let hl = 2, pl = b1;
        if (b1 === 126) {
          if (have - at < 4) break;
          pl = (buf[at + 2] << 8) | buf[at + 3];
          hl = 4;
        } else if (b1 === 127) {
          if (have - at < 10) break;
          pl = buf[at + 6] * 2 ** 24 + ((buf[at + 7] << 16) | (buf[at + 8] << 8) | buf[at + 9]);
          hl = 10;
        }
        if (have - at < hl + pl) break;
        if ((b0 & 0x0f) !== 0 && (b0 & 0x0f) < 8 && first) {
          first = false;
          if (b0 & 0x40) compressedFirst++;
        }
        if ((b0 & 0x80) && (b0 & 0x0f) < 8) done++;
        at += hl + pl;
      }
      buf.copyWithin(0, at, have);
      have -= at;
      if (done > 0) {
        echoed += done;
        pending -= done;
        if (once) return;
        if (!until()) {
          const more = new Uint8Array(frame.length * done);
          for (let k = 0; k < done; k++) more.set(frame, k * frame.length);
          pending += done;
          await conn.write(more);
        } else if (pending <= 0) return;
      }
    }
  })();
  await loop;
  return conn;
}

if (a["mem-conns"]) {
  const n = Number(a["mem-conns"]), pid = Number(a.pid);
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))![1]);
  await new Promise((r) => setTimeout(r, 300));
  const before = rss();
  const conns: Deno.TcpConn[] = [];
  for (let k = 0; k < n; k += 100) {
    conns.push(
      ...await Promise.all(
        Array.from({ length: Math.min(100, n - k) }, () => run(1, () => true, true)),
      ),
    );
  }
  await new Promise((r) => setTimeout(r, 1000));
  const after = rss();
  console.log(
    JSON.stringify({
      conns: n,
      echoed,
      compressedFirst,
      rssBeforeKiB: before,
      rssAfterKiB: after,
      kibPerConn: (after - before) / n,
    }),
  );
  for (const c of conns) c.close();
} else {
  const conns = Number(a.conns ?? 50), inflight = Number(a.inflight ?? 16);
  const duration = Number(a.duration ?? 5) * 1000, warmup = Number(a.warmup ?? 1) * 1000;
  let stopAt = Infinity;
  const start = performance.now();
  const all = Array.from({ length: conns }, () => run(inflight, () => performance.now() >= stopAt));
  await new Promise((r) => setTimeout(r, warmup));
  const e0 = echoed, t0 = performance.now();
  await new Promise((r) => setTimeout(r, duration));
  const e1 = echoed, t1 = performance.now();
  stopAt = performance.now();
  const closed = await Promise.race([
    Promise.allSettled(all),
    new Promise((r) => setTimeout(() => r(null), 5000)),
  ]);
  if (closed) {
    for (const r of closed as PromiseSettledResult<Deno.TcpConn>[]) {
      if (r.status === "fulfilled") r.value.close();
    }
  }
  console.log(JSON.stringify({
    msgs: e1 - e0,
    msgs_per_s: (e1 - e0) / ((t1 - t0) / 1000),
    conns,
    inflight,
    size,
    wire_bytes: frame.length,
    compressedFirst,
    errors,
    total_s: (performance.now() - start) / 1000,
  }));
  Deno.exit(0);
}
Deno.exit(0);
