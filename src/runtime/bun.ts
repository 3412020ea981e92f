/**
 * The Bun adapter: native `Bun.listen` / `Bun.connect` callback sockets.
 * One handler object per listener dispatches to the {@linkcode BunSocket}
 * kept in `socket.data`, so no closure is allocated per connection.
 *
 * Bun facts this code is built on (measured with Bun 1.4.5):
 * - `data` receives a fresh buffer per call, so `sharedChunks` is false;
 * - `write()` returns the bytes the kernel took and keeps nothing: the
 *   adapter queues the rest and retries in `drain`;
 * - `pause()`/`resume()` stop and restart reading;
 * - `terminate()` sends RST (`canReset` is true); `shutdown()` sends FIN;
 * - after our `shutdown()`, the peer's FIN is reported only by `close`, so a
 *   clean `close` after our FIN is delivered as `end` then `close`;
 * - the listen backlog is fixed at 512: `backlog` is ignored;
 * - what JavaScriptCore makes cheap or costly (memchr `indexOf`, costly
 *   `subarray` views) is told to the pure layers by `_engine_tuning.ts`.
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
import { LazyTls } from "./_tls_lazy.ts";
import { netAddr, resolveConnectOptions, resolveListenOptions } from "./_common.ts";
import { connectError, formatAddress, listenError, systemError } from "./_errors.ts";

import { type BunHandlers, type BunRawSocket, BunSocket, fixedLocalAddr } from "./_bun_socket.ts";

export { BunSocket };

interface BunTcpListener {
  readonly hostname: string;
  readonly port: number;
  stop(closeActiveConnections?: boolean): void;
}

interface BunNamespace {
  listen(options: {
    hostname: string;
    port: number;
    reusePort: boolean;
    ipv6Only: boolean;
    allowHalfOpen: boolean;
    socket: BunHandlers;
  }): BunTcpListener;
  connect(options: {
    hostname: string;
    port: number;
    allowHalfOpen: boolean;
    socket: BunHandlers;
  }): Promise<BunRawSocket>;
  file(path: string): { exists(): Promise<boolean>; stream(): ReadableStream<Uint8Array> };
}

function bunNamespace(): BunNamespace {
  return (globalThis as any).Bun as BunNamespace;
}

/** A `Bun.listen` listener. */
class BunListener implements Listener {
  readonly addr: NetAddr;
  #server: BunTcpListener;
  #closed = false;

  constructor(server: BunTcpListener) {
    this.#server = server;
    this.addr = netAddr(server.hostname, server.port);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.stop(false);
  }
}

const CLIENT_HANDLERS = BunSocket.handlers();

/** The native Bun {@linkcode RuntimeAdapter}. */
export class BunAdapter implements RuntimeAdapter {
  /** Always "bun". */
  readonly name = "bun" as const;
  /** This adapter drives `Bun.*` directly. */
  readonly engine = "native" as const;
  #tls = new LazyTls("bun");

  /** `Bun.listen` with half-open allowed; `backlog` is ignored (Bun uses 512). */
  listen(options: ListenOptions, onSocket: (socket: Socket) => void): Promise<Listener> {
    try {
      const o = resolveListenOptions(options);
      let server: BunTcpListener;
      const local: { addr?: NetAddr } = {};
      try {
        server = bunNamespace().listen({
          hostname: o.hostname,
          port: o.port,
          reusePort: o.reusePort,
          ipv6Only: o.ipv6Only,
          allowHalfOpen: true,
          socket: BunSocket.handlers(onSocket, local),
        });
      } catch (err) {
        throw listenError(err, o.hostname, o.port);
      }
      if (server.hostname === o.hostname) local.addr = fixedLocalAddr(o.hostname, server.port);
      return Promise.resolve(new BunListener(server));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** `Bun.connect`, giving up after `timeout` (ETIMEDOUT). */
  async connect(options: ConnectOptions): Promise<Socket> {
    const o = resolveConnectOptions(options);
    const connecting = bunNamespace().connect({
      hostname: o.hostname,
      port: o.port,
      allowHalfOpen: true,
      socket: CLIENT_HANDLERS,
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    let timedOut = false;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(systemError(
          "ETIMEDOUT",
          `Cannot connect to ${
            formatAddress(o.hostname, o.port)
          }: ETIMEDOUT (no answer within ${o.timeout} ms)`,
        ));
      }, o.timeout);
    });
    try {
      const raw = await Promise.race([connecting, timeout]);
      return raw.data!;
    } catch (err) {
      if (timedOut) {
        connecting.then((raw) => raw.terminate(), () => {});
        throw err;
      }
      throw connectError(err, o.hostname, o.port);
    } finally {
      clearTimeout(timer);
    }
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

  /** `Bun.file(path).stream()`; a missing file rejects with ENOENT. */
  async openFile(path: string): Promise<ReadableStream<Uint8Array>> {
    const file = bunNamespace().file(path);
    if (!(await file.exists())) {
      throw systemError("ENOENT", `ENOENT: no such file or directory, open '${path}'`);
    }
    return file.stream();
  }
}
