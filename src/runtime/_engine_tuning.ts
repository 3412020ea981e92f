/**
 * Internal: tells the pure layers what the running JavaScript engine makes
 * cheap or costly (see `src/_engine.ts`, `lineScan`, `pieceCopy`). Done once,
 * by runtime, when the first adapter is loaded, whatever its engine: the
 * `node:net` engine on Bun still runs on JavaScriptCore.
 *
 * @module
 */

import { engine } from "../_engine.ts";
import { lineScan } from "../codec/_scan.ts";
import { pieceCopy } from "../codec/_carry.ts";
import { builtin } from "./_builtin.ts";

/**
 * From this many bytes `node:buffer` `isUtf8` checks a whole text message
 * faster than the JavaScript validator (measured here: Bun 15 ns against 40
 * at 64 bytes; Deno and Node win from 256 bytes, 69 against 95 and 54
 * against 211, and lose below).
 */
const NATIVE_UTF8_FROM: Record<string, number> = { bun: 0, deno: 256, node: 256 };

/** `Buffer.prototype.copy`, as far as used here. */
interface BufferCopy {
  call(
    src: Uint8Array,
    target: Uint8Array,
    targetStart: number,
    start: number,
    end: number,
  ): number;
}

let tuned = false;

/** Sets the engine facts for runtime `name` ("deno", "bun", "node"); later calls do nothing. */
export function tuneEngine(name: string): void {
  if (tuned) return;
  tuned = true;
  if (name === "bun") {
    // JavaScriptCore runs Uint8Array.prototype.indexOf as memchr: lines are found with it.
    lineScan.byIndexOf = true;
    // A view costs ~45 ns there: short pieces are copied, word loops start later.
    engine.costlyViews = true;
    const copy = (globalThis as unknown as { Buffer?: { prototype: { copy: BufferCopy } } })
      .Buffer?.prototype.copy;
    if (copy !== undefined) {
      pieceCopy.copy = (chunk, a, b) => {
        const out = new Uint8Array(b - a);
        copy.call(chunk, out, 0, a, b);
        return out;
      };
    }
  }
  try {
    const isUtf8 = builtin<{ isUtf8?: (bytes: Uint8Array) => boolean }>(name, "node:buffer").isUtf8;
    if (typeof isUtf8 === "function") {
      engine.isUtf8 = isUtf8;
      engine.nativeUtf8From = NATIVE_UTF8_FROM[name] ?? Infinity;
    }
  } catch {
    // No process.getBuiltinModule (Node before 20.16): the JavaScript validator it is.
  }
}
