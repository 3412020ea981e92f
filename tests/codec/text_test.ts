import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeText, encodeText } from "../../src/codec/text.ts";

describe("decodeText", () => {
  it("decodeText decodes UTF-8 by default and keeps a byte order mark", () => {
    assert.equal(decodeText(new Uint8Array([0xef, 0xbb, 0xbf, 0x68, 0xc3, 0xa9])), "\ufeffhé");
    assert.equal(decodeText(new Uint8Array([0x61, 0xff])), "a\ufffd");
  });

  it("decodeText decodes with any TextDecoder label", () => {
    assert.equal(decodeText(new Uint8Array([0x68, 0xe9]), "latin1"), "hé");
    assert.equal(decodeText(new Uint8Array([0x68, 0x00]), "utf-16le"), "h");
  });

  it("decodeText rejects an unknown encoding with a RangeError", () => {
    assert.throws(() => decodeText(new Uint8Array(1), "klingon"), {
      name: "RangeError",
      message:
        'Cannot decode text as encoding must be a TextDecoder label such as "utf-8": current value is "klingon"',
    });
  });
});

describe("encodeText", () => {
  it("encodeText encodes UTF-8 by default", () => {
    assert.deepEqual(encodeText("hé"), new Uint8Array([0x68, 0xc3, 0xa9]));
    assert.deepEqual(encodeText("x", "UTF8"), new Uint8Array([0x78]));
  });

  it("encodeText encodes windows-1252 under its latin1 labels", () => {
    assert.deepEqual(
      encodeText("hé€™\u0081", "latin1"),
      new Uint8Array([0x68, 0xe9, 0x80, 0x99, 0x81]),
    );
    assert.deepEqual(
      encodeText("ascii ✓", "ascii"),
      new Uint8Array([...encodeText("ascii "), 0x3f]),
    );
  });

  it("encodeText round-trips every windows-1252 byte through decodeText", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    assert.deepEqual(encodeText(decodeText(all, "windows-1252"), "windows-1252"), all);
  });

  it("encodeText encodes UTF-16LE", () => {
    assert.deepEqual(encodeText("h€", "utf-16le"), new Uint8Array([0x68, 0, 0xac, 0x20]));
    fc.assert(fc.property(fc.string({ unit: "binary" }), (s) => {
      assert.equal(decodeText(encodeText(s, "utf-16le"), "utf-16le"), s);
    }));
  });

  it("encodeText round-trips any string through UTF-8", () => {
    fc.assert(fc.property(fc.string({ unit: "grapheme" }), (s) => {
      assert.equal(decodeText(encodeText(s)), s);
    }));
  });

  it("encodeText rejects an encoding it cannot write with a RangeError", () => {
    assert.throws(() => encodeText("x", "shift_jis"), {
      name: "RangeError",
      message:
        'Cannot encode text as encoding must be "utf-8", "utf-16le" or "windows-1252" (latin1): current value is "shift_jis"',
    });
    assert.throws(() => encodeText("x", "nope"), RangeError);
  });
});
