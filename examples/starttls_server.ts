/**
 * A tiny SMTP-like line server with STARTTLS: clients start in plaintext,
 * `STARTTLS` upgrades the connection (same id), then `WHO` tells what was
 * negotiated, including the client certificate if one was sent. Shows the
 * streams server's `tls` option in explicit mode, `conn.startTls()`,
 * `conn.tls`, certificates reloaded on demand (`RELOAD`), and
 * the SSLStatus-style log hook.
 *
 * Run:   deno run -A examples/starttls_server.ts CERT.pem KEY.pem [CA.pem] [port]
 *        (or: bun examples/starttls_server.ts ...)
 * Then:  openssl s_client -connect 127.0.0.1:7025 -starttls smtp -quiet   (type WHO)
 * Make a throwaway certificate:
 *   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 \
 *     -subj /CN=localhost -keyout key.pem -out cert.pem
 * Permissions: --allow-net (listen on 127.0.0.1), --allow-read (certificates).
 */

import { serve } from "../mod.ts";
import { args, onTerminate } from "../src/runtime/process.ts";

const [cert, key, ca, port = "7025"] = args();
if (!cert || !key) {
  console.error("usage: starttls_server.ts CERT.pem KEY.pem [CA.pem] [port]");
  throw new Error("missing certificate arguments");
}
const enc = new TextEncoder();
const dec = new TextDecoder();
const reply = (conn: { write(b: Uint8Array): boolean }, line: string) =>
  conn.write(enc.encode(line + "\r\n"));

const server = await serve({
  hostname: "127.0.0.1",
  port: Number(port),
  singleLineMode: true,
  banner: "220 localhost netstreams ESMTP demo",
  tls: {
    mode: "explicit",
    cert,
    key,
    ...(ca ? { ca, clientCertificate: "optional" as const } : {}),
  },
  onTlsStatus: (message, conn) => console.log(`[tls ${conn?.id ?? "-"}] ${message}`),
  onData(conn, bytes) {
    const [verb = ""] = dec.decode(bytes).trim().split(/\s+/);
    switch (verb.toUpperCase()) {
      case "EHLO":
        reply(conn, "250-localhost");
        return void reply(conn, conn.tls ? "250 HELP" : "250 STARTTLS");
      case "STARTTLS":
        if (conn.tls) return void reply(conn, "454 TLS already active");
        reply(conn, "220 Ready to start TLS");
        return void conn.startTls().catch((e) => console.log(`[tls ${conn.id}] ${e.message}`));
      case "WHO": {
        const t = conn.tls;
        if (!t) return void reply(conn, "250 plaintext");
        return void reply(
          conn,
          `250 ${t.protocol} ${t.cipher} client=${t.peerCertificate?.subject ?? "none"}`,
        );
      }
      case "RELOAD":
        return void server.certificates!.reload().then(
          () => reply(conn, "250 certificates reloaded"),
          (e) => reply(conn, `454 ${e.message}`),
        );
      case "QUIT":
        reply(conn, "221 bye");
        return void conn.close();
      default:
        reply(conn, "502 unknown command");
    }
  },
});
console.log(`listening on 127.0.0.1:${server.addr.port}`);
const off = onTerminate(async () => {
  off();
  await server.shutdown({ timeout: 2000 });
});
