// ws_stream_client.ts: a WebSocket load client for proxies, where the echo is a
// byte stream and message boundaries are not kept (loadgen.c's ws-large counts
// one message per server frame, which a proxy re-frames). Bun raw sockets.
//
// Each of --conns connections does the HTTP upgrade (offering "binary"), then
// sends masked binary frames of --size bytes (mask key 0, so the payload goes
// as it is) keeping at most --window bytes sent and not yet echoed. Server
// frames (binary or continuation, any size) are parsed and their payload is
// checked against the stream offset (a 251-byte period pattern, first and last
// byte of every piece). Ping frames are answered. After --warmup seconds it
// measures echoed payload bytes over --duration seconds.
//
// Run: bun scripts/bench/ws_stream_client.ts --port P [--host 127.0.0.1]
//        [--conns 10] [--size 16384] [--window 65536] [--duration 5] [--warmup 1]
// Prints one JSON line: {"bytes_per_s", "bytes", "seconds", "bad", "errors"}.
import process from "node:process";

interface BunSocket {
  data: Conn;
  write(bytes: Uint8Array): number;
  end(): void;
}
declare const Bun: {
  connect(o: {
    hostname: string;
    port: number;
    socket: {
      open(s: BunSocket): void;
      data(s: BunSocket, chunk: Uint8Array): void;
      drain(s: BunSocket): void;
      close(s: BunSocket): void;
      error(s: BunSocket, e: Error): void;
    };
    data?: Conn;
  }): Promise<BunSocket>;
};

const opt = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const hostIdx = process.argv.indexOf("--host");
const HOST = hostIdx > 0 ? process.argv[hostIdx + 1]! : "127.0.0.1";
const PORT = opt("port", 0);
const CONNS = opt("conns", 10);
const SIZE = opt("size", 16384);
const WINDOW = opt("window", 4 * SIZE);
const DURATION = opt("duration", 5);
const WARMUP = opt("warmup", 1);
const PERIOD = 251;

// One frame per possible stream phase: the payload of frame k starts at (k * SIZE) % PERIOD.
const head = SIZE < 126 ? 2 : SIZE < 65536 ? 4 : 10;
const FRAMES: Uint8Array[] = [];
for (let phase = 0; phase < PERIOD; phase++) {
  const f = new Uint8Array(head + 4 + SIZE);
  f[0] = 0x82;
  if (SIZE < 126) f[1] = 0x80 | SIZE;
  else if (SIZE < 65536) (f[1] = 0x80 | 126), (f[2] = SIZE >> 8), (f[3] = SIZE & 255);
  else {
    f[1] = 0x80 | 127;
    for (let b = 0; b < 8; b++) f[2 + b] = Math.floor(SIZE / 2 ** (8 * (7 - b))) & 255;
  }
  // mask key 0: bytes head..head+3 stay 0
  for (let i = 0; i < SIZE; i++) f[head + 4 + i] = (phase + i) % PERIOD;
  FRAMES.push(f);
}

interface Conn {
  sock: BunSocket | undefined;
  upgraded: boolean;
  headText: string;
  sent: number; // payload bytes sent (queued)
  echoed: number; // payload bytes received
  queue: Uint8Array[];
  // frame parser
  hdr: Uint8Array;
  have: number;
  left: number;
  control: boolean;
  controlOp: number;
  controlBytes: number[];
}

let echoedTotal = 0;
let bad = 0;
let errors = 0;
let measuring = false;
let measured = 0;

function pump(c: Conn): void {
  const s = c.sock!;
  while (c.queue.length > 0) {
    const q = c.queue[0]!;
    const w = s.write(q);
    if (w < q.length) {
      c.queue[0] = q.subarray(Math.max(0, w));
      return;
    }
    c.queue.shift();
  }
  while (c.sent - c.echoed + SIZE <= WINDOW) {
    const f = FRAMES[(c.sent) % PERIOD]!;
    c.sent += SIZE;
    const w = s.write(f);
    if (w < f.length) {
      c.queue.push(f.subarray(Math.max(0, w)));
      return;
    }
  }
}

