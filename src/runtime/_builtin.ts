/**
 * Loads `node:` modules through `process.getBuiltinModule` (Node 20.16+,
 * Deno, Bun), so nothing is loaded until a feature needs it.
 *
 * @module
 */

import { NotSupportedError } from "./errors.ts";

/** Returns the `node:` module `id`; throws {@linkcode NotSupportedError} where it cannot be loaded. */
export function builtin<T>(runtime: string, id: string): T {
  const proc = (globalThis as any).process;
  if (typeof proc?.getBuiltinModule !== "function") {
    throw new NotSupportedError(
      runtime,
      "process.getBuiltinModule",
      `process.getBuiltinModule is missing, so ${id} cannot be loaded: use Node 20.16 or later`,
    );
  }
  return proc.getBuiltinModule(id) as T;
}
