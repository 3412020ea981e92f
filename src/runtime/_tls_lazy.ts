/**
 * The TLS methods of every adapter, loading the `node:tls` engine
 * (`_node_tls.ts`) on first use only.
 *
 * @module
 */

import type { Socket } from "../net/types.ts";
import type {
  CertificateSummary,
  StartTlsOptions,
  TlsIdentity,
  TlsServerConfig,
} from "../net/tls_types.ts";
import type { NodeTlsEngine } from "./_node_tls.ts";
import { builtin } from "./_builtin.ts";

/** `startTls` and `prepareTls` for one adapter. */
export class LazyTls {
  readonly #runtime: string;
  #engine: Promise<NodeTlsEngine> | undefined;

  /** @param runtime The runtime name, for messages. */
  constructor(runtime: string) {
    this.#runtime = runtime;
  }

  /** See `RuntimeAdapter.startTls`. */
  async startTls(
    socket: Socket,
    config: TlsServerConfig,
    options?: StartTlsOptions,
  ): Promise<Socket> {
    return (await this.#get()).startTls(socket, config, options);
  }

  /** See `RuntimeAdapter.prepareTls`. */
  async prepareTls(
    config: TlsServerConfig,
    identities: readonly TlsIdentity[],
  ): Promise<(CertificateSummary | undefined)[]> {
    return (await this.#get()).prepare(config, identities);
  }

  #get(): Promise<NodeTlsEngine> {
    const runtime = this.#runtime;
    return this.#engine ??= import("./_node_tls.ts").then((m) =>
      new m.NodeTlsEngine(runtime, <T>(id: string) => builtin<T>(runtime, id))
    );
  }
}
