/**
 * The first step of TLS over a native socket: read until the ClientHello
 * is complete, so the certificate can be chosen by its SNI name before the
 * TLS library starts (see `_client_hello.ts`), within the handshake deadline.
 *
 * @module
 */

import type { SocketHandlers } from "../net/types.ts";
import type { HandOverSocket } from "./_socket_duplex.ts";
import { peekClientHello } from "./_client_hello.ts";
import { abortedError, timeoutError } from "./_tls_handshake.ts";
import { TlsError } from "./errors.ts";
import { systemError } from "./_errors.ts";

/** Bytes read at most before giving up on finding the end of a ClientHello. */
const MAX_PEEK = 1 << 17;

/** Reads until the ClientHello is complete (or is clearly not one), within the deadline. */
export function readHello(
  socket: HandOverSocket,
  initial: Uint8Array | undefined,
  deadline: number,
  timeout: number,
  signal: AbortSignal | undefined,
): Promise<{ bytes: Uint8Array; servername: string | undefined }> {
  return new Promise((resolve, reject) => {
    let buf = new Uint8Array(
      initial !== undefined && initial.byteLength > 0 ? Math.max(initial.byteLength, 1024) : 1024,
    );
    let length = 0;
    let done = false;
    const append = (chunk: Uint8Array) => {
      if (length + chunk.byteLength > buf.byteLength) {
        const grown = new Uint8Array(Math.max(buf.byteLength * 2, length + chunk.byteLength));
        grown.set(buf.subarray(0, length));
        buf = grown;
      }
      buf.set(chunk, length);
      length += chunk.byteLength;
    };
    const onAbort = () => finish(abortedError(), true);
    const finish = (error?: Error, reset?: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (error === undefined) {
        socket.pause();
        const hello = peekClientHello(buf.subarray(0, length));
        resolve({ bytes: buf.subarray(0, length), servername: hello.servername });
        return;
      }
      if (reset) socket.abort();
      else socket.close();
      reject(error);
    };
    const check = () => {
      if (length >= MAX_PEEK || peekClientHello(buf.subarray(0, length)).complete) finish();
    };
    const closed = () =>
      finish(
        new TlsError("ERR_TLS_HANDSHAKE", "TLS handshake failed: the client closed the connection"),
      );
    const handlers: SocketHandlers = {
      data(chunk) {
        if (done) return;
        append(chunk);
        check();
      },
      end: closed,
      drain() {},
      close: closed,
    };
    const timer = setTimeout(
      () => finish(timeoutError(timeout), true),
      Math.max(0, deadline - Date.now()),
    );
    if (initial !== undefined) append(initial);
    if (!socket._takeOver(handlers)) {
      clearTimeout(timer);
      done = true;
      reject(
        systemError(
          "EPIPE",
          `Cannot start TLS with ${socket.remoteAddr.hostname}:${socket.remoteAddr.port}: the connection is closed`,
        ),
      );
      return;
    }
    check();
    if (done) return;
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.resume();
  });
}
