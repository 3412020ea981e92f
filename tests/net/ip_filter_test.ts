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
  it("IpFilter compares exact entries as addresses, whatever the IPv6 spelling", () => {
    const f = new IpFilter("0:0:0:0:0:0:0:1, 2001:0db8::1, [FE80::A]");
    for (
      const a of ["::1", "[::1]", "0::0:1", "2001:db8::1", "2001:DB8:0:0:0:0:0:1", "fe80::a%eth0"]
    ) {
      assert.equal(f.matches(a), true, a);
    }
    assert.equal(f.matches("::2"), false);
    assert.equal(f.matches("2001:db8::10"), false);
    assert.equal(new IpFilter("::1").matches("0000:0000:0000:0000:0000:0000:0000:0001"), true);
  });
  it("IpFilter matches IPv4 and IPv4-mapped IPv6 exact entries both ways", () => {
    assert.equal(new IpFilter("10.1.2.3").matches("::ffff:10.1.2.3"), true);
    assert.equal(new IpFilter("10.1.2.3").matches("::ffff:a01:203"), true);
    assert.equal(new IpFilter("::ffff:10.1.2.3").matches("10.1.2.3"), true);
    assert.equal(new IpFilter("0:0:0:0:0:ffff:a01:203").matches("10.1.2.3"), true);
    assert.equal(new IpFilter("::ffff:10.1.2.3").matches("10.1.2.4"), false);
  });
  it("IpFilter counts the prefix of an IPv4-mapped CIDR block on 128 bits", () => {
    const f = new IpFilter("::ffff:10.0.0.0/104");
    assert.equal(f.matches("10.200.0.1"), true);
    assert.equal(f.matches("::ffff:10.200.0.1"), true);
    assert.equal(f.matches("11.0.0.1"), false);
    assert.equal(new IpFilter("::ffff:0:0/96").matches("8.8.8.8"), true);
    assert.equal(new IpFilter("::ffff:192.168.1.7/128").matches("192.168.1.7"), true);
    assert.throws(() => new IpFilter("::ffff:10.0.0.0/8"), TypeError);
    assert.throws(() => new IpFilter("::ffff:10.0.0.0/129"), TypeError);
  });
  it("IpFilter keeps wildcards on the textual form", () => {
    const f = new IpFilter("192.168.*, fe80::*");
    assert.equal(f.matches("192.168.0.9"), true);
    assert.equal(f.matches("::ffff:192.168.0.9"), true);
    assert.equal(f.matches("FE80::1"), true);
    assert.equal(f.matches("fe81::1"), false);
    assert.throws(() => new IpFilter("192.168.*/16"), TypeError);
    assert.throws(() => new IpFilter("host-*"), TypeError);
    assert.throws(() => new IpFilter("10.0.* .1"), TypeError);
  });
  it("IpFilter refuses a CIDR prefix that is empty, not decimal or too long", () => {
    for (
      const entry of [
        "10.0.0.0/",
        "10.0.0.0/x",
        "10.0.0.0/33",
        "10.0.0.0/-1",
        "10.0.0.0/ 8",
        "10.0.0.0/0x8",
        "10.0.0.0/1e1",
        "10.0.0.0/8.0",
        "::/",
        "::/129",
        "::/0008",
        "/8",
      ]
    ) {
      assert.throws(
        () => new IpFilter(entry),
        (e: unknown) => e instanceof TypeError && e.message.includes(`"${entry}"`),
        entry,
      );
    }
    assert.throws(() => new IpFilter("10.0.0.0/"), /prefix length after the \/ must be 0-32/);
    assert.throws(() => new IpFilter("::/129"), /must be 0-128/);
    assert.equal(new IpFilter("10.0.0.0/0").matches("8.8.8.8"), true);
    assert.equal(new IpFilter("::/128").matches("::"), true);
  });
  it("IpFilter refuses host names and malformed addresses, naming the entry", () => {
    for (
      const entry of [
        "localhost",
        "1.2.3",
        "1.2.3.4.5",
        "256.0.0.1",
        "example.com",
        "1::2::3",
        "::g",
      ]
    ) {
      assert.throws(
        () => new IpFilter(entry),
        (e: unknown) => e instanceof TypeError && e.message.includes(`"${entry}"`),
        entry,
      );
    }
    assert.throws(() => new IpFilter("127.0.0.1, localhost"), /host names are not resolved/);
    assert.equal(new IpFilter(" * ").matches("203.0.113.5"), true);
  });
  it("parseIp and normalize handle compressed IPv6 and brackets", () => {
    assert.deepEqual([...parseIp("::1")!], [...new Array(15).fill(0), 1]);
    assert.equal(parseIp("1::2::3"), undefined);
    assert.equal(parseIp("1.2.3"), undefined);
    assert.deepEqual([...parseIp("::ffff:1.2.3.4")!].slice(10), [255, 255, 1, 2, 3, 4]);
    assert.equal(normalize("[::1]"), "::1");
  });
});
