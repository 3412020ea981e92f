/**
 * Internal: defaults and option checks shared by the WebSocket codecs.
 * Messages say what to do and the current value (STYLE.md, guideline 8).
 *
 * @module
 */

/** Default longest message (and frame) in bytes: 64 MiB, as Deno's native WebSocket. */
export const DEFAULT_MAX_PAYLOAD = 64 * 1024 * 1024;
/** Default most frames per message: 65,536 (Autobahn 9.3.1 sends 4 MiB in 64-byte frames). */
export const DEFAULT_MAX_FRAGMENTS = 65_536;
/** Default largest outgoing frame payload in bytes before fragmenting: 16 MiB. */
export const DEFAULT_MAX_OUTGOING_FRAME = 16 * 1024 * 1024;

function show(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/** Validates an integer option in `[min, Number.MAX_SAFE_INTEGER]`; undefined gives `fallback`. */
export function checkInteger(
  action: string,
  name: string,
  value: unknown,
  min: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot ${action} as ${name} must be a number: current value is ${show(value)}`,
    );
  }
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(
      `Cannot ${action} as ${name} must be an integer >= ${min}: current value is ${value}`,
    );
  }
  return value;
}

/** Validates a boolean option; undefined gives `fallback`. */
export function checkBoolean(
  action: string,
  name: string,
  value: unknown,
  fallback: boolean,
): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") {
    throw new TypeError(
      `Cannot ${action} as ${name} must be a boolean: current value is ${show(value)}`,
    );
  }
  return value;
}
