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
 */
export interface FramingCore {
  /**
   * Feeds bytes; calls `emit` for every complete segment. Emitted bytes may be
   * views of `chunk` and are only valid until `push` returns if the caller
   * reuses `chunk`.
   */
  push(chunk: Uint8Array, emit: SegmentSink): void;
  /** End of input: emits what is left (with `eol` false) and resets. */
  flush(emit: SegmentSink): void;
}
