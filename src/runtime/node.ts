/**
 * The `node:net` adapter: Node itself, and the compatibility engine on Deno
 * and Bun (`getRuntime({ engine: "node" })`, or Deno listeners that ask for
 * `reusePort`). Modules come from `process.getBuiltinModule` (Node 20.16+,
 * Deno, Bun), so nothing here is loaded unless this engine is used.
 *
 * Gaps, and how they show:
 * - `reusePort` needs Node 22.12 or later; older Node rejects the listen with
 *   {@linkcode NotSupportedError} (it would silently ignore the option);
 * - `ipv6Only` on Deno's `node:net` is silently ignored, so it is rejected
 *   with {@linkcode NotSupportedError};
 * - `backlog` is ignored by Bun's `node:net` (fixed at 512).
 *
 * On Node itself, sockets read into shared buffers (`onread`, see
 * `_node_socket.ts`): `net.connect` takes the option; accepted sockets are
 * made by replacing the listening handle's `onconnection`, Node's accept
 * callback, since `net.Server` has no such option. Where that handle is
 * missing (another engine), sockets keep Node's buffer per read.
 *
 * @module
 */

import type {
  ConnectOptions,
  Listener,
  ListenOptions,
  NetAddr,
  RuntimeAdapter,
  Socket,
} from "../net/types.ts";
import type {
  CertificateSummary,
  StartTlsOptions,
  TlsIdentity,
  TlsServerConfig,
} from "../net/tls_types.ts";
import {
  callSafely,
  netAddr,
  resolveConnectOptions,
  resolveListenOptions,
  rethrowLater,
} from "./_common.ts";
import { connectError, formatAddress, listenError, systemError, toSystemError } from "./_errors.ts";
import { NotSupportedError } from "./errors.ts";
import { builtin } from "./_builtin.ts";
import { LazyTls } from "./_tls_lazy.ts";

import { type NodeEmitter, type NodeRawSocket, NodeSocket, SHARED_READS } from "./_node_socket.ts";

export { NodeSocket };

interface NodeServer extends NodeEmitter {
  listen(options: Record<string, unknown>, callback: () => void): void;
  close(): void;
  address(): { address: string; port: number } | string | null;
}

interface NodeNet {
  createServer(
    options: { allowHalfOpen: boolean; pauseOnConnect: boolean },
    listener: (socket: NodeRawSocket) => void,
  ): NodeServer;
  connect(options: {
    host: string;
    port: number;
    allowHalfOpen: boolean;
    onread?: typeof SHARED_READS;
  }): NodeRawSocket;
  Socket: new (options: Record<string, unknown>) => NodeRawSocket;
}

interface NodeFileHandle {
  read(
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number | null,
  ): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

interface NodeFs {
  promises: { open(path: string, flags: string): Promise<NodeFileHandle> };
}

type RuntimeName = RuntimeAdapter["name"];

/** True on Node versions whose `listen` honours `reusePort` (22.12+, 23.1+). */
function nodeHasReusePort(): boolean {
  const version = String((globalThis as any).process?.versions?.node ?? "0.0");
  const [major, minor] = version.split(".").map(Number) as [number, number];
  return major >= 24 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

/**
 * Makes `server` wrap each accepted connection with the `onread` option that
 * `net.Server` does not offer: reads then go to one shared buffer instead of a
 * fresh 64 KiB allocation per read (which glibc's heap trimming turned into
 * page faults). This replaces the listening handle's `onconnection` (Node's
 * own accept callback); where that handle is not there, nothing changes.
 */
function acceptWithSharedReads(
  net: NodeNet,
  server: NodeServer,
  onSocket: (socket: Socket) => void,
): void {
  const handle = (server as any)._handle;
  if (handle === null || typeof handle?.onconnection !== "function") return;
  handle.onconnection = (err: number, clientHandle: unknown) => {
    if (err) return; // Node would emit a server "error", which is ignored here too
    const raw = new net.Socket({
      handle: clientHandle,
      allowHalfOpen: true,
      pauseOnCreate: true,
      readable: true,
      writable: true,
      onread: SHARED_READS,
    });
    const socket = new NodeSocket(raw, { sharedReads: true });
    const error = callSafely(() => onSocket(socket));
    if (error !== undefined) {
      socket.abort();
      rethrowLater(error);
    }
  };
}

/** A listening `net.Server`. */
class NodeListener implements Listener {
  readonly addr: NetAddr;
  #server: NodeServer;
  #closed = false;

  constructor(server: NodeServer, hostname: string) {
    this.#server = server;
    const address = server.address();
    this.addr = typeof address === "object" && address !== null
      ? netAddr(address.address, address.port)
      : netAddr(hostname, 0);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.close();
  }
}

const FILE_CHUNK = 65536;

function fileStream(handle: NodeFileHandle): ReadableStream<Uint8Array> {
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const buffer = new Uint8Array(FILE_CHUNK);
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(buffer, 0, FILE_CHUNK, null));
      } catch (err) {
        await close().catch(() => {});
        throw toSystemError(err);
      }
      if (bytesRead === 0) {
        await close();
        controller.close();
      } else {
        controller.enqueue(bytesRead === FILE_CHUNK ? buffer : buffer.subarray(0, bytesRead));
      }
    },
    cancel: close,
  });
}

