import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MessageStream, type WsMessage } from "../../src/ws/message_stream.ts";
import { chunkings } from "../codec/_chunkings.ts";
import { cat, frame, fresh, latin1 } from "./_frames.ts";

type Out = (string | number | boolean)[];

async function run(stream: MessageStream, chunks: Uint8Array[]): Promise<Out[]> {
  const reading = (async () => {
    const out: Out[] = [];
    for await (const m of stream.readable as ReadableStream<WsMessage>) {
      if (m.type === "close") out.push([m.type, m.code, m.reason]);
      else if (m.type === "ping" || m.type === "pong") out.push([m.type, latin1(m.data)]);
      else out.push([m.type, latin1(m.data), m.eom]);
    }
    return out;
  })();
  const writer = stream.writable.getWriter();
  try {
    for (const c of chunks) await writer.write(c);
    await writer.close();
  } catch {
    // The readable side reports the error.
  }
  return await reading;
}

describe("MessageStream", () => {
  it("MessageStream delivers messages, pings and the close for every chunking", async () => {
    const input = cat(
      frame({ opcode: 1, payload: "ab", fin: false }),
      frame({ opcode: 9, payload: "p" }),
      frame({ opcode: 0, payload: "c" }),
      frame({ opcode: 2, payload: "\x00" }),
      frame({ opcode: 8, payload: "\x03\xe9bye" }),
      frame({ opcode: 1, payload: "ignored" }),
    );
    for (const [label, chunks] of chunkings(input, 0)) {
      assert.deepEqual(await run(new MessageStream(), fresh(chunks)), [
        ["ping", "p"],
        ["text", "abc", true],
        ["binary", "\x00", true],
        ["close", 1001, "bye"],
      ], label);
    }
  });

  it("MessageStream delivers parts with eom when bufferMessage is false", async () => {
    const input = cat(
      frame({ opcode: 1, payload: "ab", fin: false }),
      frame({ opcode: 0, payload: "c" }),
    );
    assert.deepEqual(await run(new MessageStream({ bufferMessage: false }), fresh([input])), [
      ["text", "ab", false],
      ["text", "c", true],
    ]);
  });

  it("MessageStream errors with 1007 on invalid UTF-8 split across fragments", async () => {
    const input = cat(
      frame({ opcode: 1, payload: "\xce", fin: false }),
      frame({ opcode: 0, payload: "\xff" }),
    );
    for (const [label, chunks] of chunkings(input, 0)) {
      await assert.rejects(run(new MessageStream(), fresh(chunks)), {
        name: "WsProtocolError",
        code: "WS_INVALID_UTF8",
        closeCode: 1007,
      }, label);
    }
  });

  it("MessageStream errors with 1006 when input ends inside a message", async () => {
    await assert.rejects(run(new MessageStream(), [frame({ opcode: 2, fin: false })]), {
      code: "WS_UNFINISHED_MESSAGE",
      closeCode: 1006,
    });
  });

  it("MessageStream rejects non-byte chunks and invalid options", async () => {
    await assert.rejects(run(new MessageStream(), [42 as never]), TypeError);
    assert.throws(() => new MessageStream({ maxPayload: -5 }), RangeError);
    const stream = new MessageStream({ maxPayload: 5 });
    assert.deepEqual([stream.maxPayload, stream.closed], [5, false]);
  });
});
