/**
 * Test helpers for the message layer: a recording handler and a runner that
 * reports the error with the chunk that returned it.
 */

import assert from "node:assert/strict";
import {
  MessageCore,
  type MessageCoreOptions,
  type MessageHandler,
} from "../../src/ws/message_core.ts";
import { chunkOf, freshChunkings, latin1 } from "./_frames.ts";

/** A recorded event: a message (or part), a ping, a pong or a close. */
export type Event =
  | ["text" | "binary", string, boolean]
  | ["ping" | "pong", string]
  | ["close", number, string];

/** What a run produced. */
export interface MessageRun {
  events: Event[];
  error?: { code: string; closeCode: number; chunk: number };
}

/**
 * Pushes `chunks` through `core` then flushes. With `merge`, message parts
 * are joined (and checked: only the last has `eom`), so buffered and
 * streamed runs compare equal. Payloads are rendered at the end.
 */
export function runMessages(
  core: MessageCore,
  chunks: readonly Uint8Array[],
  merge = true,
): MessageRun {
  const raw: [string, Uint8Array, boolean][] = [];
  const order: (number | Event)[] = [];
  const handler: MessageHandler = {
    message(p, opcode, eom) {
      order.push(raw.length);
      raw.push([opcode === 1 ? "text" : "binary", p, eom]);
    },
    ping(p) {
      order.push(raw.length);
      raw.push(["ping", p, true]);
    },
    pong(p) {
      order.push(raw.length);
      raw.push(["pong", p, true]);
    },
    close(code, reason) {
      const e: Event = ["close", code, reason];
      order.push(e);
    },
  };
  const run: MessageRun = { events: [] };
  for (let i = 0; i <= chunks.length; i++) {
    const err = i < chunks.length ? core.push(chunks[i], handler) : core.flush();
    if (err !== undefined) {
      run.error = { code: err.code, closeCode: err.closeCode, chunk: i };
      break;
    }
  }
  let pending: [string, string] | undefined;
  for (const o of order) {
    if (typeof o !== "number") {
      run.events.push(o);
      continue;
    }
    const [kind, p, eom] = raw[o];
    if (kind === "ping" || kind === "pong") {
      run.events.push([kind, latin1(p)]);
    } else if (!merge) {
      run.events.push([kind as "text", latin1(p), eom]);
    } else {
      if (pending !== undefined && pending[0] !== kind) throw new Error("type changed mid-message");
      pending = [kind, (pending?.[1] ?? "") + latin1(p)];
      if (eom) run.events.push([kind as "text", pending[1], true]), pending = undefined;
    }
  }
  return run;
}

/** Every chunking, buffered and streamed, gives `events`. */
export function checkMessages(
  input: Uint8Array,
  events: Event[],
  options: MessageCoreOptions = {},
): void {
  for (const bufferMessage of [true, false]) {
    for (const [label, chunks] of freshChunkings(input)) {
      const run = runMessages(new MessageCore({ ...options, bufferMessage }), chunks);
      assert.deepEqual(run, { events }, `${label}, bufferMessage ${bufferMessage}`);
    }
  }
}

/** Every chunking fails with `code` in the push holding byte `at`, after `events`. */
export function checkMessageError(
  input: Uint8Array,
  at: number,
  code: string,
  closeCode: number,
  events: Event[] = [],
  options: MessageCoreOptions = {},
): void {
  for (const bufferMessage of [true, false]) {
    for (const [label, chunks] of freshChunkings(input)) {
      const run = runMessages(new MessageCore({ ...options, bufferMessage }), chunks);
      const where = `${label}, bufferMessage ${bufferMessage}`;
      assert.deepEqual(run.error, { code, closeCode, chunk: chunkOf(chunks, at) }, where);
      // Buffered runs deliver no part of the failed message.
      if (bufferMessage) assert.deepEqual(run.events, events, where);
    }
  }
}
