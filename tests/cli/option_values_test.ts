import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { runCli } from "../_cli.ts";

const LOCAL = ["--hostname", "127.0.0.1", "--port", "0"];

/** Runs the CLI and checks it stops with a usage error: exit 2, the message first, then help. */
async function usageError(args: string[], message: RegExp): Promise<void> {
  const r = await runCli(args);
  const shown = JSON.stringify(args);
  assert.equal(r.code, 2, `${shown}: ${r.stdout} ${r.stderr}`);
  assert.equal(r.stdout, "", shown);
  const [first, blank] = r.stderr.split("\n");
  assert.match(first!, message, shown);
  assert.equal(blank, "", shown);
  assert.match(r.stderr, /Usage: netstreams /, shown);
}

describe("netstreams option values", () => {
  it("tcp-echo refuses numbers that are not plain decimal with exit code 2", async () => {
    await Promise.all([
      usageError(
        ["tcp-echo", "--hostname", "127.0.0.1", "--port", " 0x10"],
        /^Option --port must be an integer 0-65535: got " 0x10"$/,
      ),
      usageError(
        ["tcp-echo", ...LOCAL, "--idle-timeout", ""],
        /^Option --idle-timeout must be a number of seconds .*: got ""$/,
      ),
      usageError(
        ["tcp-echo", ...LOCAL, "--idle-timeout", "1e3"],
        /^Option --idle-timeout must be a number of seconds/,
      ),
      usageError(
        ["tcp-echo", ...LOCAL, "--max-connections", "+5"],
        /^Option --max-connections must be an integer 1-100000: got "\+5"$/,
      ),
      usageError(
        [
          "tcp-echo",
          ...LOCAL,
          "--tls-cert",
          "a.pem",
          "--tls-key",
          "a.key",
          "--handshake-timeout",
          " 5",
        ],
        /^Option --handshake-timeout must be a number of seconds/,
      ),
      usageError(
        ["ws-echo", "--hostname", "127.0.0.1", "--port", "1.0"],
        /^Option --port must be an integer 0-65535: got "1.0"$/,
      ),
    ]);
  });

  it("tcp-echo refuses a bad --allow or --block entry with exit code 2, naming it", async () => {
    await Promise.all([
      usageError(
        ["tcp-echo", ...LOCAL, "--allow", "localhost"],
        /^Option --allow: Cannot parse address list entry "localhost": .*host names are not resolved/,
      ),
      usageError(
        ["tcp-echo", ...LOCAL, "--block", "127.0.0.1,10.0.0.0/"],
        /^Option --block: Cannot parse address list entry "10.0.0.0\/": .*0-32/,
      ),
    ]);
  });

  it("proxy refuses a bad --allow-target entry with exit code 2", async () => {
    await usageError(
      ["proxy", ...LOCAL, "--target", "127.0.0.1:1", "--allow-target", "nope"],
      /^Option --allow-target: Cannot parse the target allowlist entry "nope"/,
    );
  });
});
