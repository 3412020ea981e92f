/**
 * The server-side TLS engine every adapter uses: `node:tls` `TLSSocket`
 * with `isServer`, which is the one path that gives SNI, client
 * certificates, STARTTLS and a handshake timeout on Deno, Bun and Node
 * alike (see research/runtime-matrix.md, "TLS").
 *
 * - Over a `node:net` socket (Node, and the compatibility engine of Deno
 *   and Bun) the `net.Socket` itself is handed to `TLSSocket`; bytes already
 *   read past a STARTTLS command are put back with `unshift`, which
 *   `TLSSocket` feeds to the TLS layer before anything read later. SNI goes
 *   through `SNICallback`.
 * - Over a native Deno or Bun socket, `TLSSocket` runs over a `Duplex` of
 *   the socket (`_socket_duplex.ts`). Bun ignores `SNICallback` there, so on
 *   this path the ClientHello is read first (`_client_hello.ts`) and the
 *   certificate is chosen before the TLS library starts.
 *
 * Traps encoded here: `rejectUnauthorized` stays off and the client
 * certificate is judged after the handshake by the layer above (Node's
 * server-side `TLSSocket` never rejects an untrusted certificate itself);
 * the handshake timeout is our own timer, covering the ClientHello wait
 * too, and destroys both sockets; every failure destroys them.
 *
 * @module
 */

import type { NetAddr, Socket } from "../net/types.ts";
import type {
  CertificateSummary,
  StartTlsOptions,
  TlsIdentity,
  TlsServerConfig,
} from "../net/tls_types.ts";
import { NodeSocket } from "./_node_socket.ts";
import { canHandOver, type NodeStreamModule, socketDuplex } from "./_socket_duplex.ts";
import { certificateSummary, type NodeX509 } from "./_tls_info.ts";
import {
  abortedError,
  type NodeTlsRawSocket,
  runHandshake,
  type Transport,
} from "./_tls_handshake.ts";
import { readHello } from "./_read_hello.ts";
import { errorCode, systemError } from "./_errors.ts";
import { NotSupportedError, TlsError } from "./errors.ts";

/** `node:tls`, as far as used here. */
interface NodeTlsModule {
  createSecureContext(options: Record<string, unknown>): unknown;
  TLSSocket: new (socket: unknown, options: Record<string, unknown>) => NodeTlsRawSocket;
}

/** `node:crypto`, as far as used here. */
interface NodeCrypto {
  X509Certificate: new (
    pem: string | Uint8Array,
  ) => NodeX509 & { checkPrivateKey(key: unknown): boolean };
  createPrivateKey(options: { key: string; passphrase?: string }): unknown;
}

/** Loads a `node:` module (throws NotSupportedError where impossible). */
export type BuiltinLoader = <T>(id: string) => T;

const noop = () => {};
const SESSION_ID_CONTEXT = "netstreams";

/** Builds and caches secure contexts, and runs server-side handshakes. */
export class NodeTlsEngine {
  readonly #runtime: string;
  readonly #load: BuiltinLoader;
  #contexts = new WeakMap<TlsServerConfig, WeakMap<TlsIdentity, unknown>>();

  /** @param runtime For messages. @param load Loads `node:` modules. */
  constructor(runtime: string, load: BuiltinLoader) {
    this.#runtime = runtime;
    this.#load = load;
  }

  /** The secure context for `identity` under `config`, built once. */
  context(config: TlsServerConfig, identity: TlsIdentity): unknown {
    let byIdentity = this.#contexts.get(config);
    if (byIdentity === undefined) this.#contexts.set(config, byIdentity = new WeakMap());
    let context = byIdentity.get(identity);
    if (context === undefined) {
      if (config.ciphers !== undefined && this.#runtime === "deno") {
        // Deno's node:tls (rustls) accepts the option and ignores it: measured with Deno 2.9.
        throw new NotSupportedError(
          "deno",
          "ciphers",
          "A TLS cipher list is not supported on Deno: its node:tls ignores it and negotiates its own " +
            "modern suites (AES-GCM, ChaCha20-Poly1305); leave ciphers unset, or run on Bun or Node",
        );
      }
      const options: Record<string, unknown> = {
        minVersion: config.minVersion,
        maxVersion: config.maxVersion,
      };
      if (identity.pfx !== undefined) options.pfx = identity.pfx;
      if (identity.cert !== undefined) options.cert = identity.cert;
      if (identity.key !== undefined) options.key = identity.key;
      if (identity.passphrase !== undefined) options.passphrase = identity.passphrase;
      // Every context carries the CA list, or SNI-selected names could not verify clients.
      if (config.ca !== undefined) options.ca = [...config.ca];
      if (config.ciphers !== undefined) options.ciphers = config.ciphers;
      try {
        context = this.#load<NodeTlsModule>("node:tls").createSecureContext(options);
        // What tls.Server does: without a session id context, OpenSSL refuses TLS 1.2
        // session resumption when client certificates are requested (Node).
        const native =
          (context as { context?: { setSessionIdContext?(id: string): void } }).context;
        native?.setSessionIdContext?.(SESSION_ID_CONTEXT);
      } catch (err) {
        const reason = errorCode(err);
        const mismatch = /KEY_VALUES_MISMATCH|KEY_TYPE_MISMATCH/.test(
          `${reason} ${(err as Error).message}`,
        );
        throw new TlsError(
          "ERR_TLS_CERT",
          mismatch
            ? "The private key does not belong to the certificate"
            : `Cannot use the TLS certificate, key or CA list: ${(err as Error).message}`,
          { reason: mismatch ? "KEY_MISMATCH" : reason, cause: err },
        );
      }
      byIdentity.set(identity, context);
    }
    return context;
  }

