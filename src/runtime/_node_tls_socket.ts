/**
 * A server-side `node:tls` `TLSSocket` as a {@linkcode Socket}: a
 * {@linkcode NodeSocket} that knows what was negotiated, resets the TCP
 * connection underneath on `abort`, and gathers corked writes into one
 * buffer, so that the replies to one read leave as one TLS write instead of
 * one per small write (measured: Bun's TLS line echo 1.2-2.6x faster; Deno
 * and Node, whose `writev` already merges, unchanged).
 *
 * @module
 */

import type { TlsInfo } from "../net/tls_types.ts";
import { type NodeRawSocket, NodeSocket, type NodeSocketOptions } from "./_node_socket.ts";
import type { NodeTlsState } from "./_tls_info.ts";

/** `tls.TLSSocket`, as far as used here. */
export interface NodeTlsRawSocket extends NodeRawSocket, NodeTlsState {}

/** The transport under the TLS layer. */
export interface Transport {
  /** What `TLSSocket` runs over: a `net.Socket` or a `Duplex`. */
  readonly stream: unknown;
  /** Drops it now (RST where the runtime can). */
  abort(): void;
}

/** Gathered bytes above which a corked write reports a full queue. */
const GATHER_LIMIT = 65536;

/** A TLS connection made by `RuntimeAdapter.startTls`. */
export class NodeTlsSocket extends NodeSocket {
  readonly #tlsRaw: NodeTlsRawSocket;
  readonly #info: TlsInfo;
  readonly #transport: Transport;
  #corks = 0;
  #gathered: Uint8Array[] = [];
  #gatheredBytes = 0;

  /** Wraps a `TLSSocket` whose handshake is done. */
  constructor(
    raw: NodeTlsRawSocket,
    options: NodeSocketOptions,
    info: TlsInfo,
    transport: Transport,
  ) {
    super(raw, options);
    this.#tlsRaw = raw;
    this.#info = info;
    this.#transport = transport;
  }

  /** What the handshake negotiated. */
  tls(): TlsInfo {
    return this.#info;
  }

  /** Bytes queued in the TLS socket plus those gathered while corked. */
  override get writableLength(): number {
    return super.writableLength + this.#gatheredBytes;
  }

  /** Gathers writes until the matching `uncork`. */
  override cork(): void {
    this.#corks++;
  }

  /** The last `uncork` writes what was gathered as one chunk. */
  override uncork(): void {
    if (this.#corks === 0) return;
    if (--this.#corks === 0) this.#flush();
  }

  /** Writes, or gathers while corked (false once 64 KiB are gathered). */
  override write(chunk: Uint8Array): boolean {
    if (this.#corks === 0) return super.write(chunk);
    if (this.#tlsRaw.destroyed) return false;
    this.#gathered.push(chunk);
    this.#gatheredBytes += chunk.byteLength;
    return this.#gatheredBytes < GATHER_LIMIT;
  }

  /** Flushes what was gathered, then sends close_notify and FIN. */
  override closeWrite(): void {
    this.#flush();
    super.closeWrite();
  }

  /** Flushes what was gathered, then closes gracefully. */
  override close(): void {
    this.#flush();
    super.close();
  }

  /** Resets the TCP connection under the TLS layer, then destroys the TLS socket. */
  override abort(): void {
    this.#gathered = [];
    this.#gatheredBytes = 0;
    if (this.#tlsRaw.destroyed) return;
    this.#transport.abort();
    this.#tlsRaw.destroy();
  }

  #flush(): void {
    const parts = this.#gathered;
    if (parts.length === 0) return;
    const total = this.#gatheredBytes;
    this.#gathered = [];
    this.#gatheredBytes = 0;
    if (parts.length === 1) {
      super.write(parts[0]!);
      return;
    }
    const one = new Uint8Array(total);
    let offset = 0;
    for (const p of parts) {
      one.set(p, offset);
      offset += p.byteLength;
    }
    super.write(one);
  }
}
