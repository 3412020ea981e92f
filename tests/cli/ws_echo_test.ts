import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { runCli, startCli } from "../_cli.ts";
import { openWs, withTimeout } from "../ws/_raw_client.ts";
import { closeNormally, expectFail, expectMessage } from "../ws/server/_autobahn.ts";

const LOCAL = ["--hostname", "127.0.0.1", "--port", "0"];

describe("netstreams ws-echo", () => {
  it("ws-echo prints the bound address first and echoes text and binary with their type, 16 MiB included", async () => {
    const s = await startCli(["ws-echo", ...LOCAL]);
    try {
      assert.equal(s.addrs[0]!.hostname, "127.0.0.1");
      const c = await openWs(s.addrs[0]!.port);
      c.sendFrames({ opcode: 1, payload: "h\xc3\xa9llo" }, { opcode: 2, payload: new Uint8Array([0, 255]) });
      await expectMessage(c, 1, "héllo");
      await expectMessage(c, 2, new Uint8Array([0, 255]));
      c.sendFrames({ opcode: 9, payload: "p" });
      assert.equal((await c.nextFrame()).opcode, 10);
      const big = new Uint8Array(16 * 1024 * 1024).fill(65);
      c.sendFrames({ opcode: 1, payload: big });
      await expectMessage(c, 1, "A".repeat(big.length), 30_000);
      await closeNormally(c);
    } finally {
      await s.stop();
    }
  });

  it("ws-echo --max-payload closes a bigger message with 1009", async () => {
    const s = await startCli(["ws-echo", ...LOCAL, "--max-payload", "1000"]);
    try {
      const c = await openWs(s.addrs[0]!.port);
      c.sendFrames({ opcode: 2, payload: new Uint8Array(1000) });
      await expectMessage(c, 2, new Uint8Array(1000));
      c.sendFrames({ opcode: 2, payload: new Uint8Array(1001) });
      await expectFail(c, 1009);
    } finally {
      await s.stop();
    }
  });

  it("ws-echo closes open WebSockets with 1001 on SIGTERM and says so", async () => {
    const s = await startCli(["ws-echo", ...LOCAL]);
    const c = await openWs(s.addrs[0]!.port);
    const stopped = s.stop();
    const f = await c.closeFrame();
    assert.equal(f.code, 1001);
    c.sendFrames({ opcode: 8, payload: "\x03\xe9" });
    await withTimeout(c.closed, 5000, "TCP close");
    await stopped;
    assert.match(s.stdout(), /stopped \(SIGTERM\)/);
  });

  it("ws-echo --help prints usage; a bad option exits with 2", async () => {
    const help = await runCli(["ws-echo", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: netstreams ws-echo/);
    assert.match(help.stdout, /--max-payload BYTES/);
    const bad = await runCli(["ws-echo", "--max-payload", "lots"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--max-payload must be an integer/);
    const top = await runCli(["--help"]);
    assert.match(top.stdout, /ws-echo/);
  });
});
