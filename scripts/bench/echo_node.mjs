// echo_node.mjs: the hand-written node:net echo server that scripts/bench_tcp.ts
// measures the library against (the "peer" to beat on Node).
//
//   lines: split on "\n" (a trailing "\r" is dropped), write each line + "\r\n";
//          all replies of one 'data' event go out in one writev via cork/uncork
//          (`--write gather` instead copies them into one buffer and writes it
//          once, like the Deno and Bun peers: about 1.3x faster on Node 20).
//   bulk:  write every chunk back as it came; pause reading while the socket
//          is over its high-water mark, resume on 'drain'.
//
// Run: node scripts/bench/echo_node.mjs --mode lines|bulk --port 0 [--hostname 127.0.0.1]
//        [--write cork|gather]
// The first stdout line is "listening on HOST:PORT". SIGINT/SIGTERM exit.
import net from "node:net";
import process from "node:process";

const args = parseArgs(process.argv.slice(2));
const CRLF = Buffer.from("\r\n");
const MAX_LINE = 64 * 1024; // a longer partial line is echoed as it is (bounded memory)

const handler = args.mode === "bulk" ? bulkEcho : args.write === "cork" ? lineEcho : lineEchoGather;
const server = net.createServer({ noDelay: true }, handler);
server.on("error", (err) => {
  console.error(err);
  process.exit(1);
});
server.listen({ host: args.hostname, port: args.port, backlog: 4096 }, () => {
  const { address, port } = server.address();
  console.log(`listening on ${address.includes(":") ? `[${address}]` : address}:${port}`);
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(0));

/** Echoes line by line. */
function lineEcho(sock) {
  let carry = null; // bytes of an unfinished line (copied: a view would pin the whole chunk)
  sock.on("error", () => {});
  sock.on("data", (chunk) => {
    let start = 0;
    let nl = chunk.indexOf(10);
    if (nl === -1) {
      carry = carry ? Buffer.concat([carry, chunk]) : Buffer.from(chunk);
      if (carry.length > MAX_LINE) {
        sock.write(carry);
        carry = null;
      }
      return;
    }
    let ok = true;
    sock.cork();
    while (nl !== -1) {
      let line = chunk.subarray(start, nl);
      if (carry) {
        line = Buffer.concat([carry, line]);
        carry = null;
      }
      const end = line.length > 0 && line[line.length - 1] === 13 ? line.length - 1 : line.length;
      sock.write(line.subarray(0, end));
      ok = sock.write(CRLF);
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    sock.uncork();
    if (start < chunk.length) carry = Buffer.from(chunk.subarray(start));
    if (!ok) pauseUntilDrain(sock);
  });
}

/** Echoes line by line, the replies to one chunk copied into one buffer. */
function lineEchoGather(sock) {
  let carry = null; // bytes of an unfinished line
  sock.on("error", () => {});
  sock.on("data", (chunk) => {
    if (carry) {
      chunk = Buffer.concat([carry, chunk]);
      carry = null;
    }
    const out = Buffer.allocUnsafe(2 * chunk.length); // "\n" becomes at most "\r\n"
    let o = 0, start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      const end = nl > start && chunk[nl - 1] === 13 ? nl - 1 : nl;
      o += chunk.copy(out, o, start, end);
      out[o++] = 13;
      out[o++] = 10;
      start = nl + 1;
    }
    if (start < chunk.length) carry = Buffer.from(chunk.subarray(start));
    if (carry && carry.length > MAX_LINE) {
      o += carry.copy(out, o);
      carry = null;
    }
    if (o > 0 && !sock.write(out.subarray(0, o))) pauseUntilDrain(sock);
  });
}

/** Echoes bytes unchanged. */
function bulkEcho(sock) {
  sock.on("error", () => {});
  sock.on("data", (chunk) => {
    if (!sock.write(chunk)) pauseUntilDrain(sock);
  });
}

function pauseUntilDrain(sock) {
  sock.pause();
  sock.once("drain", () => sock.resume());
}

function parseArgs(argv) {
  const out = { mode: "bulk", port: 0, hostname: "127.0.0.1", write: "cork" };
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (key === "--mode" && (value === "lines" || value === "bulk")) out.mode = value;
    else if (key === "--port") out.port = Number(value);
    else if (key === "--hostname") out.hostname = value;
    else if (key === "--write" && (value === "cork" || value === "gather")) out.write = value;
    else {
      console.error(
        `usage: echo_node.mjs --mode lines|bulk --port N [--hostname H] [--write cork|gather]`,
      );
      process.exit(2);
    }
  }
  return out;
}
