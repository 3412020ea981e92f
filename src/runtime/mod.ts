/**
 * Runtime detection and the lazily loaded {@linkcode RuntimeAdapter}s.
 * Detection happens once; each adapter module is imported only when asked
 * for, so Deno and Bun programs never load `node:` modules unless they ask
 * for the `node:net` engine.
 *
 * @example Echo server on any runtime
 * ```ts ignore
 * import { getRuntime } from "./mod.ts";
 *
 * const runtime = await getRuntime();
 * const listener = await runtime.listen({ hostname: "127.0.0.1", port: 0 }, (socket) => {
 *   socket.start({
 *     data: (chunk) => socket.write(chunk.slice()),
 *     end: () => socket.closeWrite(),
 *     drain: () => {},
 *     close: () => {},
 *   });
 * });
 * console.log(`listening on port ${listener.addr.port}`);
 * ```
 *
 * @module
 */

import type { RuntimeAdapter } from "../net/types.ts";
import { tuneEngine } from "./_engine_tuning.ts";

export { NotSupportedError, TlsError } from "./errors.ts";
export type { TlsErrorCode } from "./errors.ts";
export type {
  ConnectOptions,
  Listener,
  ListenOptions,
  NetAddr,
  RuntimeAdapter,
  Socket,
  SocketHandlers,
} from "../net/types.ts";

/** The runtimes netstreams knows. */
export type RuntimeName = "deno" | "bun" | "node";

/**
 * Which socket API an adapter drives: `"native"` is the runtime's own
 * (`Deno.*`, `Bun.*`, `node:net` on Node); `"node"` is the runtime's
 * `node:net` compatibility layer.
 */
export type Engine = "native" | "node";

/** Options for {@linkcode getRuntime}. */
export interface GetRuntimeOptions {
  /**
   * `"node"` selects the `node:net` compatibility engine on Deno and Bun:
   * slower to accept, but it offers what native Deno lacks (RST on
   * `abort`, keep-alive initial delay, `reusePort` without flags). On Node
   * both values give the same adapter.
   * @default "native"
   */
  engine?: Engine;
}

let detected: RuntimeName | undefined;
const adapters = new Map<string, Promise<RuntimeAdapter>>();

/**
 * The runtime this code runs on: `globalThis.Deno` means Deno,
 * `globalThis.Bun` means Bun, anything else is treated as Node.
 *
 * @example Detecting the runtime
 * ```ts
 * import { runtimeName } from "./mod.ts";
 *
 * const name = runtimeName();
 * if (!["deno", "bun", "node"].includes(name)) throw new Error("unexpected runtime");
 * ```
 */
export function runtimeName(): RuntimeName {
  if (detected === undefined) {
    const g = globalThis as any;
    detected = g.Deno !== undefined ? "deno" : g.Bun !== undefined ? "bun" : "node";
  }
  return detected;
}

/**
 * The adapter for the current runtime, loaded once and cached.
 *
 * @example Asking for the compatibility engine
 * ```ts ignore
 * import { getRuntime } from "./mod.ts";
 *
 * const runtime = await getRuntime({ engine: "node" });
 * // On Deno this adapter's sockets can send RST: socket.canReset === true.
 * ```
 */
export function getRuntime(options: GetRuntimeOptions = {}): Promise<RuntimeAdapter> {
  const engine = options.engine ?? "native";
  if (engine !== "native" && engine !== "node") {
    return Promise.reject(
      new TypeError(
        `Cannot get the runtime as engine must be "native" or "node": current value is ${
          String(engine)
        }`,
      ),
    );
  }
  const name = runtimeName();
  const key = name === "node" ? "node" : `${name}:${engine}`;
  let adapter = adapters.get(key);
  if (adapter === undefined) {
    adapter = load(name, engine);
    adapters.set(key, adapter);
  }
  return adapter;
}

async function load(name: RuntimeName, engine: Engine): Promise<RuntimeAdapter> {
  tuneEngine(name);
  if (name === "node" || engine === "node") {
    const { NodeAdapter } = await import("./node.ts");
    return new NodeAdapter(name);
  }
  if (name === "deno") {
    const { DenoAdapter } = await import("./deno.ts");
    return new DenoAdapter();
  }
  const { BunAdapter } = await import("./bun.ts");
  return new BunAdapter();
}
