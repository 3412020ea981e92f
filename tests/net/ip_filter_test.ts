import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { IpFilter, normalize, parseIp } from "../../src/net/ip_filter.ts";

describe("IpFilter", () => {
  it("IpFilter matches exact IPv4 and IPv6 addresses", () => {
    const f = new IpFilter("127.0.0.1, ::1");
    assert.equal(f.matches("127.0.0.1"), true);
    assert.equal(f.matches("::1"), true);
    assert.equal(f.matches("127.0.0.2"), false);
  });
  it("IpFilter matches wildcards like 192.168.*", () => {
    const f = new IpFilter(["192.168.*", "10.*.*.1"]);
    assert.equal(f.matches("192.168.200.7"), true);
    assert.equal(f.matches("10.9.8.1"), true);
    assert.equal(f.matches("10.9.8.2"), false);
    assert.equal(f.matches("192.169.0.1"), false);
  });
  it("IpFilter matches IPv4 and IPv6 CIDR blocks", () => {
    const f = new IpFilter("10.0.0.0/8,172.16.0.0/12,2001:db8::/32,fe80::/10");
    assert.equal(f.matches("10.255.0.1"), true);
    assert.equal(f.matches("172.31.255.255"), true);
    assert.equal(f.matches("172.32.0.0"), false);
    assert.equal(f.matches("2001:db8:1234::5"), true);
    assert.equal(f.matches("2001:db9::1"), false);
    assert.equal(f.matches("fe80::1%eth0"), true);
  });
  it("IpFilter treats IPv4-mapped IPv6 clients as IPv4", () => {
    const f = new IpFilter("127.0.0.0/8");
    assert.equal(f.matches("::ffff:127.0.0.1"), true);
    assert.equal(new IpFilter("127.*").matches("::FFFF:127.1.2.3"), true);
  });
  it("IpFilter with * matches everything and an empty list nothing", () => {
    assert.equal(new IpFilter("*").matches("8.8.8.8"), true);
    assert.equal(new IpFilter("").matches("8.8.8.8"), false);
    assert.equal(new IpFilter("").empty, true);
  });
  it("IpFilter rejects malformed entries with a TypeError", () => {
    assert.throws(() => new IpFilter("10.0.0.0/33"), TypeError);
    assert.throws(() => new IpFilter("300.1.1.1/8"), TypeError);
    assert.throws(() => new IpFilter("evil.*.com"), TypeError);
  });
  it("parseIp and normalize handle compressed IPv6 and brackets", () => {
    assert.deepEqual([...parseIp("::1")!], [...new Array(15).fill(0), 1]);
    assert.equal(parseIp("1::2::3"), undefined);
    assert.equal(parseIp("1.2.3"), undefined);
    assert.deepEqual([...parseIp("::ffff:1.2.3.4")!].slice(10), [255, 255, 1, 2, 3, 4]);
    assert.equal(normalize("[::1]"), "::1");
  });
});
