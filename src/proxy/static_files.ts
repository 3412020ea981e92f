/**
 * Static files for the plain HTTP requests of a WebSocket server (the
 * `onRequest` callback): what websockify's `--web DIR` does, so a web
 * client (noVNC, a chat page) is served from the proxy's own port. Paths
 * never leave the directory: dot segments are resolved by the URL parser,
 * and an encoded separator, backslash or NUL in a segment is refused.
 *
 * @module
 */

import type { HttpRequestInfo } from "../ws/_ws_host.ts";
import { getRuntime } from "../runtime/mod.ts";

/** Options of {@linkcode serveStatic}. */
export interface StaticFilesOptions {
  /** File served for a directory path ending in `/`. @default {"index.html"} */
  index?: string;
  /** Largest file served in bytes (responses are sent whole); larger ones get 500. @default {67108864} (64 MiB) */
  maxFileSize?: number;
  /** Extra or replacing content types by lower-case extension without the dot. */
  contentTypes?: Record<string, string>;
}

/** Content types by extension. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  htm: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json",
  map: "application/json",
  txt: "text/plain; charset=utf-8",
  xml: "application/xml",
  svg: "image/svg+xml",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  ico: "image/x-icon",
  wasm: "application/wasm",
  woff: "font/woff",
  woff2: "font/woff2",
  ttf: "font/ttf",
  pdf: "application/pdf",
};

/**
 * Maps a URL path to a path under `root`, or undefined when it must be
 * refused (a segment that decodes to `..`, `.`, or holds `/`, `\` or NUL,
 * or bad percent-encoding). Directory paths (ending in `/`) get `index`.
 *
 * @example Safe and unsafe paths
 * ```ts
 * import { resolveStaticPath } from "@netstreams/netstreams/proxy";
 * import { strictEqual } from "node:assert/strict";
 *
 * strictEqual(resolveStaticPath("/srv/web", "/app/ui.js"), "/srv/web/app/ui.js");
 * strictEqual(resolveStaticPath("/srv/web", "/"), "/srv/web/index.html");
 * strictEqual(resolveStaticPath("/srv/web", "/..%2f..%2fetc/passwd"), undefined);
 * ```
 */
export function resolveStaticPath(
  root: string,
  pathname: string,
  index = "index.html",
): string | undefined {
  if (!pathname.startsWith("/")) return undefined;
  const parts: string[] = [];
  const raw = pathname.slice(1).split("/");
  for (let i = 0; i < raw.length; i++) {
    const seg = raw[i]!;
    if (seg === "") {
      if (i === raw.length - 1) break; // trailing slash
      continue; // "//" collapses
    }
    let name: string;
    try {
      name = decodeURIComponent(seg);
    } catch {
      return undefined;
    }
    if (name === "." || name === ".." || /[\/\\\0]/.test(name)) return undefined;
    parts.push(name);
  }
  if (pathname.endsWith("/")) parts.push(index);
  const base = root.endsWith("/") ? root.slice(0, -1) : root;
  return `${base}/${parts.join("/")}`;
}

/** The content type for a file name, by its extension. */
export function contentTypeOf(path: string, extra?: Record<string, string>): string {
  const dot = path.lastIndexOf(".");
  const ext = dot > path.lastIndexOf("/") ? path.slice(dot + 1).toLowerCase() : "";
  return extra?.[ext] ?? CONTENT_TYPES[ext] ?? "application/octet-stream";
}

class TooLarge extends Error {}

async function readAll(path: string, max: number): Promise<Uint8Array> {
  const stream = await (await getRuntime()).openFile(path);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.length;
    if (total > max) {
      await stream.cancel().catch(() => {});
      throw new TooLarge();
    }
    chunks.push(chunk.slice());
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}

/**
 * Returns an `onRequest` handler that serves the files under `root`:
 * GET and HEAD (else 405), `index.html` for directories (a directory path
 * without its slash is redirected to it), content types by extension,
 * 404 for what does not exist, 403 for refused paths. Symbolic links are
 * followed.
 *
 * @example A proxy that also serves its web client
 * ```ts ignore
 * import { serveProxy, serveStatic } from "@netstreams/netstreams/proxy";
 * await serveProxy({ port: 6080, target: "127.0.0.1:5900", onRequest: serveStatic("./web") });
 * ```
 */
export function serveStatic(
  root: string,
  options: StaticFilesOptions = {},
): (request: Request, info?: HttpRequestInfo) => Promise<Response> {
  const index = options.index ?? "index.html";
  const max = options.maxFileSize ?? 64 * 1024 * 1024;
  if (typeof root !== "string" || root === "") {
    throw new TypeError(
      `Cannot serve static files as root must be a directory path: current value is ${
        String(root)
      }`,
    );
  }
  return async (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return text(405, "Method Not Allowed\n", { allow: "GET, HEAD" });
    }
    const url = new URL(request.url);
    const path = resolveStaticPath(root, url.pathname, index);
    if (path === undefined) return text(403, "Forbidden\n");
    let body: Uint8Array;
    try {
      body = await readAll(path, max);
    } catch (error) {
      if (error instanceof TooLarge) return text(500, `File larger than ${max} bytes\n`);
      // A directory named without its slash: redirect when it has an index.
      if (!url.pathname.endsWith("/")) {
        try {
          await readAll(`${path}/${index}`, max);
          return new Response(null, {
            status: 301,
            headers: { location: `${url.pathname}/${url.search}` },
          });
        } catch { /* not a directory with an index */ }
      }
      return text(404, "Not Found\n");
    }
    return new Response(body as Uint8Array<ArrayBuffer>, {
      status: 200,
      headers: {
        "content-type": contentTypeOf(path, options.contentTypes),
        "x-content-type-options": "nosniff",
        "cache-control": "no-cache",
      },
    });
  };
}