/**
 * The `node:net` {@linkcode RuntimeAdapter}. `name` is the runtime it runs
 * on; `engine` is `"native"` on Node and `"node"` (compatibility layer) on
 * Deno and Bun.
 */
export class NodeAdapter implements RuntimeAdapter {
  /** The runtime this adapter runs on. */
  readonly name: RuntimeName;
  /** `"native"` on Node, `"node"` when used as Deno's or Bun's compatibility engine. */
  readonly engine: "native" | "node";
  #tls: LazyTls;

  /**
   * Creates the adapter.
   *
   * @param name The runtime this code runs on (for messages and per-runtime gaps).
   */
  constructor(name: RuntimeName = "node") {
    this.name = name;
    this.engine = name === "node" ? "native" : "node";
    this.#tls = new LazyTls(name);
  }

  /** `net.createServer({ allowHalfOpen, pauseOnConnect })` then `listen`. */
  async listen(options: ListenOptions, onSocket: (socket: Socket) => void): Promise<Listener> {
    const o = resolveListenOptions(options);
    if (o.ipv6Only && this.name === "deno") {
      throw new NotSupportedError(
        "deno",
        "ipv6Only",
        "ipv6Only is not supported on Deno (node:net ignores it): listen on an IPv6 " +
          "address without ipv6Only, or run on Bun or Node",
      );
    }
    if (o.reusePort && this.name === "node" && !nodeHasReusePort()) {
      throw new NotSupportedError(
        "node",
        "reusePort",
        `reusePort is not supported on Node ${
          String((globalThis as any).process?.versions?.node)
        } (it needs Node 22.12 or later): leave reusePort off, or upgrade Node`,
      );
    }
    const net = builtin<NodeNet>(this.name, "node:net");
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (raw) => {
      const socket = new NodeSocket(raw);
      const error = callSafely(() => onSocket(socket));
      if (error !== undefined) {
        socket.abort();
        rethrowLater(error);
      }
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: unknown) => reject(listenError(err, o.hostname, o.port));
      server.once("error", onError);
      const listenOptions: Record<string, unknown> = {
        host: o.hostname,
        port: o.port,
        backlog: o.backlog,
        ipv6Only: o.ipv6Only,
      };
      if (o.reusePort) listenOptions.reusePort = true;
      server.listen(listenOptions, () => {
        server.removeListener("error", onError);
        resolve();
      });
    });
    // Accept failures (EMFILE...) are retried by Node; never let them crash the process.
    server.on("error", () => {});
    if (this.name === "node") acceptWithSharedReads(net, server, onSocket);
    return new NodeListener(server, o.hostname);
  }

  /** `net.connect({ allowHalfOpen: true })`, giving up after `timeout` (ETIMEDOUT). */
  connect(options: ConnectOptions): Promise<Socket> {
    let o: ReturnType<typeof resolveConnectOptions>;
    try {
      o = resolveConnectOptions(options);
    } catch (err) {
      return Promise.reject(err);
    }
    const net = builtin<NodeNet>(this.name, "node:net");
    const shared = this.name === "node";
    const raw = net.connect({
      host: o.hostname,
      port: o.port,
      allowHalfOpen: true,
      onread: shared ? SHARED_READS : undefined,
    });
    // Reading starts at start(): until then the shared buffer has nowhere to go.
    if (shared) raw.pause();
    return new Promise<Socket>((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        raw.removeListener("connect", onConnect);
        raw.removeListener("error", onError);
      };
      const onConnect = () => {
        settle();
        resolve(new NodeSocket(raw, { sharedReads: shared }));
      };
      const onError = (err: unknown) => {
        settle();
        raw.on("error", () => {});
        raw.destroy();
        reject(connectError(err, o.hostname, o.port));
      };
      const timer = setTimeout(() => {
        settle();
        raw.on("error", () => {});
        raw.destroy();
        reject(systemError(
          "ETIMEDOUT",
          `Cannot connect to ${
            formatAddress(o.hostname, o.port)
          }: ETIMEDOUT (no answer within ${o.timeout} ms)`,
        ));
      }, o.timeout);
      raw.once("connect", onConnect);
      raw.once("error", onError);
    });
  }

  /**
   * Server-side TLS over `socket` with `node:tls` (see `_node_tls.ts`): the
   * `net.Socket` itself for sockets of the `node:net` engine, a `Duplex` of
   * the socket otherwise.
   */
  startTls(socket: Socket, config: TlsServerConfig, options?: StartTlsOptions): Promise<Socket> {
    return this.#tls.startTls(socket, config, options);
  }

  /** Builds the `node:tls` secure contexts now, so bad material fails before listening. */
  prepareTls(
    config: TlsServerConfig,
    identities: readonly TlsIdentity[],
  ): Promise<(CertificateSummary | undefined)[]> {
    return this.#tls.prepareTls(config, identities);
  }

  /** `fs.promises.open`, read 64 KiB per pull; the handle closes at end or cancel. */
  async openFile(path: string): Promise<ReadableStream<Uint8Array>> {
    const fs = builtin<NodeFs>(this.name, "node:fs");
    try {
      return fileStream(await fs.promises.open(path, "r"));
    } catch (err) {
      throw toSystemError(err);
    }
  }
}
