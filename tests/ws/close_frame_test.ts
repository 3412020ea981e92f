import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { encodeClosePayload, parseClosePayload } from "../../src/ws/close_frame.ts";
import { CloseCode, isValidCloseCode } from "../../src/ws/close_codes.ts";
import { WsProtocolError } from "../../src/ws/errors.ts";

const payload = (code: number, ...rest: number[]) =>
  new Uint8Array([code >> 8, code & 255, ...rest]);

describe("close frames", () => {
  it("isValidCloseCode accepts 1000-1003, 1007-1014 and 3000-4999 only", () => {
    const valid: number[] = [];
    for (let c = 0; c < 6000; c++) if (isValidCloseCode(c)) valid.push(c);
    assert.equal(valid.length, 4 + 8 + 2000);
    assert.deepEqual(valid.slice(0, 12), [
      1000,
      1001,
      1002,
      1003,
      1007,
      1008,
      1009,
      1010,
      1011,
      1012,
      1013,
      1014,
    ]);
    assert.deepEqual([valid[12], valid.at(-1)], [3000, 4999]);
    assert.equal(isValidCloseCode(1000.5), false);
    assert.equal(CloseCode.MessageTooBig, 1009);
  });

  it("parseClosePayload reads code 1005 from an empty payload and the reason as UTF-8", () => {
    assert.deepEqual(parseClosePayload(new Uint8Array(0)), { code: 1005, reason: "" });
    assert.deepEqual(parseClosePayload(payload(4000, 0xce, 0xba)), { code: 4000, reason: "κ" });
  });

  it("parseClosePayload rejects 1005, 1006, 999, 5000 and a 1-byte payload with 1002", () => {
    for (const code of [1005, 1006, 999, 5000, 0, 1004, 1015, 2999]) {
      const err = parseClosePayload(payload(code));
      assert.ok(err instanceof WsProtocolError);
      assert.deepEqual([err.code, err.closeCode], ["WS_INVALID_CLOSE_CODE", 1002]);
    }
    const one = parseClosePayload(new Uint8Array([3]));
    assert.ok(one instanceof WsProtocolError);
    assert.deepEqual([one.code, one.closeCode], ["WS_INVALID_CLOSE_PAYLOAD", 1002]);
  });

  it("parseClosePayload rejects a reason that is not UTF-8 with 1007", () => {
    const err = parseClosePayload(payload(1000, 0xed, 0xa0, 0x80));
    assert.ok(err instanceof WsProtocolError);
    assert.deepEqual([err.code, err.closeCode], ["WS_INVALID_CLOSE_REASON", 1007]);
  });

  it("encodeClosePayload round-trips and refuses codes and reasons that may not be sent", () => {
    assert.deepEqual(parseClosePayload(encodeClosePayload(1000, "é".repeat(61) + "x")), {
      code: 1000,
      reason: "é".repeat(61) + "x",
    });
    assert.equal(encodeClosePayload().length, 0);
    assert.throws(() => encodeClosePayload(1000, "x".repeat(124)), {
      name: "RangeError",
      message:
        "Cannot encode a close payload as reason must be at most 123 UTF-8 bytes: current length is 124",
    });
    for (const code of [1005, 1006, 1015, 999, 5000]) {
      assert.throws(() => encodeClosePayload(code), RangeError);
    }
    assert.throws(() => encodeClosePayload(undefined, "why"), TypeError);
  });
});
