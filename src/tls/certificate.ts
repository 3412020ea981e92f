/**
 * Loading one server certificate (reference: SSLCert): PEM text or PEM
 * files for the chain and the key, or a PKCS#12 / PFX bundle with its
 * password. Problems are reported before listening, as a `TlsError`
 * naming the file.
 *
 * @module
 */

import type { TlsIdentity } from "../net/tls_types.ts";
import { TlsError } from "../runtime/mod.ts";
import { readFileBytes, readFileText } from "./_files.ts";

/**
 * Where a certificate comes from. `cert` and `key` are PEM text (anything
 * containing `-----BEGIN`) or a file path; `pfx` is the bundle's bytes or a
 * file path. Give `cert` + `key`, or `pfx`.
 */
export interface CertificateSource {
  /** Certificate chain, leaf first: PEM text, PEM bytes, or a file path. */
  cert?: string | Uint8Array;
  /** Private key: PEM text, PEM bytes, or a file path. */
  key?: string | Uint8Array;
  /** PKCS#12 / PFX bundle: its bytes, or a file path. */
  pfx?: string | Uint8Array;
  /** Password of the PFX or of an encrypted key. */
  passphrase?: string;
}

/** A loaded certificate: the identity handed to the runtime, and the files it came from. */
export interface LoadedCertificate {
  /** Immutable PEM/PFX material; a reload makes a new one. */
  readonly identity: TlsIdentity;
  /** The files read, for messages (empty when everything was given inline). */
  readonly files: readonly string[];
}

const PEM = "-----BEGIN";
const decoder = new TextDecoder();

/** True when `value` holds PEM text rather than naming a file. */
function isPem(value: string): boolean {
  return value.includes(PEM);
}

async function pemText(
  value: string | Uint8Array,
  what: string,
  files: string[],
): Promise<{ text: string; file?: string }> {
  if (typeof value !== "string") return { text: decoder.decode(value) };
  if (isPem(value)) return { text: value };
  files.push(value);
  return { text: await readFileText(value, what), file: value };
}

function where(file: string | undefined): string {
  return file === undefined ? "" : ` in ${file}`;
}

/**
 * Reads and checks a {@linkcode CertificateSource}. Throws `TypeError` for
 * a source that is incomplete, and `TlsError` (code `ERR_TLS_CERT`, with
 * `file`) for a file that cannot be read or holds no certificate / key.
 *
 * @example Inline PEM needs no file access
 * ```ts ignore
 * import { loadCertificate } from "./certificate.ts";
 * const { identity } = await loadCertificate({ cert: "./certs/server.pem", key: "./certs/server.key" });
 * ```
 */
export async function loadCertificate(source: CertificateSource): Promise<LoadedCertificate> {
  const files: string[] = [];
  if (source.pfx !== undefined) {
    if (source.cert !== undefined || source.key !== undefined) {
      throw new TypeError(
        "Cannot load the certificate: give either pfx, or cert and key, not both",
      );
    }
    let pfx: Uint8Array;
    if (typeof source.pfx === "string") {
      files.push(source.pfx);
      pfx = await readFileBytes(source.pfx, "PFX");
    } else pfx = source.pfx;
    if (pfx.byteLength === 0 || pfx[0] !== 0x30) {
      throw new TlsError(
        "ERR_TLS_CERT",
        `No PKCS#12 (PFX) data${where(files[0])}: it must be a DER-encoded bundle`,
        {
          file: files[0],
        },
      );
    }
    return { identity: Object.freeze({ pfx, passphrase: source.passphrase }), files };
  }
  if (source.cert === undefined || source.key === undefined) {
    throw new TypeError(
      `Cannot load the certificate: ${
        source.cert === undefined ? "cert" : "key"
      } is missing (give cert and key, or pfx)`,
    );
  }
  const cert = await pemText(source.cert, "certificate", files);
  const key = await pemText(source.key, "key", files);
  if (!/-----BEGIN CERTIFICATE-----/.test(cert.text)) {
    throw new TlsError(
      "ERR_TLS_CERT",
      `No PEM certificate${where(cert.file)}: expected "-----BEGIN CERTIFICATE-----"`,
      {
        file: cert.file,
      },
    );
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key.text)) {
    throw new TlsError(
      "ERR_TLS_CERT",
      `No PEM private key${where(key.file)}: expected "-----BEGIN ... PRIVATE KEY-----"`,
      {
        file: key.file,
      },
    );
  }
  return {
    identity: Object.freeze({ cert: cert.text, key: key.text, passphrase: source.passphrase }),
    files,
  };
}

/**
 * Reads CA certificates (PEM text, PEM bytes or file paths) into PEM strings.
 * Throws `TlsError` naming a file that cannot be read or holds no certificate.
 */
export async function loadCaList(
  ca: string | Uint8Array | readonly (string | Uint8Array)[],
): Promise<string[]> {
  const list = typeof ca === "string" || ca instanceof Uint8Array ? [ca] : ca;
  const out: string[] = [];
  for (const item of list) {
    const { text, file } = await pemText(item, "CA", []);
    if (!/-----BEGIN CERTIFICATE-----/.test(text)) {
      throw new TlsError("ERR_TLS_CERT", `No PEM CA certificate${where(file)}`, { file });
    }
    out.push(text);
  }
  return out;
}
