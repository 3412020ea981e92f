/**
 * Internal: checks a chunk written to one of the WebSocket streams.
 *
 * @module
 */

/** Throws the `TypeError` for a chunk that is not a `Uint8Array`. */
export function checkChunk(chunk: unknown, owner: string): asserts chunk is Uint8Array {
  if (!(chunk instanceof Uint8Array)) {
    throw new TypeError(
      `Cannot write to ${owner} as chunks must be Uint8Array: current value is ${
        Object.prototype.toString.call(chunk)
      }`,
    );
  }
}
