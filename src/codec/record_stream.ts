/**
 * {@linkcode RecordStream}: bytes in, fixed-length records out
 * (reference: RecordLength, ChangeRecordLength).
 *
 * @module
 */

import { pieceOf } from "./_carry.ts";
import { checkRecordLength } from "./_options.ts";
import { RecordCore, type RecordCoreOptions } from "./record_core.ts";
import type { Segment, SegmentSink } from "./types.ts";

/** Options of {@linkcode RecordStream}: the same as {@linkcode RecordCoreOptions}. */
export type RecordStreamOptions = RecordCoreOptions;

const EMPTY = new Uint8Array(0);

/** The writable half: checks each chunk and hands it on when the readable half asks. */
const checkBytes: Transformer<Uint8Array, Uint8Array> = {
  transform(chunk, controller) {
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError(
        `Cannot write to RecordStream as chunks must be Uint8Array: current value is ${
          Object.prototype.toString.call(chunk)
        }`,
      );
    }
    controller.enqueue(chunk);
  },
};

/**
 * Cuts a byte stream into records of `recordLength` bytes (`eol` true); a
 * partial record at the end of input goes out with `eol` false. With
 * `recordLength` 0, chunks (or what is left of one) pass through as they
 * are, with `eol` false.
 *
 * Records are cut one per read, when the readable side is pulled, so setting
 * {@linkcode RecordStream.recordLength} between two reads, for example from
 * the code consuming a record (ChangeRecordLength inside DataIn), applies to
 * the very next record whatever the chunking of the input. The writable side
 * takes a chunk only once everything written before it has been cut, so
 * besides its queue (high-water mark 1) the stream holds the chunk being cut
 * and at most one record spanning chunks; nothing is cut while nobody reads.
 *
 * Records inside one chunk are views of it, so a written chunk must not be
 * modified afterwards; only a record that spans chunks is copied.
 *
 * @example Cutting 4-byte records
 * ```ts
 * import { RecordStream } from "@netstreams/netstreams/codec";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const input = ReadableStream.from([new TextEncoder().encode("abcdefghij")]);
 * const out = [];
 * for await (const { bytes, eol } of input.pipeThrough(new RecordStream({ recordLength: 4 }))) {
 *   out.push([new TextDecoder().decode(bytes), eol]);
 * }
 * deepStrictEqual(out, [["abcd", true], ["efgh", true], ["ij", false]]);
 * ```
 *
 * @example A header record sets the length of the body that follows it
 * ```ts
 * import { RecordStream } from "@netstreams/netstreams/codec";
 * import { deepStrictEqual } from "node:assert/strict";
 *
 * const records = new RecordStream({ recordLength: 1 });
 * const input = ReadableStream.from([new TextEncoder().encode("3abc2de")]);
 * const out = [];
 * let header = true;
 * for await (const { bytes } of input.pipeThrough(records)) {
 *   const text = new TextDecoder().decode(bytes);
 *   out.push(text);
 *   records.recordLength = header ? Number(text) : 1;
 *   header = !header;
 * }
 * deepStrictEqual(out, ["3", "abc", "2", "de"]);
 * ```
 */
export class RecordStream extends TransformStream<Uint8Array, Segment> {
  readonly #core: RecordCore;
  /** The written chunks, from the base stream's readable side. */
  readonly #input: ReadableStreamDefaultReader<Uint8Array>;
  readonly #output: ReadableStream<Segment>;
  #out!: ReadableStreamDefaultController<Segment>;
  /** The chunk being cut and the start of its uncut bytes. */
  #chunk: Uint8Array = EMPTY;
  #at = 0;
  /** A chunk to cut before reading more input (see `#pull`). */
  #queued: Uint8Array | undefined = undefined;
  /** Bytes given to the core and not yet emitted: a record spanning chunks. */
  #held = 0;
  #ended = false;
  #cancelled = false;
  readonly #emit: SegmentSink = (bytes, eol) => {
    this.#held = 0;
    this.#out.enqueue({ bytes, eol });
  };
  readonly #next = (result: ReadableStreamReadResult<Uint8Array>): void | Promise<void> => {
    if (this.#cancelled) return;
    this.#ended = result.done;
    this.#chunk = result.done ? EMPTY : result.value;
    this.#at = 0;
    return this.#pull();
  };

  /** Validates the options; throws `TypeError`/`RangeError` naming the bad value. */
  constructor(options: RecordStreamOptions) {
    const recordLength = checkRecordLength("create RecordStream", options?.recordLength);
    // The base stream checks and passes the written chunks, one per read of
    // its readable side (high-water mark 0): its writable side is this
    // stream's, and its readable side feeds the records' readable.
    super(
      checkBytes as unknown as Transformer<Uint8Array, Segment>,
      undefined,
      { highWaterMark: 0 },
    );
    this.#core = new RecordCore({ recordLength });
    this.#input = (super.readable as unknown as ReadableStream<Uint8Array>).getReader();
    this.#output = new ReadableStream<Segment>({
      start: (controller) => {
        this.#out = controller;
      },
      pull: () => this.#pull(),
      cancel: (reason) => {
        this.#cancelled = true;
        this.#chunk = EMPTY;
        this.#queued = undefined;
        this.#core.takeRest();
        return this.#input.cancel(reason);
      },
    }, { highWaterMark: 0 });
    // An abort of the writable side errors the readable side even while nobody reads.
    this.#input.closed.catch((reason) => this.#out.error(reason));
  }

  /** The records; each read cuts one. */
  override get readable(): ReadableStream<Segment> {
    return this.#output;
  }

  /** Record length in bytes, 0 = pass-through; applies to the next record cut, that is the next read. */
  get recordLength(): number {
    return this.#core.recordLength;
  }
  set recordLength(length: number) {
    this.#core.setRecordLength(length);
  }

  /** Cuts one record, reading input as needed; returns a promise only when it has to wait. */
  #pull(): void | Promise<void> {
    const core = this.#core;
    for (;;) {
      const r = core.recordLength;
      const chunk = this.#chunk;
      const at = this.#at;
      const held = this.#held;
      const n = chunk.length;
      if (held === 0) {
        // Fast path: the record (or, passing through, the rest of the chunk) is a view.
        const end = r === 0 ? n : at + r;
        if (end > at && end <= n) {
          this.#at = end;
          this.#out.enqueue({ bytes: pieceOf(chunk, at, end), eol: r !== 0 });
          return;
        }
      } else if (r <= held) {
        // The length was lowered (or set to 0) while a record was being
        // gathered: cut the gathered bytes first, then the chunk, as the core would.
        if (at < n) this.#queued = at === 0 ? chunk : chunk.subarray(at);
        this.#chunk = core.takeRest();
        this.#at = 0;
        this.#held = 0;
        continue;
      }
      if (at < n) {
        // A record spanning chunks (r > held here): the core gathers it and
        // emits it once it is complete.
        const end = Math.min(n, at + r - held);
        this.#at = end;
        this.#held = held + end - at;
        core.push(chunk.subarray(at, end), this.#emit);
        if (this.#held === 0) return;
      }
      const queued = this.#queued;
      if (queued !== undefined) {
        this.#queued = undefined;
        this.#chunk = queued;
        this.#at = 0;
      } else if (this.#ended) {
        // End of input: a partial record goes out with `eol` false.
        if (this.#held > 0) core.flush(this.#emit);
        this.#out.close();
        return;
      } else {
        return this.#input.read().then(this.#next);
      }
    }
  }
}