  /** Builds every context now; returns the leaf certificates' facts (undefined for PFX). */
  prepare(
    config: TlsServerConfig,
    identities: readonly TlsIdentity[],
  ): (CertificateSummary | undefined)[] {
    const crypto = this.#load<NodeCrypto>("node:crypto");
    return identities.map((identity) => {
      this.context(config, identity);
      const pem = identity.cert?.match(/-----BEGIN CERTIFICATE-----[^]*?-----END CERTIFICATE-----/)
        ?.[0];
      if (pem === undefined) return undefined;
      const x509 = new crypto.X509Certificate(pem);
      // node:tls on Node and Deno accepts a key that does not match the certificate.
      let matches: boolean;
      try {
        matches = identity.key === undefined ||
          x509.checkPrivateKey(
            crypto.createPrivateKey({ key: identity.key, passphrase: identity.passphrase }),
          );
      } catch (err) {
        throw new TlsError(
          "ERR_TLS_CERT",
          `Cannot read the private key: ${(err as Error).message}`,
          {
            reason: errorCode(err),
            cause: err,
          },
        );
      }
      if (!matches) {
        throw new TlsError("ERR_TLS_CERT", "The private key does not belong to the certificate", {
          reason: "KEY_MISMATCH",
        });
      }
      return certificateSummary(x509);
    });
  }

  /** Takes `socket` over and runs the handshake (see `RuntimeAdapter.startTls`). */
  async startTls(
    socket: Socket,
    config: TlsServerConfig,
    options: StartTlsOptions = {},
  ): Promise<Socket> {
    const onStatus = options.onStatus;
    const status = (message: string) => {
      try {
        onStatus?.(message);
      } catch { /* a status listener must not break the handshake */ }
    };
    const socketOptions = {
      remoteAddr: socket.remoteAddr,
      localAddr: socket.localAddr,
      canReset: socket.canReset,
    };
    const deadline = Date.now() + config.handshakeTimeout;
    const initial = options.initialData;
    const tls = this.#load<NodeTlsModule>("node:tls");
    const base = {
      requestCert: config.requestCert,
      rejectUnauthorized: false,
      ALPNProtocols: config.alpnProtocols === undefined ? undefined : [...config.alpnProtocols],
      isServer: true,
    };
    const signal = options.signal;
    if (signal?.aborted) {
      socket.abort();
      throw abortedError();
    }
    const common = {
      socketOptions,
      requestCert: config.requestCert,
      deadline,
      timeout: config.handshakeTimeout,
      status,
      signal,
      parse: (der: Uint8Array) => new (this.#load<NodeCrypto>("node:crypto").X509Certificate)(der),
    };
    if (socket instanceof NodeSocket) {
      const raw = socket._detach();
      if (raw === undefined) throw closedError(socket.remoteAddr);
      raw.on("error", noop); // the transport's errors surface on the TLS socket
      if (initial !== undefined && initial.byteLength > 0) raw.unshift(initial);
      const transport: Transport = {
        stream: raw,
        abort() {
          try {
            if (typeof raw.resetAndDestroy === "function") raw.resetAndDestroy();
            else raw.destroy();
          } catch {
            raw.destroy();
          }
        },
      };
      status("TLS handshake started");
      return runHandshake({
        ...common,
        transport,
        servername: undefined,
        create: (onSni) =>
          new tls.TLSSocket(raw, {
            ...base,
            secureContext: this.context(config, config.select(undefined)),
            SNICallback: (name: string, cb: (error: Error | null, context?: unknown) => void) => {
              onSni(name);
              try {
                cb(null, this.context(config, config.select(name || undefined)));
              } catch (err) {
                cb(err as Error);
              }
            },
          }),
      });
    }
    if (!canHandOver(socket)) {
      throw new TypeError(
        `Cannot start TLS on this socket: it was not made by the ${this.#runtime} adapter`,
      );
    }
    status("TLS handshake started");
    const hello = await readHello(socket, initial, deadline, config.handshakeTimeout, signal);
    if (hello.servername !== undefined) {
      status(`client asked for host name ${hello.servername} (SNI)`);
    }
    const duplex = socketDuplex(this.#load<NodeStreamModule>("node:stream"), socket, hello.bytes);
    if (duplex === undefined) throw closedError(socket.remoteAddr);
    return runHandshake({
      ...common,
      transport: { stream: duplex, abort: () => socket.abort() },
      servername: hello.servername,
      create: () =>
        new tls.TLSSocket(duplex, {
          ...base,
          secureContext: this.context(config, config.select(hello.servername)),
        }),
    });
  }
}

/** The connection closed before TLS could start. */
export function closedError(remote: NetAddr): Error {
  return systemError(
    "EPIPE",
    `Cannot start TLS with ${remote.hostname}:${remote.port}: the connection is closed`,
  );
}
