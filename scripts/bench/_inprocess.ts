// _inprocess.ts: what the in-process harnesses (inprocess_bun.ts,
// inprocess_deno.ts) share: the chunk of lines they feed and the line echo
// server they measure, loaded from a checkout's root.
import path from "node:path";

/** `perChunk` 64-byte lines ending in CRLF, in one chunk. */
export function lineChunk(perChunk: number): Uint8Array {
  const c = new Uint8Array(64 * perChunk).fill(0x78);
  for (let i = 0; i < perChunk; i++) c.set([13, 10], i * 64 + 62);
  return c;
}

interface EchoConn {
  connected: boolean;
  writeLine(b: Uint8Array): boolean;
  pause(): void;
  resume(): void;
}

/** Starts `tcp-echo --lines` as the CLI does it, with the checkout at `root`, on the (faked) runtime listener. */
export async function serveLineEcho(root: string): Promise<void> {
  const { serve } = await import(path.join(root, "mod.ts"));
  await serve({
    hostname: "127.0.0.1",
    port: 7000,
    singleLineMode: true,
    onData: (conn: EchoConn, bytes: Uint8Array) => {
      if (conn.connected && !conn.writeLine(bytes)) conn.pause();
    },
    onDrain: (conn: EchoConn) => conn.resume(),
  });
}
