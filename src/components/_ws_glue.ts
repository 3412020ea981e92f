/**
 * Internal: small translations between the library's WebSocket server and
 * the WsServer component's reference model.
 *
 * @module
 */

import { formatExtensions } from "../ws/extensions.ts";
import { WsProtocolError } from "../ws/errors.ts";
import type { WebSocketOpenRequest } from "../ws/open_request.ts";
import { codeOf, ServerError, statusOf } from "../net/errors.ts";
import { WebSocketOpenRequestEvent } from "./ws_events.ts";

/** Runs `fn` as a promise (the reference methods report failures the same way). */
export function attempt<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The Error event's code: a close code, a reference number, or a system status. */
export function errorCode(error: Error): number {
  if (error instanceof WsProtocolError) return error.closeCode;
  if (error instanceof ServerError) return error.code;
  const c = (error as { code?: unknown }).code;
  return typeof c === "number" ? c : statusOf(codeOf(error));
}

/** The WebSocketOpenRequest event for a request, with the reference's string fields. */
export function openRequestEvent(req: WebSocketOpenRequest): WebSocketOpenRequestEvent {
  const r = req.request;
  return new WebSocketOpenRequestEvent(
    req.connectionId,
    r.target,
    r.host ?? "",
    r.origin ?? "",
    req.protocols.join(", "),
    formatExtensions(req.extensions),
    r.rawHeaders.map(([n, v]) => `${n}: ${v}`).join("\r\n"),
  );
}

/** Applies what listeners changed: SubProtocols (the choice), ResponseHeaders lines, StatusCode. */
export function applyOpenRequestEvent(ev: WebSocketOpenRequestEvent, req: WebSocketOpenRequest): void {
  const chosen = ev.subProtocols.trim();
  if (chosen !== req.protocols.join(", ")) req.protocol = chosen || undefined;
  for (const line of ev.responseHeaders.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0) req.responseHeaders.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  if (ev.statusCode !== 101) req.status = ev.statusCode;
}
