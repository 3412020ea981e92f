/**
 * The page's files (public/), served on the WebSocket port through
 * `onRequest`. They are found next to this module with `import.meta.url`,
 * which works both from examples/chat/ and from the npm build's
 * esm/examples/chat/ (scripts/build_npm.ts copies non-TypeScript files).
 * Only the files listed here are served: no path from a request reaches
 * the file system.
 *
 * @module
 */

import { getRuntime } from "../../src/runtime/mod.ts";

const FILES: Record<string, [file: string, type: string]> = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/index.html": ["index.html", "text/html; charset=utf-8"],
  "/chat.css": ["chat.css", "text/css; charset=utf-8"],
  "/chat.js": ["chat.js", "text/javascript; charset=utf-8"],
  "/favicon.svg": ["favicon.svg", "image/svg+xml"],
};

/** The local path of a file in public/. */
export function publicFile(name: string): string {
  return decodeURIComponent(new URL(`./public/${name}`, import.meta.url).pathname);
}

/**
 * Headers for every response: no caching, no sniffing, and a content
 * security policy that lets the page load only its own files and open
 * WebSockets only to this server and to `connectTo` (the proxy).
 */
export function securityHeaders(connectTo: string[] = []): Record<string, string> {
  const connect = ["'self'", ...connectTo].join(" ");
  return {
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "content-security-policy": `default-src 'none'; script-src 'self'; style-src 'self'; ` +
      `img-src 'self'; connect-src ${connect}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  };
}

/** The response for a GET or HEAD of a known path, or undefined for any other path. */
export async function staticResponse(
  pathname: string,
  headers: Record<string, string>,
): Promise<Response | undefined> {
  const entry = Object.hasOwn(FILES, pathname) ? FILES[pathname] : undefined;
  if (entry === undefined) return undefined;
  const body = await (await getRuntime()).openFile(publicFile(entry[0]));
  return new Response(body, { headers: { ...headers, "content-type": entry[1] } });
}
