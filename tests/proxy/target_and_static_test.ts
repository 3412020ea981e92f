/**
 * Pure parts of the proxy: target parsing, the target allowlist, static
 * path resolution, and the static file handler on a temporary directory.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  contentTypeOf,
  formatTarget,
  parseTarget,
  resolveStaticPath,
  serveStatic,
  TargetAllowlist,
  WebSocketProxy,
} from "../../src/proxy/mod.ts";

describe("parseTarget", () => {
  it("parseTarget reads host:port, bracketed IPv6 and objects, and formats them back", () => {
    assert.deepEqual(parseTarget(" db.local:5432 "), { hostname: "db.local", port: 5432 });
    assert.deepEqual(parseTarget("[fe80::1]:22"), { hostname: "fe80::1", port: 22 });
    assert.deepEqual(parseTarget({ hostname: "[::1]", port: 1, tls: true }), {
      hostname: "::1",
      port: 1,
      tls: true,
    });
    assert.equal(formatTarget({ hostname: "::1", port: 80 }), "[::1]:80");
  });

  it("parseTarget throws TypeError or RangeError naming the value", () => {
    for (const bad of ["nohost", ":80", "::1:80", "host:"]) {
      assert.throws(
        () => parseTarget(bad),
        (e: unknown) => e instanceof TypeError || e instanceof RangeError,
        bad,
      );
    }
    assert.throws(() => parseTarget("h:0"), /1-65535: current value is "h:0"/);
    assert.throws(() => parseTarget("h:65536"), RangeError);
    assert.throws(() => parseTarget({ hostname: "", port: 1 }), TypeError);
    assert.throws(() => new WebSocketProxy({ target: "x:99999" }), RangeError);
    assert.throws(() => new WebSocketProxy({ proxyProtocol: 3 as 1 }), RangeError);
    assert.throws(() => new WebSocketProxy({ connectTimeout: 0 }), RangeError);
  });
});

describe("TargetAllowlist", () => {
  it("TargetAllowlist matches names, addresses, wildcards, CIDR blocks and port ranges", () => {
    const list = new TargetAllowlist([
      "vnc.local:5900-5909",
      "10.0.*:22",
      "192.168.0.0/16:*",
      "[::1]:8080",
      "*:7",
    ]);
    assert.equal(list.allows({ hostname: "VNC.local", port: 5905 }), true);
    assert.equal(list.allows({ hostname: "vnc.local", port: 5910 }), false);
    assert.equal(list.allows({ hostname: "10.0.3.4", port: 22 }), true);
    assert.equal(list.allows({ hostname: "10.1.3.4", port: 22 }), false);
    assert.equal(list.allows({ hostname: "192.168.200.1", port: 65000 }), true);
    assert.equal(list.allows({ hostname: "::1", port: 8080 }), true);
    assert.equal(list.allows({ hostname: "anything", port: 7 }), true);
    assert.equal(list.allows({ hostname: "vnc.local.evil", port: 5900 }), false);
    assert.equal(new TargetAllowlist("").empty, true);
    assert.equal(list.toString(), "vnc.local:5900-5909,10.0.*:22,192.168.0.0/16:*,[::1]:8080,*:7");
  });

  it("TargetAllowlist takes names made of hex letters and digits as names, not addresses", () => {
    const list = new TargetAllowlist(["cafe.de:443", "bad.cafe:22", "[0:0:0:0:0:0:0:1]:22"]);
    assert.equal(list.allows({ hostname: "CAFE.de", port: 443 }), true);
    assert.equal(list.allows({ hostname: "bad.cafe", port: 22 }), true);
    assert.equal(list.allows({ hostname: "cafe.dee", port: 443 }), false);
    assert.equal(list.allows({ hostname: "::1", port: 22 }), true);
  });

  it("TargetAllowlist throws TypeError for malformed entries", () => {
    for (const bad of ["host", "host:x", "host:0", "host:9-1", "::1:22", "ba d:1", "a/b:1"]) {
      assert.throws(() => new TargetAllowlist(bad), TypeError, bad);
    }
  });
});

describe("static files", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "netstreams-static-"));
    writeFileSync(join(dir, "index.html"), "home");
    mkdirSync(join(dir, "sub dir"));
    writeFileSync(join(dir, "sub dir", "a b.css"), "body{}");
    writeFileSync(join(dir, "big.bin"), new Uint8Array(4096));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("resolveStaticPath keeps paths under the root and refuses encoded separators and dot segments", () => {
    assert.equal(resolveStaticPath("/r", "/a/b.js"), "/r/a/b.js");
    assert.equal(resolveStaticPath("/r/", "/a//b/"), "/r/a/b/index.html");
    assert.equal(resolveStaticPath("/r", "/sub%20dir/a%20b.css"), "/r/sub dir/a b.css");
    for (
      const bad of ["/..", "/a/../b", "/%2e%2e/x", "/a%2fb", "/a%5cb", "/%00", "/%zz", "relative"]
    ) {
      assert.equal(resolveStaticPath("/r", bad), undefined, bad);
    }
  });

  it("contentTypeOf maps extensions, case-insensitively, with overrides and a binary default", () => {
    assert.equal(contentTypeOf("/x/INDEX.HTML"), "text/html; charset=utf-8");
    assert.equal(contentTypeOf("/x/app.mjs"), "text/javascript; charset=utf-8");
    assert.equal(contentTypeOf("/x.d/noext"), "application/octet-stream");
    assert.equal(contentTypeOf("/x/a.vnc", { vnc: "text/plain" }), "text/plain");
  });

  it("serveStatic answers GET and HEAD, 404, 405, and 500 above maxFileSize", async () => {
    const handler = serveStatic(dir, { maxFileSize: 1024 });
    const ok = await handler(new Request("http://h/"));
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), "home");
    const css = await handler(new Request("http://h/sub%20dir/a%20b.css"));
    assert.equal(css.headers.get("content-type"), "text/css; charset=utf-8");
    assert.equal(await css.text(), "body{}");
    assert.equal((await handler(new Request("http://h/sub%20dir"))).status, 404); // no index.html there
    assert.equal((await handler(new Request("http://h/nope"))).status, 404);
    const post = await handler(new Request("http://h/", { method: "POST", body: "x" }));
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    assert.equal((await handler(new Request("http://h/big.bin"))).status, 500);
    assert.throws(() => serveStatic(""), TypeError);
  });
});
