/**
 * Helpers for the conformance suite modelled on the Autobahn TestSuite's
 * fuzzing-client cases: send frames in Autobahn's "chops" (all in one
 * write, frame by frame, octet by octet), expect echoes and closes with
 * Autobahn's strict expectations.
 */

import assert from "node:assert/strict";
import { cat, expectClose, frame, openWs, type RawClient, type RawFrame, type RefFrame } from "../_raw_client.ts";

export type Chop = "one" | "frames" | "octets";

const dec = new TextDecoder();

/** Sends frames as one write, one write per frame, or one write per byte (1 ms apart). */
export async function sendAs(c: RawClient, chop: Chop, ...frames: RefFrame[]): Promise<void> {
  if (chop === "one") return c.sendFrames(...frames);
  if (chop === "frames") {
    for (const f of frames) {
      c.sendFrames(f);
      await new Promise((r) => setTimeout(r, 1));
    }
    return;
  }
  const bytes = cat(...frames.map(frame));
  await c.sendChopped(bytes, 1, bytes.length <= 400 ? 1 : 0);
}

/** A text frame with a UTF-8 payload. */
export function textFrame(s: string, fin = true, opcode = 1): RefFrame {
  return { opcode, payload: new TextEncoder().encode(s), fin };
}

/** Reads the next data message (joining fragments) and asserts its opcode and payload. */
export async function expectMessage(
  c: RawClient,
  opcode: 1 | 2,
  payload: Uint8Array | string,
  ms = 10_000,
): Promise<void> {
  let f: RawFrame = await c.nextFrame(ms);
  assert.equal(f.opcode, opcode, `opcode of ${describe(f)}`);
  const parts = [f.payload];
  while (!f.fin) {
    f = await c.nextFrame(ms);
    assert.equal(f.opcode, 0, "continuation");
    parts.push(f.payload);
  }
  const got = cat(...parts);
  if (typeof payload === "string") {
    const s = dec.decode(got);
    assert.equal(s.length, payload.length, "text length");
    assert.ok(s === payload, `text content: ${JSON.stringify(s.slice(0, 80))} vs ${JSON.stringify(payload.slice(0, 80))}`);
  } else {
    assert.equal(got.length, payload.length, "binary length");
    assert.ok(got.every((b, i) => b === payload[i]), "binary content");
  }
}

/** Reads the next frame and asserts it is a pong with `payload`. */
export async function expectPong(c: RawClient, payload: Uint8Array | string = ""): Promise<void> {
  const f = await c.nextFrame();
  assert.equal(f.opcode, 10, `expected a pong, got ${describe(f)}`);
  const want = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  assert.deepEqual([...f.payload], [...want]);
}

/** Closes with 1000 and expects the server to answer 1000 and close TCP. */
export async function closeNormally(c: RawClient): Promise<void> {
  c.sendFrames({ opcode: 8, payload: new Uint8Array([0x03, 0xe8]) });
  const before = await expectClose(c, [1000]);
  assert.deepEqual(before, [], "no frames before the close");
}

/**
 * Autobahn's "fail": the next frame is a close with `code` (no echo, no
 * pong first), then the server closes TCP.
 */
export async function expectFail(c: RawClient, code: number | number[]): Promise<void> {
  const before = await expectClose(c, [code].flat());
  assert.deepEqual(before.map(describe), [], "nothing echoed after the protocol error");
}

/** Opens a connection to the echo server. */
export function open(port: number): Promise<RawClient> {
  return openWs(port);
}

function describe(f: RawFrame): string {
  return `opcode ${f.opcode} fin ${f.fin} ${f.payload.length} bytes`;
}
