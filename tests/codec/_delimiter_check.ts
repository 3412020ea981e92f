/** What the DelimiterCore tests share. */

import assert from "node:assert/strict";
import { DelimiterCore } from "../../src/codec/delimiter_core.ts";
import { bytes, forEveryChunking, type Out, runCore } from "./_chunkings.ts";
import { refDelimiter } from "./_reference.ts";

/** Asserts `expected` for every chunking of `input`, and that it matches the reference. */
export function checkDelimiter(
  delimiter: string,
  input: string,
  expected: Out[],
  maxLength = 256,
): void {
  const data = bytes(input);
  assert.deepEqual(refDelimiter(data, bytes(delimiter), maxLength), expected, "reference");
  forEveryChunking(data, (chunks, label) => {
    const core = new DelimiterCore({ delimiter: bytes(delimiter), maxLength });
    assert.deepEqual(runCore(core, chunks), expected, label);
  });
}
