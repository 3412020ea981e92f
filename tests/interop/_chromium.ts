/**
 * Headless Chromium (Debian's /usr/bin/chromium) driven by `playwright-core`,
 * which loads in Deno, Bun and Node alike, with a fresh profile per launch.
 *
 * The page comes from a tiny HTTP server on 127.0.0.1 in the test process:
 * Chromium's Local Network Access checks refuse a `ws://127.0.0.1` connection
 * from `about:blank` (net::ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS), while a
 * loopback page may open loopback sockets, as a page served by the app would.
 */

import { type BrowserContext, chromium, type Page } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { CHROMIUM } from "./_servers.ts";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-quic",
  "--no-first-run",
  "--disable-sync",
];

/** A page on a loopback origin and the console messages it printed. */
export interface Browser {
  page: Page;
  /** Console messages of the page (Chromium reports handshake failures there). */
  console: string[];
  close(): Promise<void>;
}

/** Serves an empty page on 127.0.0.1 (no keep-alive, so `close` does not wait). */
async function servePage(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", connection: "close" });
    res.end("<!doctype html><title>netstreams interop</title>");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Launches Chromium with a temporary `--user-data-dir` (20 s limit); `close` removes it. */
export async function launchChromium(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), "netstreams-chromium-"));
  const site = await servePage();
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      timeout: 20_000,
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    await site.close();
    throw e;
  }
  const page = context.pages()[0] ?? await context.newPage();
  const console: string[] = [];
  page.on("console", (m) => console.push(m.text()));
  await page.goto(site.url, { timeout: 10_000 });
  return {
    page,
    console,
    close: async () => {
      try {
        await context.close();
      } finally {
        rmSync(profile, { recursive: true, force: true });
        await site.close();
      }
    },
  };
}
