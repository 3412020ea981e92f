/**
 * permessage-deflate negotiation (RFC 7692 §7.1): which offer is accepted,
 * which are declined, and what the server answers, for many header values.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { formatExtensions, parseExtensions } from "../../src/ws/extensions.ts";
import {
  negotiatePerMessageDeflate,
  type PerMessageDeflateOptions,
  resolveDeflateOptions,
} from "../../src/ws/permessage_deflate.ts";

/** Negotiates a header value; returns the response value or undefined, and the params. */
function answer(header: string, policy: PerMessageDeflateOptions = {}) {
  const offers = parseExtensions(header);
  assert.ok(offers, `parses: ${header}`);
  const agreed = negotiatePerMessageDeflate(offers, resolveDeflateOptions(policy));
  return agreed === undefined
    ? undefined
    : { value: formatExtensions([agreed.response]), params: agreed.params };
}

const WIDE = { serverMaxWindowBits: 15, clientMaxWindowBits: 15 };

describe("negotiatePerMessageDeflate", () => {
  it("negotiatePerMessageDeflate accepts a bare offer with the server's limits (defaults: 12 bits)", () => {
    const a = answer("permessage-deflate")!;
    assert.equal(a.value, "permessage-deflate; server_max_window_bits=12");
    assert.deepEqual(a.params, {
      serverNoContextTakeover: false,
      clientNoContextTakeover: false,
      serverWindowBits: 12,
      clientWindowBits: 15, // the client may use 15 bits: it did not offer client_max_window_bits
    });
  });

  it("negotiatePerMessageDeflate answers a bare offer with no parameters under 15-bit windows", () => {
    assert.equal(answer("permessage-deflate", WIDE)!.value, "permessage-deflate");
  });

  it("negotiatePerMessageDeflate answers Chromium's and Firefox's offer (client_max_window_bits without a value)", () => {
    const a = answer("permessage-deflate; client_max_window_bits")!;
    assert.equal(
      a.value,
      "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",
    );
    assert.equal(a.params.clientWindowBits, 12);
    assert.equal(
      answer("permessage-deflate; client_max_window_bits", WIDE)!.value,
      "permessage-deflate",
    );
  });

  it("negotiatePerMessageDeflate never sends client_max_window_bits when the client did not offer it (§7.1.2.2)", () => {
    const a = answer("permessage-deflate", { clientMaxWindowBits: 9 })!;
    assert.ok(!a.value.includes("client_max_window_bits"), a.value);
    assert.equal(a.params.clientWindowBits, 15);
  });

  it("negotiatePerMessageDeflate keeps a client's window limit below the policy and inflates with it", () => {
    const a = answer("permessage-deflate; client_max_window_bits=10", WIDE)!;
    assert.equal(a.value, "permessage-deflate");
    assert.equal(a.params.clientWindowBits, 10);
    const b = answer("permessage-deflate; client_max_window_bits=14", { clientMaxWindowBits: 11 })!;
    assert.ok(b.value.endsWith("client_max_window_bits=11"), b.value);
    assert.equal(b.params.clientWindowBits, 11);
  });

  it("negotiatePerMessageDeflate inflates an 8-bit client window with 9 bits (a larger window reads it)", () => {
    assert.equal(
      answer("permessage-deflate; client_max_window_bits=8")!.params.clientWindowBits,
      9,
    );
  });

  it("negotiatePerMessageDeflate honours server_max_window_bits and echoes it (§7.1.2.1)", () => {
    for (const bits of [9, 10, 12, 15]) {
      const a = answer(`permessage-deflate; server_max_window_bits=${bits}`, WIDE)!;
      assert.equal(a.value, `permessage-deflate; server_max_window_bits=${bits}`);
      assert.equal(a.params.serverWindowBits, bits);
    }
    // The server's own limit wins when smaller.
    assert.equal(
      answer("permessage-deflate; server_max_window_bits=14")!.params.serverWindowBits,
      12,
    );
  });

  it("negotiatePerMessageDeflate declines server_max_window_bits=8 (zlib raw deflate has no 256-byte window) and takes the next offer", () => {
    assert.equal(answer("permessage-deflate; server_max_window_bits=8"), undefined);
    const a = answer(
      "permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=9",
    )!;
    assert.equal(a.params.serverWindowBits, 9);
  });

  it("negotiatePerMessageDeflate answers and honours server_no_context_takeover", () => {
    const a = answer("permessage-deflate; server_no_context_takeover", WIDE)!;
    assert.equal(a.value, "permessage-deflate; server_no_context_takeover");
    assert.equal(a.params.serverNoContextTakeover, true);
  });

  it("negotiatePerMessageDeflate echoes client_no_context_takeover and can ask for it unasked (§7.1.1.2)", () => {
    const a = answer("permessage-deflate; client_no_context_takeover", WIDE)!;
    assert.equal(a.value, "permessage-deflate; client_no_context_takeover");
    assert.equal(a.params.clientNoContextTakeover, true);
    const b = answer("permessage-deflate", {
      ...WIDE,
      clientNoContextTakeover: true,
      serverNoContextTakeover: true,
    })!;
    assert.equal(
      b.value,
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
    );
  });

  it("negotiatePerMessageDeflate accepts every parameter at once, quoted values too", () => {
    const a = answer(
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits="10"; client_max_window_bits=9',
      WIDE,
    )!;
    assert.equal(
      a.value,
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10",
    );
    assert.deepEqual(a.params, {
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverWindowBits: 10,
      clientWindowBits: 9,
    });
  });

  it("negotiatePerMessageDeflate declines malformed offers (§7.1): unknown, repeated or invalid parameters", () => {
    const bad = [
      "permessage-deflate; foo",
      "permessage-deflate; foo=1",
      "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
      "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
      "permessage-deflate; server_no_context_takeover=1",
      "permessage-deflate; client_no_context_takeover=true",
      "permessage-deflate; server_max_window_bits",
      "permessage-deflate; server_max_window_bits=7",
      "permessage-deflate; server_max_window_bits=16",
      "permessage-deflate; server_max_window_bits=010",
      "permessage-deflate; server_max_window_bits=1a",
      "permessage-deflate; client_max_window_bits=0",
      'permessage-deflate; client_max_window_bits="16"',
    ];
    for (const header of bad) assert.equal(answer(header), undefined, header);
  });

  it("negotiatePerMessageDeflate takes the first acceptable offer of several, in the client's order", () => {
    const a = answer(
      "permessage-deflate; foo, permessage-deflate; client_no_context_takeover, permessage-deflate",
      WIDE,
    )!;
    assert.equal(a.value, "permessage-deflate; client_no_context_takeover");
    const b = answer(
      "x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=11",
      WIDE,
    )!;
    assert.equal(b.value, "permessage-deflate; server_max_window_bits=11");
  });

  it("negotiatePerMessageDeflate ignores other extensions and returns undefined without an offer", () => {
    assert.equal(answer("x-webkit-deflate-frame"), undefined);
    assert.equal(answer(""), undefined);
    assert.equal(negotiatePerMessageDeflate([], resolveDeflateOptions({})), undefined);
  });

  it("negotiatePerMessageDeflate matches the token and parameter names case-insensitively", () => {
    assert.ok(answer("PerMessage-Deflate; Client_Max_Window_Bits"));
  });
});

