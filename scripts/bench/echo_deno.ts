// echo_deno.ts: the hand-written Deno echo server that scripts/bench_tcp.ts
// measures the library against (the "peer" to beat on Deno).
//
// One `conn.read`/`conn.write` loop per connection with a reused read buffer of
// 4 KiB (`--read-size` changes it; the bench uses 64 KiB for bulk throughput).
//   lines: split on "\n" (a trailing "\r" is dropped); the replies to one read
//          (each line + "\r\n") are gathered in a reused buffer and written at once.
//   bulk:  write back what was read before reading again (write backpressure is
//          the pending `write`).
//
// Run: deno run -A scripts/bench/echo_deno.ts --mode lines|bulk --port 0 [--hostname 127.0.0.1]
//        [--read-size 4096]
// The first stdout line is "listening on HOST:PORT". SIGINT/SIGTERM exit.

const MAX_LINE = 64 * 1024; // a longer partial line is echoed as it is (bounded memory)

const args = parseArgs(Deno.args);
const READ_SIZE = args.readSize;
const listener = Deno.listen({ hostname: args.hostname, port: args.port });
const { hostname, port } = listener.addr as Deno.NetAddr;
console.log(`listening on ${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`);
for (const sig of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(sig, () => Deno.exit(0));

for await (const conn of listener) {
  (args.mode === "lines" ? lineEcho : bulkEcho)(conn).catch(() => {}).finally(() => {
    try {
      conn.close();
    } catch { /* already closed */ }
  });
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}

async function bulkEcho(conn: Deno.TcpConn): Promise<void> {
  conn.setNoDelay(true);
  const buf = new Uint8Array(READ_SIZE);
  for (let n; (n = await conn.read(buf)) !== null;) await writeAll(conn, buf.subarray(0, n));
}

async function lineEcho(conn: Deno.TcpConn): Promise<void> {
  conn.setNoDelay(true);
  const buf = new Uint8Array(READ_SIZE);
  let out = new Uint8Array(0); // replies to one read; grown on first use, then reused
  let carry = new Uint8Array(0); // an unfinished line is carry[0, carried)
  let carried = 0;
  for (let n; (n = await conn.read(buf)) !== null;) {
    const data = buf.subarray(0, n);
    // Each "\n" becomes at most "\r\n", so the replies fit in carried + 2 * n bytes.
    if (out.length < carried + 2 * n) {
      out = new Uint8Array(Math.max(carried + 2 * n, 2 * READ_SIZE));
    }
    let o = 0, start = 0;
    for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10, start)) {
      if (carried > 0) { // the first line of this read completes the carried one
        out.set(carry.subarray(0, carried), 0);
        o = carried;
        carried = 0;
      }
      out.set(data.subarray(start, nl), o);
      o += nl - start;
      if (o > 0 && out[o - 1] === 13) o--; // drop the line's own "\r" (out[o-1] is "\n" otherwise)
      out[o++] = 13;
      out[o++] = 10;
      start = nl + 1;
    }
    if (start < n) {
      if (carry.length < carried + n - start) {
        const grown = new Uint8Array(Math.max(2 * (carried + n - start), 256));
        grown.set(carry.subarray(0, carried), 0);
        carry = grown;
      }
      carry.set(data.subarray(start), carried);
      carried += n - start;
    }
    if (o > 0) await writeAll(conn, out.subarray(0, o));
    if (carried > MAX_LINE) { // too long to be a line: pass the piece on as it is
      await writeAll(conn, carry.subarray(0, carried));
      carried = 0;
    }
  }
}

interface Args {
  mode: "lines" | "bulk";
  port: number;
  hostname: string;
  readSize: number;
}

function parseArgs(argv: string[]): Args {
  const out: Args = { mode: "bulk", port: 0, hostname: "127.0.0.1", readSize: 4096 };
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (key === "--mode" && (value === "lines" || value === "bulk")) out.mode = value;
    else if (key === "--port") out.port = Number(value);
    else if (key === "--hostname") out.hostname = value;
    else if (key === "--read-size" && Number(value) >= 1) out.readSize = Number(value);
    else {
      console.error(
        "usage: echo_deno.ts --mode lines|bulk --port N [--hostname H] [--read-size N]",
      );
      Deno.exit(2);
    }
  }
  return out;
}