function onFrames(c: Conn, b: Uint8Array): void {
  let p = 0;
  while (p < b.length) {
    if (c.left === 0) {
      // header
      while (p < b.length && c.have < 2) c.hdr[c.have++] = b[p++]!;
      if (c.have < 2) return;
      const len7 = c.hdr[1]! & 127;
      const need = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0);
      while (p < b.length && c.have < need) c.hdr[c.have++] = b[p++]!;
      if (c.have < need) return;
      let len = len7;
      if (len7 === 126) len = (c.hdr[2]! << 8) | c.hdr[3]!;
      else if (len7 === 127) {
        len = 0;
        for (let i = 2; i < 10; i++) len = len * 256 + c.hdr[i]!;
      }
      c.have = 0;
      const op = c.hdr[0]! & 15;
      if (op === 8) {
        errors++;
        c.sock!.end();
        return;
      }
      c.control = op >= 8;
      c.controlOp = op;
      c.controlBytes = [];
      c.left = len;
      if (len === 0 && c.control) endControl(c);
      continue;
    }
    const take = Math.min(c.left, b.length - p);
    if (c.control) {
      for (let i = 0; i < take; i++) c.controlBytes.push(b[p + i]!);
    } else if (take > 0) {
      if (b[p] !== c.echoed % PERIOD || b[p + take - 1] !== (c.echoed + take - 1) % PERIOD) bad++;
      c.echoed += take;
      echoedTotal += take;
      if (measuring) measured += take;
    }
    p += take;
    c.left -= take;
    if (c.left === 0 && c.control) endControl(c);
  }
}

function endControl(c: Conn): void {
  if (c.controlOp === 9) {
    const n = c.controlBytes.length;
    const pong = new Uint8Array(6 + n);
    pong[0] = 0x8a;
    pong[1] = 0x80 | n;
    pong.set(c.controlBytes, 6);
    c.queue.push(pong);
  }
  c.control = false;
}

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const request = new TextEncoder().encode(
  `GET / HTTP/1.1\r\nHost: ${HOST}:${PORT}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: binary\r\n\r\n`,
);

const conns: Conn[] = [];
for (let i = 0; i < CONNS; i++) {
  const c: Conn = {
    sock: undefined,
    upgraded: false,
    headText: "",
    sent: 0,
    echoed: 0,
    queue: [],
    hdr: new Uint8Array(14),
    have: 0,
    left: 0,
    control: false,
    controlOp: 0,
    controlBytes: [],
  };
  conns.push(c);
  await Bun.connect({
    hostname: HOST,
    port: PORT,
    data: c,
    socket: {
      open(s) {
        s.data.sock = s;
        s.write(request);
      },
      data(s, chunk) {
        const c = s.data;
        if (!c.upgraded) {
          c.headText += new TextDecoder("latin1").decode(chunk);
          const end = c.headText.indexOf("\r\n\r\n");
          if (end < 0) return;
          if (!c.headText.startsWith("HTTP/1.1 101")) {
            console.error(`upgrade refused: ${c.headText.split("\r\n")[0]}`);
            process.exit(2);
          }
          c.upgraded = true;
          const rest = chunk.subarray(chunk.length - (c.headText.length - end - 4));
          if (rest.length > 0) onFrames(c, rest);
          pump(c);
          return;
        }
        onFrames(c, chunk);
        pump(c);
      },
      drain(s) {
        pump(s.data);
      },
      close() {
        errors++;
      },
      error() {},
    },
  });
}

await new Promise((r) => setTimeout(r, WARMUP * 1000));
measuring = true;
const t0 = performance.now();
await new Promise((r) => setTimeout(r, DURATION * 1000));
measuring = false;
const seconds = (performance.now() - t0) / 1000;
console.log(
  JSON.stringify({
    bytes_per_s: Math.round(measured / seconds),
    bytes: measured,
    seconds,
    bad,
    errors,
  }),
);
process.exit(0);
