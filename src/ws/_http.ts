/**
 * Internal: HTTP/1.1 syntax shared by the handshake parser and the response
 * builders (RFC 9110 §5.6, RFC 9112).
 *
 * @module
 */

/** Whether `s` is a non-empty token (RFC 9110 §5.6.2). */
export function isToken(s: string): boolean {
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(s);
}

/** Whether `s` is a valid field value: no NUL, CR, LF or other controls but HTAB (RFC 9110 §5.5). */
export function isFieldValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) return false;
  }
  return true;
}

/** Elements of a comma-separated list, trimmed, empty ones dropped (RFC 9110 §5.6.1). */
export function splitList(value: string | null): string[] {
  if (value === null) return [];
  const out: string[] = [];
  for (const part of value.split(",")) {
    const t = part.trim();
    if (t !== "") out.push(t);
  }
  return out;
}

/** Whether the list `value` holds `token`, compared case-insensitively. */
export function hasToken(value: string | null, token: string): boolean {
  return splitList(value).some((t) => t.toLowerCase() === token);
}

/** Reason phrases of the statuses a WebSocket server answers with (RFC 9110 §15). */
export const REASONS: Record<number, string> = {
  101: "Switching Protocols",
  200: "OK",
  204: "No Content",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  426: "Upgrade Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

/** The WHATWG "latin1" decoder is windows-1252: exact except for bytes 0x80-0x9f. */
const WINDOWS_1252 = new TextDecoder("latin1");

/**
 * Bytes as a latin1 string (one char per byte), as HTTP field bytes are
 * kept. The decoder allocates only the string (a request head is parsed
 * per connection, so garbage here is memory per connection); heads with
 * bytes 0x80-0x9f, where windows-1252 differs, are converted by hand.
 */
export function latin1(bytes: Uint8Array): string {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b >= 0x80 && b < 0xa0) return latin1Slow(bytes);
  }
  return WINDOWS_1252.decode(bytes);
}

function latin1Slow(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096) as unknown as number[]);
  }
  return s;
}

/** A latin1 string as bytes; callers have checked every char is <= 0xff. */
export function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * The value of header `name` (lowercase), repeated lines joined with ", "
 * as `Headers.get` does; null when absent.
 */
export function headerField(rawHeaders: [string, string][], name: string): string | null {
  let value: string | null = null;
  for (const [n, v] of rawHeaders) {
    if (n.length === name.length && n.toLowerCase() === name) value = value === null ? v : `${value}, ${v}`;
  }
  return value;
}
