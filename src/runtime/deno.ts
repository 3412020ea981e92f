/**
 * The Deno adapter: native `Deno.listen` / `Deno.connect` with a `read` loop
 * into a small reused buffer and a gathering write loop.
 *
 * What native Deno cannot do, and how it shows:
 * - abortive close (RST): `canReset` is false, `abort()` closes without RST;
 * - keep-alive initial delay: `setKeepAlive(true, ms)` enables keep-alive and
 *   ignores `ms` (the kernel default idle time, usually 2 hours, applies);
 * - `ipv6Only`: rejected with {@linkcode NotSupportedError} (no IPV6_V6ONLY
 *   control; `"::"` is dual stack only when the sysctl `bindv6only` is 0);
 * - `reusePort` needs `--unstable-net` natively, so such listeners are served
 *   by Deno's `node:net` compatibility layer instead (see `./node.ts`).
 * For RST and keep-alive delays on every socket, ask for the compatibility
 * engine: `getRuntime({ engine: "node" })`.
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
import {
  callSafely,
  netAddr,
  resolveConnectOptions,
  resolveListenOptions,
  rethrowLater,
} from "./_common.ts";
import {
  connectError,
  errorCode,
  formatAddress,
  listenError,
  systemError,
  toSystemError,
} from "./_errors.ts";
import { NotSupportedError } from "./errors.ts";

import { type DenoAddr, type DenoConn, DenoSocket } from "./_deno_socket.ts";

export { DenoSocket };

interface DenoTcpListener {
  readonly addr: DenoAddr;
  accept(): Promise<DenoConn>;
  close(): void;
}

interface DenoNamespace {
  listen(options: {
    hostname: string;
    port: number;
    transport: "tcp";
    tcpBacklog?: number;
  }): DenoTcpListener;
  connect(options: {
    hostname: string;
    port: number;
    transport: "tcp";
    signal?: AbortSignal;
  }): Promise<DenoConn>;
  open(path: string, options: { read: true }): Promise<{ readable: ReadableStream<Uint8Array> }>;
}

function denoNamespace(): DenoNamespace {
  return (globalThis as any).Deno as DenoNamespace;
}

const RETRY_ACCEPT_MS = 100;

/** A native `Deno.listen` listener running its accept loop. */
class DenoListener implements Listener {
  readonly addr: NetAddr;
  #listener: DenoTcpListener;
  #onSocket: (socket: Socket) => void;
  #closed = false;
  #retry: ReturnType<typeof setTimeout> | undefined;

  constructor(listener: DenoTcpListener, onSocket: (socket: Socket) => void) {
    this.#listener = listener;
    this.#onSocket = onSocket;
    this.addr = netAddr(listener.addr.hostname, listener.addr.port);
    void this.#acceptLoop();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#retry !== undefined) clearTimeout(this.#retry);
    try {
      this.#listener.close();
    } catch { /* already closed */ }
  }

  async #acceptLoop(): Promise<void> {
    while (!this.#closed) {
      let conn: DenoConn;
      try {
        conn = await this.#listener.accept();
      } catch (err) {
        if (this.#closed || errorCode(err) === "EBADF") return;
        const code = errorCode(err);
        if (code === "ECONNABORTED" || code === "ECONNRESET" || code === "EINTR") continue;
        // EMFILE and the like: wait a little instead of spinning.
        await new Promise<void>((resolve) => {
          this.#retry = setTimeout(resolve, RETRY_ACCEPT_MS);
        });
        this.#retry = undefined;
        continue;
      }
      if (this.#closed) {
        try {
          conn.close();
        } catch { /* ignore */ }
        return;
      }
      const socket = new DenoSocket(conn);
      const error = callSafely(() => this.#onSocket(socket));
      if (error !== undefined) {
        socket.abort();
        rethrowLater(error);
      }
    }
  }
}

/**
 * The native Deno {@linkcode RuntimeAdapter}. `engine` is `"native"`;
 * listeners asking for `reusePort` are served by Deno's `node:net`.
 */
export class DenoAdapter implements RuntimeAdapter {
  /** Always "deno". */
  readonly name = "deno" as const;
  /** This adapter drives `Deno.*` directly. */
  readonly engine = "native" as const;
  #tls = new LazyTls("deno");
  #compat: Promise<RuntimeAdapter> | undefined;

  /** Binds with `Deno.listen`, or with `node:net` when `reusePort` is set. */
  async listen(options: ListenOptions, onSocket: (socket: Socket) => void): Promise<Listener> {
    const o = resolveListenOptions(options);
    if (o.ipv6Only) {
      throw new NotSupportedError(
        "deno",
        "ipv6Only",
        "ipv6Only is not supported on Deno (no IPV6_V6ONLY control): listen on an IPv6 " +
          "address without ipv6Only, or run on Bun or Node",
      );
    }
    if (o.reusePort) return (await this.#compatAdapter()).listen(options, onSocket);
    let listener: DenoTcpListener;
    try {
      listener = denoNamespace().listen({
        hostname: o.hostname,
        port: o.port,
        transport: "tcp",
        tcpBacklog: o.backlog,
      });
    } catch (err) {
      throw listenError(err, o.hostname, o.port);
    }
    return new DenoListener(listener, onSocket);
  }

  /** Connects with `Deno.connect`, giving up after `timeout` (ETIMEDOUT). */
  async connect(options: ConnectOptions): Promise<Socket> {
    const o = resolveConnectOptions(options);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), o.timeout);
    try {
      const conn = await denoNamespace().connect({
        hostname: o.hostname,
        port: o.port,
        transport: "tcp",
        signal: controller.signal,
      });
      return new DenoSocket(conn);
    } catch (err) {
      if (controller.signal.aborted) {
        throw systemError(
          "ETIMEDOUT",
          `Cannot connect to ${
            formatAddress(o.hostname, o.port)
          }: ETIMEDOUT (no answer within ${o.timeout} ms)`,
          err,
        );
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

  /** Opens a file with `Deno.open`; its `readable` closes the file when done. */
  async openFile(path: string): Promise<ReadableStream<Uint8Array>> {
    try {
      return (await denoNamespace().open(path, { read: true })).readable;
    } catch (err) {
      throw toSystemError(err);
    }
  }

  #compatAdapter(): Promise<RuntimeAdapter> {
    return this.#compat ??= import("./node.ts").then((m) => new m.NodeAdapter("deno"));
  }
}
