/**
 * Chooses the framing core for a connection from its settings (reference:
 * EOL, SingleLineMode, MaxLineLength, RecordLength).
 *
 * @module
 */

import type { FramingCore } from "../codec/types.ts";
import { DelimiterCore } from "../codec/delimiter_core.ts";
import { LineCore } from "../codec/line_core.ts";
import { RecordCore } from "../codec/record_core.ts";

/** How incoming bytes are cut into units. */
export interface FramingOptions {
  /**
   * End-of-line bytes (any length, may contain NUL). A string is encoded as
   * UTF-8. Empty means no delimiter: data is delivered as it arrives.
   * @default ""
   */
  eol?: string | Uint8Array;
  /** Lines end at CRLF, LF or CR; `eol` is ignored. @default false */
  singleLineMode?: boolean;
  /** Longest unit in bytes before it is cut and delivered with `eol` false (>= 256). @default 2048 */
  maxLineLength?: number;
  /** Fixed record length in bytes; 0 turns records off. Takes precedence over lines. @default 0 */
  recordLength?: number;
}

/** Settings with defaults applied and validated. */
export interface Framing {
  /** End-of-line bytes; empty when unused. */
  eol: Uint8Array;
  /** Lines end at CRLF, LF or CR. */
  singleLineMode: boolean;
  /** Longest unit in bytes before a cut. */
  maxLineLength: number;
  /** Fixed record length in bytes, 0 = off. */
  recordLength: number;
}

/** Minimum of MaxLineLength in the reference documents. */
export const MIN_LINE_LENGTH = 256;
/** Default MaxLineLength in the reference documents. */
export const DEFAULT_LINE_LENGTH = 2048;

/** Applies defaults over `base` and validates; throws `RangeError`/`TypeError` with the current value. */
export function resolveFraming(options: FramingOptions, base?: Framing): Framing {
  const eolIn = options.eol ?? base?.eol ?? new Uint8Array(0);
  let eol: Uint8Array;
  if (typeof eolIn === "string") eol = new TextEncoder().encode(eolIn);
  else if (eolIn instanceof Uint8Array) eol = eolIn;
  else {
    throw new TypeError(
      `Cannot set eol as it must be a string or Uint8Array: current value is ${String(eolIn)}`,
    );
  }
  const maxLineLength = options.maxLineLength ?? base?.maxLineLength ?? DEFAULT_LINE_LENGTH;
  if (!Number.isInteger(maxLineLength) || maxLineLength < MIN_LINE_LENGTH) {
    throw new RangeError(
      `Cannot set maxLineLength as it must be an integer >= ${MIN_LINE_LENGTH}: current value is ${maxLineLength}`,
    );
  }
  const recordLength = options.recordLength ?? base?.recordLength ?? 0;
  if (!Number.isInteger(recordLength) || recordLength < 0) {
    throw new RangeError(
      `Cannot set recordLength as it must be an integer >= 0 (0 = off): current value is ${recordLength}`,
    );
  }
  const singleLineMode = options.singleLineMode ?? base?.singleLineMode ?? false;
  return { eol, singleLineMode: Boolean(singleLineMode), maxLineLength, recordLength };
}

/** The core for a framing, or undefined when bytes pass through as they come. */
export function createCore(f: Framing): FramingCore | undefined {
  if (f.recordLength > 0) return new RecordCore({ recordLength: f.recordLength });
  if (f.singleLineMode) return new LineCore({ maxLength: f.maxLineLength });
  if (f.eol.length > 0) return new DelimiterCore({ delimiter: f.eol, maxLength: f.maxLineLength });
  return undefined;
}
