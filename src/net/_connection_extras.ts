/**
 * The rarely used part of a connection's state, built on first use so an
 * idle connection stays small: TLS progress, the stream consumer, waiters
 * for room to write, the closed promise and close timer, held bytes.
 *
 * @module
 */

import type { Segment } from "../codec/types.ts";
import type { TlsInfo } from "./tls_types.ts";
import type { PushSource } from "./_push_readable.ts";
import type { CloseInfo } from "./_connection_types.ts";
import { codeOf, statusOf } from "./errors.ts";
import { concat } from "../codec/_carry.ts";

/** Where a connection is with TLS: plaintext, STARTTLS running, done, failed. */
export type TlsState = "none" | "handshaking" | "secure" | "failed";
type DrainWaiter = { resolve(): void; reject(e: unknown): void };

/** Rare per-connection state; every field starts empty (see {@linkcode Connection}). */
export class Extras {
  /** What the TLS handshake negotiated. */
  tls: TlsInfo | undefined = undefined;
  /** TLS progress. */
  tlsState: TlsState = "none";
  /** Bytes after the STARTTLS command that the framing core had not cut. */
  tlsRest: Uint8Array | undefined = undefined;
  /** The stream consumer's queue, once `readable` or `segments` is taken. */
  source: PushSource<Uint8Array> | PushSource<Segment> | undefined = undefined;
  /** The `writable` face, once taken. */
  writable: WritableStream<Uint8Array> | undefined = undefined;
  /** Callers of `ready` waiting for room. */
  drainWaiters: DrainWaiter[] | undefined = undefined;
  /** The `closed` promise, once asked for. */
  closedP: Promise<CloseInfo> | undefined = undefined;
  /** Settles {@linkcode Extras.closedP}. */
  resolveClosed: ((info: CloseInfo) => void) | undefined = undefined;
  /** How the connection closed, once it has. */
  info: CloseInfo | undefined = undefined;
  /** Resets a graceful close that takes longer than the server's `closeTimeout`. */
  closeTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Milliseconds with a stalled send queue, kept by the sweeper. */
  stalledFor = 0;
  /** Bytes flushed at the last sweep. */
  flushedAtSweep = 0;
  /** Bytes that arrived while paused, delivered on resume. */
  held: Uint8Array | undefined = undefined;
  /** The first failure, reported as the close reason. */
  closeError: Error | undefined = undefined;
  /** The framing core's emit callback, bound to its connection. */
  emitFn: ((bytes: Uint8Array, eol: boolean) => void) | undefined = undefined;

  /** The `closed` promise: settled already when the connection has closed. */
  closedPromise(): Promise<CloseInfo> {
    const info = this.info;
    return this.closedP ??= info !== undefined
      ? Promise.resolve(info)
      : new Promise((resolve) => (this.resolveClosed = resolve));
  }
  /** Records how the connection closed and settles the `closed` promise. */
  settle(info: CloseInfo): void {
    this.info = info;
    this.resolveClosed?.(info);
    this.resolveClosed = undefined;
  }
  /** A promise settled by {@linkcode Extras.releaseWaiters}. */
  addWaiter(): Promise<void> {
    return new Promise((resolve, reject) => (this.drainWaiters ??= []).push({ resolve, reject }));
  }
  /** Resolves the waiters, or rejects them with `error()` when given; false when there were none. */
  releaseWaiters(error?: () => Error): boolean {
    const waiters = this.drainWaiters;
    if (waiters === undefined) return false;
    this.drainWaiters = undefined;
    for (const w of waiters) error ? w.reject(error()) : w.resolve();
    return true;
  }
  /** Appends bytes that must wait (paused, or past a STARTTLS command); keeps a copy. */
  hold(bytes: Uint8Array): void {
    this.held = this.held ? concat(this.held, bytes) : bytes.slice();
  }
  /** Takes the held bytes out. */
  takeHeld(): Uint8Array | undefined {
    const held = this.held;
    this.held = undefined;
    return held;
  }
  /** Takes out what goes to the TLS layer first: `extra`, then the bytes cut off at the command, then held bytes. */
  takeTlsInitial(extra: Uint8Array | undefined): Uint8Array | undefined {
    let initial: Uint8Array | undefined = extra !== undefined && extra.length > 0
      ? extra.slice()
      : undefined;
    for (const part of [this.tlsRest, this.held]) {
      if (part !== undefined && part.length > 0) initial = initial ? concat(initial, part) : part;
    }
    this.tlsRest = undefined;
    this.held = undefined;
    return initial;
  }
}

/** The close report for a connection that ended with `err`, or normally. */
export function closeInfoOf(err: Error | undefined): CloseInfo {
  return err
    ? { code: statusOf(codeOf(err) ?? "ECONNABORTED"), reason: err.message, error: err }
    : { code: 0, reason: "OK" };
}
