/**
 * The open-request hook's view of a WebSocket upgrade request (reference:
 * WebSocketOpenRequest: RequestURI, HostHeader, OriginHeader, SubProtocols,
 * Extensions, RequestHeaders; writable StatusCode, ResponseHeaders).
 *
 * @module
 */

import type { NetAddr } from "../net/types.ts";
import type { ExtensionOffer } from "./extensions.ts";
import type { HttpRequest } from "./handshake.ts";
import type { HeaderList } from "./handshake_response.ts";
import type { PerMessageDeflateOptions } from "./permessage_deflate.ts";
import type { WebSocketConnection } from "./ws_connection.ts";

/** Options of {@linkcode WebSocketOpenRequest.reject}. */
export interface RejectOptions {
  /** Response headers, for example `WWW-Authenticate`. */
  headers?: HeaderList;
  /** Response body; a string is sent as UTF-8 text. @default {""} */
  body?: string | Uint8Array;
}

/** Options of {@linkcode WebSocketOpenRequest.accept}. */
export interface AcceptOptions {
  /** The subprotocol to answer with; it must be one the client offered. */
  protocol?: string;
  /** More headers for the `101` response, for example `Set-Cookie`. */
  headers?: HeaderList;
}

/**
 * A client's request to open a WebSocket, passed to `onOpenRequest`. It is
 * accepted unless the hook rejects it: set {@linkcode status} to an HTTP
 * status (or call {@linkcode reject}) to refuse, set {@linkcode protocol}
 * to pick a subprotocol, add {@linkcode responseHeaders}.
 *
 * @example Require a token, else answer 401 with a challenge
 * ```ts ignore
 * import { serveWs } from "@netstreams/netstreams/ws";
 * const server = await serveWs({
 *   port: 0,
 *   onOpenRequest(req) {
 *     if (req.headers.get("authorization") !== "Bearer secret") {
 *       req.reject(401, { headers: { "WWW-Authenticate": 'Bearer realm="chat"' } });
 *     }
 *   },
 * });
 * ```
 */
export class WebSocketOpenRequest {
  /** The connection being opened (CONNECTING); set `connection.data` to keep per-client state. */
  readonly connection: WebSocketConnection;
  /** The parsed request head. */
  readonly request: HttpRequest;
  /**
   * HTTP status to answer with: 101 (the default) accepts; anything else
   * (200-599) refuses with that status (reference: StatusCode).
   */
  status = 101;
  /**
   * The subprotocol to answer with: preselected as the first of the
   * server's `protocols` the client offered; undefined for none.
   */
  protocol: string | undefined;
  #headers: Headers | undefined = undefined;
  /** Body of a refusal response. @default {""} */
  body: string | Uint8Array = "";
  /**
   * permessage-deflate for this connection (RFC 7692), when the client
   * offered it: true negotiates with the server's `perMessageDeflate`
   * policy (none when the server's is false); false declines the offer
   * (for example for a client known to send only compressed media, or to
   * save memory for this one); an options object negotiates with those
   * options over the server's policy (or the defaults), for example
   * `{ serverNoContextTakeover: true, threshold: 1024 }`. Bad options
   * refuse the request with 500 and an `onError` report.
   * @default {true}
   */
  perMessageDeflate: boolean | PerMessageDeflateOptions = true;

  /** @internal Created by the server for each upgrade request. */
  constructor(connection: WebSocketConnection, request: HttpRequest, serverProtocols: string[]) {
    this.connection = connection;
    this.request = request;
    const offered = request.webSocket?.protocols ?? [];
    this.protocol = pickProtocol(serverProtocols, offered);
  }

  /** Headers added to the response, 101 or refusal (reference: ResponseHeaders). */
  get responseHeaders(): Headers {
    return this.#headers ??= new Headers();
  }
  /** @internal The response headers when any were added. */
  get _headers(): Headers | undefined {
    return this.#headers;
  }

  /** The connection id (reference: ConnectionId). */
  get connectionId(): string {
    return this.connection.id;
  }
  /** The request target as sent, for example `/chat?room=1` (reference: RequestURI). */
  get url(): string {
    return this.request.target;
  }
  /** The target's path. */
  get path(): string {
    return this.request.path;
  }
  /** The target's query without `?`. */
  get query(): string {
    return this.request.query;
  }
  /** The `Host` header (reference: HostHeader). */
  get host(): string | undefined {
    return this.request.host;
  }
  /** The `Origin` header, sent by browsers (reference: OriginHeader). */
  get origin(): string | undefined {
    return this.request.origin;
  }
  /** Subprotocols the client offered, in its order (reference: SubProtocols). */
  get protocols(): string[] {
    return this.request.webSocket?.protocols ?? [];
  }
  /**
   * Extensions the client offered (reference: Extensions); permessage-deflate
   * is negotiated by the server per its policy and {@linkcode perMessageDeflate}.
   */
  get extensions(): ExtensionOffer[] {
    return this.request.webSocket?.extensions ?? [];
  }
  /** All request headers (reference: RequestHeaders). */
  get headers(): Headers {
    return this.request.headers;
  }
  /** The client's address. */
  get remoteAddr(): NetAddr {
    return this.connection.remoteAddr;
  }

  /** Accepts (the default), optionally with a subprotocol and extra headers. */
  accept(options: AcceptOptions = {}): void {
    this.status = 101;
    if (options.protocol !== undefined) this.protocol = options.protocol;
    for (const [name, value] of headerPairs(options.headers)) this.responseHeaders.append(name, value);
  }

  /**
   * Refuses with `status` (200-599), optional headers and body. Throws
   * `RangeError` for another status.
   */
  reject(status: number, options: RejectOptions = {}): void {
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new RangeError(
        `Cannot reject the WebSocket request as status must be an integer 200-599: current value is ${status}`,
      );
    }
    this.status = status;
    for (const [name, value] of headerPairs(options.headers)) this.responseHeaders.append(name, value);
    if (options.body !== undefined) this.body = options.body;
  }
}

/** The first of the server's protocols the client offered. */
export function pickProtocol(server: string[], offered: string[]): string | undefined {
  if (server.length === 0 || offered.length === 0) return undefined;
  return server.find((p) => offered.includes(p));
}

function headerPairs(headers: HeaderList | undefined): Iterable<readonly [string, string]> {
  if (headers === undefined) return [];
  if (headers instanceof Headers || Symbol.iterator in headers) {
    return headers as Iterable<readonly [string, string]>;
  }
  return Object.entries(headers);
}
