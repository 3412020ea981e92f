import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { have, runWithInput, startCli } from "../_cli.ts";
import { connectClient } from "../_client.ts";

const PY = "/usr/bin/python3";

describe("netstreams tcp-echo lifecycle", () => {
  it("tcp-echo listens on every --hostname and names them all on its first line", async () => {
    const s = await startCli([
      "tcp-echo",
      "--hostname",
      "127.0.0.1",
      "--hostname",
      "::1",
      "--port",
      "0",
    ]);
    try {
      assert.deepEqual(s.addrs.map((a) => a.hostname), ["127.0.0.1", "::1"]);
      assert.equal(s.addrs[1]!.port, s.addrs[0]!.port, "--port 0 gives both addresses one port");
      for (const { hostname, port } of s.addrs) {
        const c = await connectClient(port, hostname);
        c.send(`via ${hostname}\n`);
        assert.equal(await c.waitFor((t) => t.endsWith("\n")), `via ${hostname}\n`);
        c.close();
      }
    } finally {
      await s.stop();
    }
  });

  it("tcp-echo on SIGINT ends connected clients with FIN, says so, and exits 0", async () => {
    const s = await startCli(["tcp-echo", "--hostname", "127.0.0.1", "--port", "0", "--lines"]);
    const c = await connectClient(s.addrs[0]!.port);
    c.send("before\r\n");
    await c.waitFor((t) => t === "before\r\n");
    const exited = new Promise<number | null>((r) => s.child.once("exit", (code) => r(code)));
    s.child.kill("SIGINT");
    assert.equal(await c.closed, undefined, "a clean end, not a reset");
    assert.ok(c.ended(), "the client saw the server's FIN");
    const code = await exited;
    assert.match(s.stdout(), /stopped \(SIGINT\)/);
    // Deno's child_process reports a handled signal as a kill (code null); the others give 0.
    if (code !== null) assert.equal(code, 0);
  });

  it("tcp-echo returns every byte value unchanged (python socket)", {
    skip: !have(PY) && "python3 not installed",
  }, async () => {
    const s = await startCli(["tcp-echo", "--hostname", "127.0.0.1", "--port", "0"]);
    try {
      const script = `
import socket, sys
c = socket.create_connection(("127.0.0.1", ${s.addrs[0]!.port}), timeout=5)
sent = bytes(range(256)) * 64
c.sendall(sent)
c.shutdown(socket.SHUT_WR)
data = b""
while True:
    d = c.recv(65536)
    if not d: break
    data += d
sys.stdout.write("same" if data == sent else "differ %d %d" % (len(data), len(sent)))
`;
      const r = await runWithInput(PY, ["-c", script], "");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "same");
    } finally {
      await s.stop();
    }
  });
});
