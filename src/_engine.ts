/**
 * Internal: facts about the JavaScript engine that the pure layers (codecs,
 * WebSocket framing) tune themselves by. Pure; the runtime adapters set them
 * when they are loaded.
 *
 * @module
 */

/** What the running engine makes cheap or costly. */
export const engine: {
  /**
   * Creating a typed-array view (`subarray`, `new Int32Array(buffer, ...)`)
   * costs about 45 ns, as on JavaScriptCore, rather than the 10-30 ns of V8:
   * word-at-a-time loops that need a view pay off only on longer runs.
   */
  costlyViews: boolean;
  /**
   * A native check that bytes are complete, valid UTF-8 (`node:buffer`
   * `isUtf8`), used for whole text messages of at least
   * {@linkcode engine.nativeUtf8From} bytes, where it beats the JavaScript
   * validator (Bun, 64 bytes: 15 ns against 40; 1 KiB: 30 against 279).
   */
  isUtf8: ((bytes: Uint8Array) => boolean) | undefined;
  /** See {@linkcode engine.isUtf8}. */
  nativeUtf8From: number;
} = { costlyViews: false, isUtf8: undefined, nativeUtf8From: Infinity };
