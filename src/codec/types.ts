/**
 * Shared shapes of the framing codecs.
 *
 * @module
 */

/**
 * One unit cut from a byte stream by a framing codec: a line, a delimited
 * piece or a record.
 */
export interface Segment {
  /** The bytes, without the delimiter. */
  bytes: Uint8Array;
  /**
   * True when the delimiter (or, for records, the full record length) ended
   * this segment; false when it was cut at the maximum length or at end of
   * input (the reference documents' DataIn `EOL = false`).
   */
  eol: boolean;
}

/** Receives each segment a core cuts. `bytes` may be a view of the input chunk. */
export type SegmentSink = (bytes: Uint8Array, eol: boolean) => void;

/**
 * The synchronous, incremental state machine behind every framing codec.
 * Both the `TransformStream` classes and the server drive the same core.
 *
 * Emitted bytes are either views of the chunk being pushed or arrays the core
 * hands over and never touches again; the core never emits a view of its own
 * reusable buffer. The sink must not call `push`, `flush` or `takeRest`.
 */
export interface FramingCore {
  /**
   * Feeds bytes; calls `emit` for every complete segment. Emitted bytes may be
   * views of `chunk` and are only valid until `push` returns if the caller
   * reuses `chunk`.
   */
  push(chunk: Uint8Array, emit: SegmentSink): void;
  /**
   * End of input: emits what is left (with `eol` false) and resets. Emits
   * nothing when nothing is left.
   */
  flush(emit: SegmentSink): void;
  /**
   * Called from inside `emit`: `push` (or `flush`) returns right after the
   * current segment, and the core keeps a copy of the bytes it has not cut
   * yet (the next `push` cuts them first, or {@linkcode FramingCore.takeRest}
   * takes them). Used to pause reading or to change framing inside the data
   * callback. A no-op outside `push`/`flush`.
   */
  halt(): void;
  /**
   * Returns every byte received and not yet emitted (carried partial segment
   * plus what a {@linkcode FramingCore.halt} left), as a new array the caller
   * owns, and empties the core. Call it after `push` returns.
   */
  takeRest(): Uint8Array;
}
