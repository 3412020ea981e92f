/**
 * The library version (kept equal to deno.json's by a test).
 *
 * @module
 */

/** The netstreams version. */
export const VERSION = "0.1.0";
