import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { have, runCli, runWithInput, startCli } from "../_cli.ts";
import { connectClient, delay, until } from "../_client.ts";
import { getRuntime } from "../../src/runtime/mod.ts";

const PY = "/usr/bin/python3";
const SOCAT = "/usr/bin/socat";

describe("netstreams tcp-echo", () => {
  it("tcp-echo prints the bound address first and echoes bytes unchanged (socat)", { skip: !have(SOCAT) && "socat not installed" }, async () => {
    const s = await startCli(["tcp-echo", "--hostname", "127.0.0.1", "--port", "0"]);
    try {
      assert.equal(s.addrs[0]!.hostname, "127.0.0.1");
      const input = "hello\r\nbinary\x00\x01\xff?\n";
      const r = await runWithInput(SOCAT, ["-t", "5", "-", `TCP:127.0.0.1:${s.addrs[0]!.port}`], input);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, input);
    } finally {
      await s.stop();
      // Deno's child_process reports a handled SIGTERM as a kill, so check the output.
      assert.match(s.stdout(), /stopped \(SIGTERM\)/);
    }
  });

  it("tcp-echo --lines echoes each line with CRLF and cuts long lines (python socket)", { skip: !have(PY) && "python3 not installed" }, async () => {
    const s = await startCli(["tcp-echo", "--hostname", "127.0.0.1", "--port", "0", "--lines", "--max-line-length", "256"]);
    try {
      const script = `
import socket, sys
c = socket.create_connection(("127.0.0.1", ${s.addrs[0]!.port}), timeout=5)
c.sendall(b"one\\r\\ntwo\\nthree\\r" + b"\\nx" + b"y" * 300 + b"\\n")
c.shutdown(socket.SHUT_WR)
data = b""
while True:
    d = c.recv(65536)
    if not d: break
    data += d
sys.stdout.write(data.decode())
`;
      const r = await runWithInput(PY, ["-c", script], "");
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.split("\r\n"), ["one", "two", "three", "x" + "y".repeat(255), "y".repeat(45), ""]);
    } finally {
      await s.stop();
    }
  });

  it("tcp-echo --eol with escapes and --record-length frame units", async () => {
    const s = await startCli(["tcp-echo", "--hostname", "127.0.0.1", "--port", "0", "--eol", "\\0\\n"]);
    const r = await startCli(["tcp-echo", "--hostname", "127.0.0.1", "--port", "0", "--record-length", "3"]);
    try {
      const a = await connectClient(s.addrs[0]!.port);
      a.send("ab\0\ncd\0");
      a.send("\n");
      await a.waitFor((t) => t === "ab\r\ncd\r\n");
      a.close();
      const b = await connectClient(r.addrs[0]!.port);
      b.send("abcdefg");
      await b.waitFor((t) => t === "abc\r\ndef\r\n");
      b.socket.closeWrite();
      await b.waitFor((t) => t === "abc\r\ndef\r\ng\r\n");
      await b.closed;
    } finally {
      await s.stop();
      await r.stop();
    }
  });

  it("tcp-echo sends banners and refuses a flood past --max-connections", async () => {
    const s = await startCli([
      "tcp-echo", "--hostname", "127.0.0.1", "--port", "0", "--max-connections", "5",
      "--banner", "welcome", "--too-busy", "full",
    ]);
    try {
      const kept = await Promise.all(Array.from({ length: 5 }, () => connectClient(s.addrs[0]!.port)));
      for (const k of kept) await k.waitFor((t) => t === "welcome\r\n");
      const flood = await Promise.all(Array.from({ length: 40 }, () => connectClient(s.addrs[0]!.port)));
      for (const f of flood) {
        await f.waitFor((t) => t === "full\r\n");
        await f.closed;
      }
      kept[0]!.send("ping");
      await kept[0]!.waitFor((t) => t === "welcome\r\nping");
      for (const k of kept) k.close();
    } finally {
      await s.stop();
    }
  });

  it("tcp-echo closes idle clients and applies --allow/--block", async () => {
    const s = await startCli(["tcp-echo", "--hostname", "127.0.0.1", "--port", "0", "--idle-timeout", "0.3"]);
    const b = await startCli(["tcp-echo", "--hostname", "127.0.0.1", "--port", "0", "--block", "127.0.0.0/8", "--banner", "x"]);
    try {
      const c = await connectClient(s.addrs[0]!.port);
      const t0 = Date.now();
      await c.closed;
      assert.ok(Date.now() - t0 >= 250);
      const d = await connectClient(b.addrs[0]!.port);
      await d.closed;
      assert.equal(d.text(), "");
    } finally {
      await s.stop();
      await b.stop();
    }
  });

  it("tcp-echo keeps memory bounded when a client sends 200 MB and never reads", async () => {
    const s = await startCli(["tcp-echo", "--hostname", "127.0.0.1", "--port", "0"]);
    try {
      const rt = await getRuntime();
      const sock = await rt.connect({ hostname: "127.0.0.1", port: s.addrs[0]!.port });
      let drained = 0;
      sock.start({ data() {}, end() {}, drain() { drained++; }, close() {} });
      sock.pause(); // never read the echo
      const rss0 = s.rssKiB();
      const block = new Uint8Array(256 * 1024);
      let offered = 0;
      // Offer 200 MB; stop when the queue has not drained for a whole second.
      while (offered < 200 * 1024 * 1024) {
        offered += block.length;
        if (!sock.write(block)) {
          const before = drained;
          const t = Date.now();
          while (drained === before && Date.now() - t < 1000) await delay(10);
          if (drained === before) break;
        }
      }
      const accepted = offered - sock.writableLength;
      const grew = s.rssKiB() - rss0;
      assert.ok(accepted < 64 * 1024 * 1024, `the server kept reading: ${accepted} bytes accepted`);
      assert.ok(grew < 64 * 1024, `server RSS grew by ${grew} KiB`);
      sock.abort();
    } finally {
      await s.stop();
    }
  });

  it("tcp-echo rejects invalid options with exit code 2 and prints --help", async () => {
    const bad = await runCli(["tcp-echo", "--port", "70000"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--port must be an integer 0-65535/);
    const unknown = await runCli(["tcp-echo", "--nope"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown option --nope/);
    const short = await runCli(["tcp-echo", "--max-line-length", "10"]);
    assert.equal(short.code, 2);
    const help = await runCli(["tcp-echo", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--max-line-length/);
    const version = await runCli(["--version"]);
    assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+$/);
    // Commands are looked up as own keys: an inherited name is no command.
    for (const name of ["tcp-ech", "toString", "__proto__"]) {
      const r = await runCli([name]);
      assert.equal(r.code, 2, name);
      assert.match(r.stderr, new RegExp(`Unknown command "${name}"`));
    }
  });
});
