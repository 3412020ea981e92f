import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { runCli, startCli } from "../_cli.ts";
import { testCerts } from "../tls/_certs.ts";
import { NO_PEERS, pyTls, sClient } from "../tls/_peers.ts";

const HOST = ["--hostname", "127.0.0.1", "--port", "0"];

describe("netstreams tcp-echo with TLS", { skip: NO_PEERS }, () => {
  it("tcp-echo --tls-cert/--tls-key serves implicit TLS to openssl s_client and Python ssl", async () => {
    const c = testCerts();
    const s = await startCli([
      "tcp-echo",
      ...HOST,
      "--lines",
      "--idle-timeout",
      "1",
      "--tls-cert",
      c.server.certPath,
      "--tls-key",
      c.server.keyPath,
    ]);
    try {
      const port = s.addrs[0]!.port;
      const r = await sClient(port, {
        ca: c.ca.certPath,
        servername: "localhost",
        input: "hello\n",
      });
      assert.equal(r.stdout, "hello\r\n");
      assert.match(r.stderr, /Verification: OK/);
      const py = await pyTls(port, {
        ca: c.ca.certPath,
        servername: "localhost",
        send: "a\r\nb\n",
        expect: 6,
      });
      assert.equal(py.echo, "a\r\nb\r\n");
    } finally {
      await s.stop();
    }
  });

  it("tcp-echo --starttls answers STARTTLS with 220 and echoes over TLS, pipelined or not", async () => {
    const c = testCerts();
    const s = await startCli([
      "tcp-echo",
      ...HOST,
      "--starttls",
      "--tls-cert",
      c.server.certPath,
      "--tls-key",
      c.server.keyPath,
    ]);
    try {
      const port = s.addrs[0]!.port;
      for (const pipelined of [false, true]) {
        const r = await pyTls(port, {
          starttls: true,
          pipelined,
          ca: c.ca.certPath,
          servername: "localhost",
          send: "raw\tbytes\xff",
          expect: 10,
        });
        assert.equal(r.reply, "220 Ready to start TLS");
        assert.equal(r.echo, "raw\tbytes\xff", r.error);
      }
    } finally {
      await s.stop();
    }
  });

  it("tcp-echo --client-cert require --tls-ca accepts the CA's clients and refuses others", async () => {
    const c = testCerts();
    const s = await startCli([
      "tcp-echo",
      ...HOST,
      "--tls-cert",
      c.server.certPath,
      "--tls-key",
      c.server.keyPath,
      "--tls-ca",
      c.ca.certPath,
      "--client-cert",
      "require",
    ]);
    try {
      const port = s.addrs[0]!.port;
      const ok = await pyTls(port, {
        cert: c.client.certPath,
        key: c.client.keyPath,
        send: "m",
        expect: 1,
      });
      assert.equal(ok.echo, "m", ok.error);
      const rogue = await pyTls(port, {
        cert: c.rogueClient.certPath,
        key: c.rogueClient.keyPath,
        send: "n",
        expect: 1,
        timeout: 2,
      });
      assert.notEqual(rogue.echo, "n");
      const r = await sClient(port, {
        cert: c.client.certPath,
        key: c.client.keyPath,
        input: "o",
        extra: ["-no_ign_eof"],
      });
      assert.match(r.stderr, /CONNECTION ESTABLISHED/);
    } finally {
      await s.stop();
    }
  });

  it("tcp-echo with a missing key file exits 1 naming the file, before listening", async () => {
    const c = testCerts();
    const missing = `${c.dir}/absent.key`;
    const r = await runCli([
      "tcp-echo",
      ...HOST,
      "--tls-cert",
      c.server.certPath,
      "--tls-key",
      missing,
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /absent\.key/);
    assert.match(r.stderr, /ERR_TLS_CERT/);
    assert.equal(r.stdout, "");
  });

  it("tcp-echo rejects incomplete TLS options with exit code 2", async () => {
    const c = testCerts();
    for (
      const args of [
        ["--tls-cert", c.server.certPath],
        ["--starttls"],
        [
          "--tls-cert",
          c.server.certPath,
          "--tls-key",
          c.server.keyPath,
          "--client-cert",
          "require",
        ],
        [
          "--tls-cert",
          c.server.certPath,
          "--tls-key",
          c.server.keyPath,
          "--client-cert",
          "maybe",
          "--tls-ca",
          c.ca.certPath,
        ],
      ]
    ) {
      const r = await runCli(["tcp-echo", ...HOST, ...args]);
      assert.equal(r.code, 2, args.join(" "));
    }
  });
});
