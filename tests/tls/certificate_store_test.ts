import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CertificateStore } from "../../src/tls/certificate_store.ts";
import { loadCertificate } from "../../src/tls/certificate.ts";
import { checkTlsOptions } from "../../src/tls/tls_options.ts";
import { TlsError } from "../../src/runtime/errors.ts";
import { have } from "../_cli.ts";
import { OPENSSL, testCerts } from "./_certs.ts";

const skip = !have(OPENSSL) && "openssl not installed";

function isTlsError(code: string, file?: string, message?: RegExp) {
  return (e: TlsError) => {
    assert.ok(e instanceof TlsError, String(e));
    assert.equal(e.code, code);
    if (file !== undefined) assert.equal(e.file, file);
    if (message) assert.match(e.message, message);
    return true;
  };
}

describe("CertificateStore", { skip }, () => {
  it("CertificateStore.select prefers an exact name, then a one-label wildcard, then the default", async () => {
    const c = testCerts();
    const store = await new CertificateStore({
      cert: c.server.cert,
      key: c.server.key,
      hosts: [
        { names: ["other.test", "Alias.Test."], cert: c.other.certPath, key: c.other.keyPath },
        { names: "*.wild.test", cert: c.wild.cert, key: c.wild.key },
        { names: "exact.wild.test", cert: c.other.cert, key: c.other.key },
      ],
    }).load();
    const [main, other, wild] = store.identities();
    assert.equal(store.select(undefined), main);
    assert.equal(store.select(""), main);
    assert.equal(store.select("OTHER.test"), other);
    assert.equal(store.select("alias.test"), other);
    assert.equal(store.select("a.wild.test"), wild);
    assert.equal(store.select("exact.wild.test"), store.identities()[3]);
    assert.equal(store.select("wild.test"), main);
    assert.equal(store.select("x.a.wild.test"), main);
    assert.equal(store.select("nowhere"), main);
    const hosts = store.hosts();
    assert.deepEqual(hosts.map((h) => h.names), [
      [],
      ["other.test", "alias.test"],
      ["*.wild.test"],
      ["exact.wild.test"],
    ]);
    assert.deepEqual(hosts[1]!.files, [c.other.certPath, c.other.keyPath]);
    assert.equal(hosts[2]!.certificate?.subject, "CN=*.wild.test, O=netstreams tests");
    assert.equal(hosts[0]!.expired, false);
  });

  it("CertificateStore uses the first host as the default when no top-level certificate is given", async () => {
    const c = testCerts();
    const store = await new CertificateStore({
      hosts: [{ names: "other.test", cert: c.other.cert, key: c.other.key }],
    }).load();
    assert.equal(store.select("unknown"), store.identities()[0]);
  });

  it("CertificateStore rejects bad host names and empty configurations with TypeError", () => {
    const c = testCerts();
    for (const names of ["", "a.*.test", "*", "*.", "**.test", []]) {
      assert.throws(
        () => new CertificateStore({ hosts: [{ names, cert: c.other.cert, key: c.other.key }] }),
        TypeError,
        String(names),
      );
    }
    assert.throws(() => new CertificateStore({}), TypeError);
    assert.throws(() => new CertificateStore({ cert: c.server.cert }).select("x"), TypeError);
  });

  it("CertificateStore.load names the file that is missing, a directory, or not a key", async () => {
    const c = testCerts();
    const missing = join(c.dir, "missing.pem");
    await assert.rejects(
      new CertificateStore({ cert: missing, key: c.server.keyPath }).load(),
      isTlsError("ERR_TLS_CERT", missing, /missing\.pem/),
    );
    await assert.rejects(
      new CertificateStore({ cert: c.server.certPath, key: c.dir }).load(),
      isTlsError("ERR_TLS_CERT", c.dir),
    );
    const notKey = join(c.dir, "not-a-key.pem");
    writeFileSync(notKey, "hello\n");
    await assert.rejects(
      new CertificateStore({ cert: c.server.certPath, key: notKey }).load(),
      isTlsError("ERR_TLS_CERT", notKey, /No PEM private key/),
    );
    await assert.rejects(
      new CertificateStore({ cert: notKey, key: c.server.keyPath }).load(),
      isTlsError("ERR_TLS_CERT", notKey, /No PEM certificate/),
    );
  });

  it("loadCertificate takes PEM text, PEM bytes, file paths and PFX bytes", async () => {
    const c = testCerts();
    const fromText = await loadCertificate({ cert: c.server.cert, key: c.server.key });
    assert.deepEqual(fromText.files, []);
    const fromBytes = await loadCertificate({
      cert: new TextEncoder().encode(c.server.cert),
      key: c.server.keyPath,
    });
    assert.equal(fromBytes.identity.cert, c.server.cert);
    assert.deepEqual(fromBytes.files, [c.server.keyPath]);
    const pfx = await loadCertificate({ pfx: c.pfx.bytes, passphrase: "secret" });
    assert.equal(pfx.identity.pfx, c.pfx.bytes);
    await assert.rejects(
      loadCertificate({ pfx: new Uint8Array([1, 2, 3]) }),
      isTlsError("ERR_TLS_CERT"),
    );
    await assert.rejects(loadCertificate({ cert: c.server.cert }), TypeError);
    await assert.rejects(loadCertificate({ pfx: c.pfx.bytes, cert: c.server.cert }), TypeError);
  });

  it("CertificateStore marks an expired certificate", async () => {
    const c = testCerts();
    const store = await new CertificateStore({
      cert: c.expiredServer.certPath,
      key: c.expiredServer.keyPath,
    }).load();
    assert.equal(store.hosts()[0]!.expired, true);
  });
});

describe("checkTlsOptions", () => {
  it("checkTlsOptions rejects bad values naming the option and the value", () => {
    const base = { cert: "x", key: "y" };
    assert.throws(() => checkTlsOptions({ ...base, mode: "auto" as never }), /tls\.mode.*auto/);
    assert.throws(
      () => checkTlsOptions({ ...base, clientCertificate: "yes" as never }),
      /clientCertificate.*yes/,
    );
    assert.throws(() => checkTlsOptions({ ...base, minVersion: "TLSv1.1" as never }), RangeError);
    assert.throws(
      () => checkTlsOptions({ ...base, minVersion: "TLSv1.3", maxVersion: "TLSv1.2" }),
      RangeError,
    );
    assert.throws(
      () => checkTlsOptions({ ...base, handshakeTimeout: 0 }),
      /handshakeTimeout.*current value is 0/,
    );
    assert.throws(() => checkTlsOptions({}), TypeError);
    checkTlsOptions({
      ...base,
      mode: "explicit",
      clientCertificate: "optional",
      handshakeTimeout: 1,
    });
  });
});
