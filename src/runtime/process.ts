/**
 * Process-level runtime APIs the command-line tool needs: arguments, signals
 * and exit. The only place besides the adapters that touches `Deno.*` or
 * `process`.
 *
 * @module
 */

interface DenoProcess {
  args: string[];
  addSignalListener(signal: string, handler: () => void): void;
  removeSignalListener(signal: string, handler: () => void): void;
  exit(code?: number): never;
}

interface NodeProcess {
  argv: string[];
  on(event: string, handler: () => void): void;
  off(event: string, handler: () => void): void;
  exit(code?: number): never;
  exitCode?: number;
}

const deno = (globalThis as { Deno?: DenoProcess }).Deno;
const proc = (globalThis as { process?: NodeProcess }).process;

/** Command-line arguments after the script name. */
export function args(): string[] {
  if (deno) return [...deno.args];
  return proc ? proc.argv.slice(2) : [];
}

/** Calls `handler` once on SIGINT or SIGTERM; returns a function that removes it. */
export function onTerminate(handler: (signal: string) => void): () => void {
  const signals = ["SIGINT", "SIGTERM"];
  const listeners = signals.map((s) => {
    const fn = () => handler(s);
    if (deno) deno.addSignalListener(s, fn);
    else proc?.on(s, fn);
    return fn;
  });
  return () => {
    signals.forEach((s, i) => {
      const fn = listeners[i]!;
      if (deno) deno.removeSignalListener(s, fn);
      else proc?.off(s, fn);
    });
  };
}

/** Ends the process with `code`. */
export function exit(code: number): never {
  if (deno) deno.exit(code);
  if (proc) proc.exit(code);
  throw new Error(`exit ${code}`);
}

/**
 * True when the module with this `import.meta` is the program's entry point:
 * `import.meta.main` on Deno and Bun; on Node (which lacks it before 24) the
 * resolved script path is compared, following the npm bin symlink.
 */
export function isMain(meta: ImportMeta): boolean {
  const m = (meta as { main?: boolean }).main;
  if (typeof m === "boolean") return m;
  const file = (meta as { filename?: string }).filename;
  const script = proc?.argv[1];
  if (!file || !script) return false;
  const get = (proc as { getBuiltinModule?: (id: string) => unknown } | undefined)
    ?.getBuiltinModule;
  const fs = get?.("node:fs") as { realpathSync(p: string): string } | undefined;
  try {
    return fs ? fs.realpathSync(script) === fs.realpathSync(file) : script === file;
  } catch {
    return false;
  }
}
