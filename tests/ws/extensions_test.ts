import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { type ExtensionOffer, formatExtensions, parseExtensions } from "../../src/ws/extensions.ts";

describe("extensions", () => {
  it("parseExtensions reads offers, params, quoted values and empty list elements", () => {
    assert.deepEqual(parseExtensions(""), []);
    assert.deepEqual(parseExtensions(' , foo ,, bar;a;b=1 ; c = "x\\yz" ,'), [
      { name: "foo", params: [] },
      { name: "bar", params: [["a", true], ["b", "1"], ["c", "xyz"]] },
    ]);
    assert.deepEqual(
      parseExtensions("permessage-deflate; client_max_window_bits=15; client_max_window_bits"),
      [{
        name: "permessage-deflate",
        params: [["client_max_window_bits", "15"], ["client_max_window_bits", true]],
      }],
    );
  });

  it("parseExtensions refuses what RFC 6455 §9.1 does not allow", () => {
    for (
      const bad of [
        ";",
        "a;",
        "a b",
        "a;=1",
        "a;b=",
        'a;b="c d"',
        'a;b="open',
        'a;b=""',
        "a,,;b",
        "a;b=1 2",
        "@",
      ]
    ) {
      assert.equal(parseExtensions(bad), undefined, bad);
    }
  });

  it("formatExtensions round-trips through parseExtensions and refuses non-tokens", () => {
    const token = fc.stringMatching(/^[a-z0-9_-]{1,8}$/);
    const offer = fc.record({
      name: token,
      params: fc.array(fc.tuple(token, fc.oneof(token, fc.constant(true as const))), {
        maxLength: 3,
      }),
    });
    fc.assert(
      fc.property(
        fc.array(offer.map((o) => ({ ...o })), { maxLength: 4 }),
        (offers: ExtensionOffer[]) => {
          assert.deepEqual(parseExtensions(formatExtensions(offers)), offers);
        },
      ),
    );
    assert.throws(() => formatExtensions([{ name: "a b", params: [] }]), TypeError);
    assert.throws(() => formatExtensions([{ name: "a", params: [["b", "c\r\n"]] }]), TypeError);
  });
});
