/**
 * Reads certificate, key and CA files through the runtime adapter, turning
 * failures into {@linkcode TlsError}s that name the file.
 *
 * @module
 */

import { getRuntime, TlsError } from "../runtime/mod.ts";

/** Reads a whole file; `what` ("key", "certificate", ...) goes into the message. */
export async function readFileBytes(path: string, what: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    const stream = await (await getRuntime()).openFile(path);
    for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
      chunks.push(chunk);
      total += chunk.byteLength;
    }
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const reason = typeof code === "string" ? code : undefined;
    throw new TlsError(
      "ERR_TLS_CERT",
      `Cannot read the TLS ${what} file ${path}: ${reason ?? (err as Error).message}` +
        (reason === "ENOENT"
          ? " (no such file)"
          : reason === "EACCES"
          ? " (permission denied)"
          : ""),
      { file: path, reason, cause: err },
    );
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** Reads a text file (UTF-8). */
export async function readFileText(path: string, what: string): Promise<string> {
  return new TextDecoder().decode(await readFileBytes(path, what));
}
