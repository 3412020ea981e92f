/**
 * Test certificates, made once per process with /usr/bin/openssl (P-256
 * keys, so it takes well under a second) in a temporary directory that is
 * removed at exit:
 *
 * - `ca`: the test CA; `server` (localhost, 127.0.0.1), `other`
 *   (other.test), `wild` (*.wild.test), `client` and `expiredClient` are
 *   signed by it; `expiredServer` is a localhost certificate that has expired;
 * - `rogueCa` and `rogueClient`: a client certificate from a CA the server
 *   does not know;
 * - `pfx`: `server` as PKCS#12 with the password "secret".
 */

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

export const OPENSSL = "/usr/bin/openssl";

/** A certificate with its key, as files and as PEM text. */
export interface TestCert {
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
}

/** Every certificate the TLS tests use. */
export interface TestCerts {
  dir: string;
  ca: TestCert;
  server: TestCert;
  other: TestCert;
  wild: TestCert;
  client: TestCert;
  expiredClient: TestCert;
  expiredServer: TestCert;
  rogueCa: TestCert;
  rogueClient: TestCert;
  pfx: { path: string; bytes: Uint8Array; passphrase: string };
}

let cached: TestCerts | undefined;

function ssl(dir: string, args: string[]): void {
  execFileSync(OPENSSL, args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

function key(dir: string, name: string): void {
  ssl(dir, [
    "genpkey",
    "-algorithm",
    "EC",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-out",
    `${name}.key`,
  ]);
}

function selfSigned(dir: string, name: string, cn: string): TestCert {
  key(dir, name);
  ssl(dir, [
    "req",
    "-x509",
    "-new",
    "-key",
    `${name}.key`,
    "-out",
    `${name}.pem`,
    "-days",
    "30",
    "-subj",
    `/CN=${cn}`,
  ]);
  return read(dir, name);
}

let serial = 100;

function signed(
  dir: string,
  name: string,
  cn: string,
  ca: string,
  ext: string,
  days = 30,
): TestCert {
  key(dir, name);
  ssl(dir, [
    "req",
    "-new",
    "-key",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    `/CN=${cn}/O=netstreams tests`,
  ]);
  writeFileSync(join(dir, `${name}.ext`), ext + "\n");
  ssl(dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${ca}.pem`,
    "-CAkey",
    `${ca}.key`,
    "-set_serial",
    String(serial++),
    "-out",
    `${name}.pem`,
    "-days",
    String(days),
    "-extfile",
    `${name}.ext`,
  ]);
  return read(dir, name);
}

function read(dir: string, name: string): TestCert {
  const certPath = join(dir, `${name}.pem`);
  const keyPath = join(dir, `${name}.key`);
  return {
    certPath,
    keyPath,
    cert: readFileSync(certPath, "utf8"),
    key: readFileSync(keyPath, "utf8"),
  };
}

/** The test certificates (made on the first call). */
export function testCerts(): TestCerts {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), "netstreams-tls-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const server = "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth";
  const client = "extendedKeyUsage=clientAuth";
  const ca = selfSigned(dir, "ca", "netstreams Test CA");
  const rogueCa = selfSigned(dir, "rogue_ca", "Rogue CA");
  const certs: TestCerts = {
    dir,
    ca,
    server: signed(dir, "server", "localhost", "ca", server),
    other: signed(dir, "other", "other.test", "ca", "subjectAltName=DNS:other.test"),
    wild: signed(dir, "wild", "*.wild.test", "ca", "subjectAltName=DNS:*.wild.test"),
    client: signed(dir, "client", "client one", "ca", client),
    expiredClient: signed(dir, "expired_client", "expired client", "ca", client, -1),
    expiredServer: signed(dir, "expired_server", "localhost", "ca", server, -1),
    rogueCa,
    rogueClient: signed(dir, "rogue_client", "rogue client", "rogue_ca", client),
    pfx: { path: join(dir, "server.pfx"), bytes: new Uint8Array(), passphrase: "secret" },
  };
  ssl(dir, [
    "pkcs12",
    "-export",
    "-in",
    "server.pem",
    "-inkey",
    "server.key",
    "-out",
    "server.pfx",
    "-passout",
    "pass:secret",
  ]);
  certs.pfx.bytes = new Uint8Array(readFileSync(certs.pfx.path));
  cached = certs;
  return certs;
}
