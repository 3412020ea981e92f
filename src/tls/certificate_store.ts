/**
 * Certificates per host name, chosen by SNI (reference: IcsHosts), with a
 * default, and reloaded without a restart (reference: RecheckSslCerts).
 *
 * @module
 */

import type { CertificateSummary, TlsIdentity, TlsServerConfig } from "../net/tls_types.ts";
import { getRuntime, TlsError } from "../runtime/mod.ts";
import { type CertificateSource, loadCertificate } from "./certificate.ts";

/** A certificate and the host names it serves. */
export interface HostCertificate extends CertificateSource {
  /**
   * Host names: exact (`"mail.example.com"`) or wildcards of one label
   * (`"*.example.com"` matches `a.example.com`, not `example.com` nor
   * `a.b.example.com`, as RFC 6125 §6.4.3 has it). Case does not matter.
   */
  names: string | readonly string[];
}

/** Options of {@linkcode CertificateStore}: a default certificate, hosts, or both. */
export interface CertificateStoreOptions extends CertificateSource {
  /** Certificates by host name. Without a top-level cert/pfx, the first is the default. */
  hosts?: readonly HostCertificate[];
}

/** What the store knows about one loaded certificate. */
export interface HostInfo {
  /** Host names it serves; empty for the default certificate. */
  readonly names: readonly string[];
  /** Files it was read from. */
  readonly files: readonly string[];
  /** Subject, issuer and validity of the leaf certificate (undefined for PFX). */
  readonly certificate: CertificateSummary | undefined;
  /** True when the leaf certificate's validity has ended. */
  readonly expired: boolean;
}

interface Entry extends HostInfo {
  readonly identity: TlsIdentity;
}

interface Table {
  readonly fallback: Entry;
  readonly exact: Map<string, Entry>;
  readonly wildcard: Map<string, Entry>;
  readonly entries: readonly Entry[];
}

function normalize(name: string): string {
  const n = name.trim().toLowerCase();
  return n.endsWith(".") ? n.slice(0, -1) : n;
}

function checkName(name: string): string {
  const n = normalize(name);
  const rest = n.startsWith("*.") ? n.slice(2) : n;
  if (rest === "" || rest.includes("*") || rest.startsWith(".") || rest.includes("..")) {
    throw new TypeError(
      `Cannot use host name "${name}": give an exact name or a wildcard of the first label such as "*.example.com"`,
    );
  }
  return n;
}

/**
 * Server certificates by SNI host name, with a default for clients that
 * send no name or an unknown one.
 *
 * @example Two hosts and a default
 * ```ts ignore
 * import { CertificateStore } from "./certificate_store.ts";
 * const store = await new CertificateStore({
 *   cert: "certs/default.pem", key: "certs/default.key",
 *   hosts: [{ names: ["*.example.com"], cert: "certs/wild.pem", key: "certs/wild.key" }],
 * }).load();
 * // later, after renewing the files on disk (live connections keep theirs):
 * await store.reload();
 * ```
 */
export class CertificateStore {
  #options: CertificateStoreOptions;
  #table: Table | undefined;
  #loading: Promise<void> | undefined;

  /** Creates an empty store; call {@linkcode CertificateStore.load}. Throws TypeError on bad names. */
  constructor(options: CertificateStoreOptions) {
    const hasDefault = options.cert !== undefined || options.key !== undefined ||
      options.pfx !== undefined;
    if (!hasDefault && (options.hosts === undefined || options.hosts.length === 0)) {
      throw new TypeError(
        "Cannot create a certificate store without certificates: give cert and key, pfx, or hosts",
      );
    }
    for (const h of options.hosts ?? []) {
      const names = typeof h.names === "string" ? [h.names] : h.names;
      if (names.length === 0) throw new TypeError("Cannot add a host certificate without names");
      names.forEach(checkName);
    }
    this.#options = options;
  }

  /** True once certificates are loaded. */
  get loaded(): boolean {
    return this.#table !== undefined;
  }

  /** Loads the certificates unless already loaded. Resolves with the store. */
  async load(): Promise<this> {
    if (this.#table === undefined) await this.reload();
    return this;
  }

  /**
   * Reads every certificate again (files included) and checks it; only when
   * all are good are they swapped in. New handshakes then use them;
   * connections already open keep theirs. On failure the old ones stay and
   * the `TlsError` names the file.
   */
  reload(): Promise<void> {
    const run = async () => {
      const o = this.#options;
      const hasDefault = o.cert !== undefined || o.key !== undefined || o.pfx !== undefined;
      const entries: Entry[] = [];
      if (hasDefault) entries.push(await this.#entry(o, []));
      for (const h of o.hosts ?? []) {
        entries.push(
          await this.#entry(h, (typeof h.names === "string" ? [h.names] : h.names).map(checkName)),
        );
      }
      const exact = new Map<string, Entry>();
      const wildcard = new Map<string, Entry>();
      for (const e of entries) {
        for (const n of e.names) {
          if (n.startsWith("*.")) wildcard.set(n.slice(2), e);
          else exact.set(n, e);
        }
      }
      this.#table = { fallback: entries[0]!, exact, wildcard, entries };
    };
    const p = (this.#loading ?? Promise.resolve()).then(run, run);
    this.#loading = p.catch(() => {});
    return p;
  }

  /**
   * The identity for an SNI name: an exact match first, then a wildcard,
   * else the default. Throws TypeError before {@linkcode CertificateStore.load}.
   */
  select(servername: string | undefined): TlsIdentity {
    const t = this.#table;
    if (t === undefined) throw new TypeError("Cannot select a certificate: call load() first");
    if (servername === undefined || servername === "") return t.fallback.identity;
    const n = normalize(servername);
    const exact = t.exact.get(n);
    if (exact !== undefined) return exact.identity;
    const dot = n.indexOf(".");
    const wild = dot > 0 ? t.wildcard.get(n.slice(dot + 1)) : undefined;
    return (wild ?? t.fallback).identity;
  }

  /** Every loaded identity, the default first. */
  identities(): TlsIdentity[] {
    return (this.#table?.entries ?? []).map((e) => e.identity);
  }

  /** What is loaded, the default first (for expiry warnings and status). */
  hosts(): HostInfo[] {
    return (this.#table?.entries ?? []).map(({ names, files, certificate, expired }) => ({
      names,
      files,
      certificate,
      expired,
    }));
  }

  async #entry(source: CertificateSource, names: string[]): Promise<Entry> {
    const { identity, files } = await loadCertificate(source);
    const config: TlsServerConfig = {
      select: () => identity,
      requestCert: false,
      minVersion: "TLSv1.2",
      maxVersion: "TLSv1.3",
      handshakeTimeout: 10_000,
    };
    let certificate: CertificateSummary | undefined;
    try {
      const runtime = await getRuntime();
      certificate = (await runtime.prepareTls?.(config, [identity]))?.[0];
    } catch (err) {
      const reason = err instanceof TlsError ? err.reason : undefined;
      const what = files.length > 0
        ? files.join(" and ")
        : names.length > 0
        ? `the certificate for ${names.join(", ")}`
        : "the certificate";
      throw new TlsError("ERR_TLS_CERT", `Cannot use ${what}: ${(err as Error).message}`, {
        file: files[files.length - 1],
        reason,
        cause: err,
      });
    }
    const expired = certificate !== undefined && certificate.validTo.getTime() < Date.now();
    return { names, files, identity, certificate, expired };
  }
}