describe("resolveDeflateOptions", () => {
  it("resolveDeflateOptions applies the documented defaults", () => {
    assert.deepEqual(resolveDeflateOptions({}), {
      serverMaxWindowBits: 12,
      clientMaxWindowBits: 12,
      serverNoContextTakeover: false,
      clientNoContextTakeover: false,
      threshold: undefined, // automatic: 128 with context takeover, 1024 without
      level: 1,
      memLevel: 5,
      maxContexts: 1000,
    });
  });

  it("resolveDeflateOptions refuses out-of-range values with a RangeError naming them", () => {
    assert.throws(
      () => resolveDeflateOptions({ serverMaxWindowBits: 8 }),
      /serverMaxWindowBits must be an integer 9-15: current value is 8/,
    );
    assert.throws(() => resolveDeflateOptions({ clientMaxWindowBits: 16 }), RangeError);
    assert.throws(() => resolveDeflateOptions({ level: 10 }), RangeError);
    assert.throws(() => resolveDeflateOptions({ memLevel: 0 }), RangeError);
    assert.throws(() => resolveDeflateOptions({ threshold: -1 }), RangeError);
    assert.throws(
      () => resolveDeflateOptions({ serverNoContextTakeover: "yes" as unknown as boolean }),
      TypeError,
    );
  });
});
