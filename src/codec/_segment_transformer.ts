/**
 * Internal: the `Transformer` that runs a {@linkcode FramingCore} inside a
 * `TransformStream`. One sink closure per stream, none per chunk.
 *
 * @module
 */

import type { FramingCore, Segment, SegmentSink } from "./types.ts";

/** Wraps `core`; `owner` names the stream in the error for a non-byte chunk. */
export function segmentTransformer(
  core: FramingCore,
  owner: string,
): Transformer<Uint8Array, Segment> {
  let emit: SegmentSink;
  return {
    start(controller) {
      emit = (bytes, eol) => controller.enqueue({ bytes, eol });
    },
    transform(chunk) {
      if (!(chunk instanceof Uint8Array)) {
        throw new TypeError(
          `Cannot write to ${owner} as chunks must be Uint8Array: current value is ${
            Object.prototype.toString.call(chunk)
          }`,
        );
      }
      core.push(chunk, emit);
    },
    flush() {
      core.flush(emit);
    },
  };
}
