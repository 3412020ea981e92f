import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MessageCore } from "../../src/ws/message_core.ts";
import { engine } from "../../src/_engine.ts";
import { isValidUtf8 } from "../../src/ws/utf8_validator.ts";
import { arbCuts, withPieceCopy } from "../codec/_chunkings.ts";
import { cat, frame, fresh, latin1, type RefFrame, split } from "./_frames.ts";
import { checkMessageError, checkMessages, type Event, runMessages } from "./_messages.ts";

const enc = (s: string) => latin1(new TextEncoder().encode(s));

describe("MessageCore", () => {
  it("MessageCore delivers text and binary messages for every chunking", () => {
    checkMessages(
      cat(frame({ opcode: 1, payload: enc("héllo") }), frame({ opcode: 2, payload: "\x00\xff" })),
      [
        ["text", enc("héllo"), true],
        ["binary", "\x00\xff", true],
      ],
    );
  });

  it("MessageCore reassembles fragments with control frames in between", () => {
    const input = cat(
      frame({ opcode: 1, payload: "ab", fin: false }),
      frame({ opcode: 9, payload: "p1" }),
      frame({ opcode: 0, payload: "", fin: false }),
      frame({ opcode: 10, payload: "p2" }),
      frame({ opcode: 0, payload: "cd" }),
      frame({ opcode: 2, payload: "", fin: false }),
      frame({ opcode: 0, payload: "" }),
    );
    checkMessages(input, [["ping", "p1"], ["pong", "p2"], ["text", "abcd", true], [
      "binary",
      "",
      true,
    ]]);
  });

  it("MessageCore delivers parts with eom on the last when not buffering", () => {
    const input = cat(
      frame({ opcode: 2, payload: "abcdef", fin: false }),
      frame({ opcode: 0, payload: "gh", fin: false }),
      frame({ opcode: 0, payload: "" }),
    );
    const run = runMessages(
      new MessageCore({ bufferMessage: false }),
      fresh(split(input, [8, 12])),
      false,
    );
    assert.deepEqual(run.events, [
      ["binary", "ab", false],
      ["binary", "cdef", false],
      ["binary", "gh", false],
      ["binary", "", true],
    ]);
  });

  it("MessageCore delivers a one-frame message inside a chunk as a view of it", () =>
    withPieceCopy(false, () => {
      const chunk = frame({ opcode: 2, payload: "abc" });
      let seen: Uint8Array | undefined;
      new MessageCore().push(chunk, {
        message: (p) => void (seen = p),
        ping() {},
        pong() {},
        close() {},
      });
      assert.equal(seen?.buffer, chunk.buffer);
    }));

  it("MessageCore rejects a continuation frame with no message open with 1002", () => {
    checkMessageError(frame({ opcode: 0, payload: "x" }), 6, "WS_UNEXPECTED_CONTINUATION", 1002);
    const after = cat(frame({ opcode: 1, payload: "a" }), frame({ opcode: 0 }));
    checkMessageError(after, 12, "WS_UNEXPECTED_CONTINUATION", 1002, [["text", "a", true]]);
  });

  it("MessageCore rejects a new data frame while a message is open with 1002", () => {
    const input = cat(
      frame({ opcode: 1, payload: "a", fin: false }),
      frame({ opcode: 2, payload: "b" }),
    );
    checkMessageError(input, 13, "WS_EXPECTED_CONTINUATION", 1002);
  });

  it("MessageCore refuses a message over maxPayload before buffering its frame", () => {
    const options = { maxPayload: 10 };
    checkMessages(
      frame({ opcode: 2, payload: "x".repeat(10) }),
      [["binary", "x".repeat(10), true]],
      options,
    );
    checkMessageError(
      frame({ opcode: 2, payload: "x".repeat(11) }),
      1,
      "WS_FRAME_TOO_BIG",
      1009,
      [],
      options,
    );
    const input = cat(
      frame({ opcode: 2, payload: "x".repeat(6), fin: false }),
      frame({ opcode: 9, payload: "p" }),
      frame({ opcode: 0, claimLength: 5n }),
    );
    // Refused at the first payload byte of the frame that overflows: none follows here.
    const run = runMessages(new MessageCore(options), [input, new Uint8Array([1])]);
    assert.deepEqual(run.error, { code: "WS_MESSAGE_TOO_BIG", closeCode: 1009, chunk: 1 });
    assert.deepEqual(run.events, [["ping", "p"]]);
  });

  it("MessageCore refuses 100,000 one-byte fragments at maxFragments with 1009", () => {
    const parts = [frame({ opcode: 2, payload: "x", fin: false })];
    const one = frame({ opcode: 0, payload: "x", fin: false });
    for (let i = 1; i < 100_000; i++) parts.push(one);
    const input = cat(...parts);
    const core = new MessageCore();
    assert.equal(core.maxFragments, 65_536);
    const run = runMessages(core, [input]);
    assert.deepEqual(run, {
      events: [],
      error: { code: "WS_TOO_MANY_FRAGMENTS", closeCode: 1009, chunk: 0 },
    });
    // Streamed, it stops right after fragment 65,536.
    let parts65536 = 0;
    const streamed = new MessageCore({ bufferMessage: false });
    const err = streamed.push(cat(...parts), {
      message: () => void parts65536++,
      ping() {},
      pong() {},
      close() {},
    });
    assert.equal(err?.code, "WS_TOO_MANY_FRAGMENTS");
    assert.equal(parts65536, 65_536);
    const small = cat(
      frame({ opcode: 1, fin: false }),
      frame({ opcode: 0, fin: false }),
      frame({ opcode: 0 }),
    );
    checkMessageError(small, 17, "WS_TOO_MANY_FRAGMENTS", 1009, [], { maxFragments: 2 });
    checkMessages(small, [["text", "", true]], { maxFragments: 3 });
  });

  it("MessageCore checks whole text messages with the engine's native check, parts with its own, same verdicts", () => {
    const before = { isUtf8: engine.isUtf8, from: engine.nativeUtf8From };
    let calls = 0;
    engine.isUtf8 = (b) => {
      calls++;
      return isValidUtf8(b);
    };
    engine.nativeUtf8From = 0;
    try {
      // Whole messages: the native check decides (bad surrogate, overlong, truncated; good).
      for (const bad of ["\xed\xa0\x80", "ok\xc0\xaf", "a\xe2\x82"]) {
        calls = 0;
        const input = frame({ opcode: 1, payload: bad });
        const run = runMessages(new MessageCore(), [input], true);
        assert.equal(run.error?.code, "WS_INVALID_UTF8", JSON.stringify(bad));
        assert.equal(calls, 1);
      }
      calls = 0;
      checkMessages(frame({ opcode: 1, payload: enc("κόσμε") }), [["text", enc("κόσμε"), true]]);
      assert.ok(calls > 0, "used for whole messages");
      // Fragments are checked as they come (fail fast).
      calls = 0;
      const input = cat(
        frame({ opcode: 1, payload: "a\xce", fin: false }),
        frame({ opcode: 0, payload: "\xff" + "b".repeat(20), fin: false }),
        frame({ opcode: 0, payload: "c" }),
      );
      checkMessageError(input, 14, "WS_INVALID_UTF8", 1007);
      assert.equal(calls, 0, "never for fragments");
      // A frame arriving in pieces fails at its bad byte (whole, it is checked natively).
      checkMessageError(
        frame({ opcode: 1, payload: "ok\xc0\xaf" + "z".repeat(30) }),
        8,
        "WS_INVALID_UTF8",
        1007,
      );
    } finally {
      engine.isUtf8 = before.isUtf8;
      engine.nativeUtf8From = before.from;
    }
  });

  it("MessageCore fails fast on invalid UTF-8 split across fragments with 1007", () => {
    // "κ" is ce ba: its first byte ends fragment 1, fragment 2 starts with ff.
    const input = cat(
      frame({ opcode: 1, payload: "a\xce", fin: false }),
      frame({ opcode: 0, payload: "\xff" + "b".repeat(20), fin: false }),
      frame({ opcode: 0, payload: "c" }),
    );
    checkMessageError(input, 14, "WS_INVALID_UTF8", 1007);
    // Inside one frame, before the rest of it arrives.
    const long = frame({ opcode: 1, payload: "ok\xc0\xaf" + "z".repeat(30) });
    checkMessageError(long, 8, "WS_INVALID_UTF8", 1007);
    // A sequence cut by the end of the message fails at the last byte.
    checkMessageError(frame({ opcode: 1, payload: "a\xe2\x82" }), 8, "WS_INVALID_UTF8", 1007);
    // Binary messages are not validated; valid text across fragments passes.
    checkMessages(frame({ opcode: 2, payload: "\xff" }), [["binary", "\xff", true]]);
    checkMessages(
      cat(frame({ opcode: 1, payload: "\xce", fin: false }), frame({ opcode: 0, payload: "\xba" })),
      [[
        "text",
        "\xce\xba",
        true,
      ]],
    );
  });

  it("MessageCore validates close frames: 1005, 1006, 999, 5000 and a 1-byte payload", () => {
    const close = (payload: string): Uint8Array => frame({ opcode: 8, payload });
    const code = (c: number, reason = "") => String.fromCharCode(c >> 8, c & 255) + reason;
    checkMessages(close(""), [["close", 1005, ""]]);
    for (
      const c of [
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
        3000,
        4999,
      ]
    ) {
      checkMessages(close(code(c, "ok")), [["close", c, "ok"]]);
    }
    for (const c of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
      checkMessageError(close(code(c)), 7, "WS_INVALID_CLOSE_CODE", 1002);
    }
    checkMessageError(close("\x03"), 6, "WS_INVALID_CLOSE_PAYLOAD", 1002);
    checkMessageError(close(code(1000, "\xce")), 8, "WS_INVALID_CLOSE_REASON", 1007);
    const reason = enc("é".repeat(61) + "x"); // 123 bytes
    checkMessages(close(code(1000, reason)), [["close", 1000, "é".repeat(61) + "x"]]);
  });

  it("MessageCore decodes nothing after a close frame", () => {
    const input = cat(
      frame({ opcode: 8, payload: "\x03\xe8" }),
      frame({ opcode: 1, payload: "late" }),
      new Uint8Array([0xff]),
    );
    checkMessages(input, [["close", 1000, ""]]);
    const core = new MessageCore();
    runMessages(core, [input]);
    assert.equal(core.closed, true);
    assert.equal(core.flush(), undefined);
  });

  it("MessageCore reports the end of input inside a message or a frame with 1006", () => {
    const open = frame({ opcode: 1, payload: "a", fin: false });
    const run = runMessages(new MessageCore(), [open]);
    assert.deepEqual(run.error, { code: "WS_UNFINISHED_MESSAGE", closeCode: 1006, chunk: 1 });
    const cut = runMessages(new MessageCore(), [
      frame({ opcode: 2, payload: "abc" }).subarray(0, 7),
    ]);
    assert.deepEqual(cut.error, { code: "WS_TRUNCATED_FRAME", closeCode: 1006, chunk: 1 });
  });

  it("MessageCore passes frame errors through, such as an unmasked frame", () => {
    checkMessageError(frame({ opcode: 1, payload: "a", mask: null }), 1, "WS_UNMASKED_FRAME", 1002);
    checkMessages(frame({ opcode: 1, payload: "a", mask: null }), [["text", "a", true]], {
      requireMask: false,
    });
  });

  it("MessageCore gives the same messages for any fragmentation and any chunking", () => {
    const message = fc.record({
      opcode: fc.constantFrom(1, 2),
      text: fc.string({ maxLength: 200, size: "max" }),
      cuts: fc.array(fc.nat(200), { maxLength: 4 }),
      ping: fc.option(fc.nat(125)),
    });
    fc.assert(
      fc.property(
        fc.array(message, { maxLength: 6 }).chain((ms) => {
          const frames: RefFrame[] = [];
          const events: Event[] = [];
          for (const m of ms) {
            const payload = enc(m.text);
            const cuts = [...new Set(m.cuts.filter((c) => c < payload.length))].sort((a, b) =>
              a - b
            );
            const pieces = [0, ...cuts, payload.length];
            for (let i = 0; i + 1 < pieces.length; i++) {
              frames.push({
                opcode: i === 0 ? m.opcode : 0,
                payload: payload.slice(pieces[i], pieces[i + 1]),
                fin: i + 2 === pieces.length,
              });
              if (i === 0 && m.ping !== null) {
                frames.push({ opcode: 9, payload: "p".repeat(m.ping) });
              }
            }
            // The ping follows the first frame: before the message unless that frame ends it.
            const msg: Event = [m.opcode === 1 ? "text" : "binary", payload, true];
            const ping: Event[] = m.ping === null ? [] : [["ping", "p".repeat(m.ping)]];
            events.push(...(pieces.length === 2 ? [msg, ...ping] : [...ping, msg]));
          }
          const input = cat(...frames.map(frame));
          return fc.tuple(fc.constant(input), fc.constant(events), arbCuts(input.length));
        }),
        fc.boolean(),
        ([input, events, cuts], bufferMessage) => {
          const run = runMessages(new MessageCore({ bufferMessage }), split(input, cuts));
          assert.deepEqual(run, { events });
        },
      ),
      { numRuns: 300 },
    );
  });

  it("MessageCore rejects invalid options with TypeError or RangeError", () => {
    assert.throws(() => new MessageCore({ maxFragments: 0 }), {
      name: "RangeError",
      message:
        "Cannot create MessageCore as maxFragments must be an integer >= 1: current value is 0",
    });
    assert.throws(() => new MessageCore({ maxPayload: -1 }), RangeError);
    assert.throws(() => new MessageCore({ bufferMessage: "no" as never }), TypeError);
    assert.equal(new MessageCore().maxPayload, 64 * 1024 * 1024);
  });
});
