/**
 * netstreams: TCP, TLS and WebSocket servers where every connection is a pair
 * of web streams and every protocol concern is a `TransformStream`.
 *
 * @example A line echo server
 * ```ts ignore
 * import { serve } from "@netstreams/netstreams";
 * await using server = await serve({
 *   port: 7000,
 *   singleLineMode: true,
 *   async onConnection(conn) {
 *     for await (const line of conn.segments) await conn.send(line.bytes);
 *   },
 * });
 * ```
 *
 * @module
 */

export * from "./src/codec/mod.ts";
export * from "./src/net/mod.ts";
export * from "./src/components/mod.ts";
export { VERSION } from "./src/version.ts";
