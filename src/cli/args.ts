/**
 * A small, strict command-line parser: `--name value`, `--name=value`, flags,
 * repeated options. Unknown options are errors.
 *
 * @module
 */

/** How one option is read. */
export interface OptionSpec {
  /** "string" takes a value, "boolean" is a flag. */
  type: "string" | "boolean";
  /** Several occurrences collect into an array. @default false */
  multiple?: boolean;
}

/** Parsed options by name, and the positional arguments. */
export interface ParsedArgs {
  /** Options by name: string, boolean, or string[] when `multiple`. */
  options: Record<string, string | boolean | string[]>;
  /** Arguments that are not options. */
  positionals: string[];
}

/** Thrown for a bad command line; the CLI prints the message and exits with 2. */
export class UsageError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Parses `argv` against `spec`. */
export function parseArgs(argv: string[], spec: Record<string, OptionSpec>): ParsedArgs {
  const options: ParsedArgs["options"] = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--") || arg === "--") {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const s = spec[name];
    if (!s) throw new UsageError(`Unknown option --${name}`);
    let value: string | boolean;
    if (s.type === "boolean") {
      if (eq >= 0) throw new UsageError(`Option --${name} takes no value`);
      value = true;
    } else if (eq >= 0) value = arg.slice(eq + 1);
    else {
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`Option --${name} needs a value`);
      value = next;
    }
    if (s.multiple) ((options[name] ??= []) as string[]).push(String(value));
    else options[name] = value;
  }
  return { options, positionals };
}

/** Reads an integer option in [min, max], written as decimal digits; undefined when absent. */
export function intOption(
  options: ParsedArgs["options"],
  name: string,
  min: number,
  max: number,
): number | undefined {
  return numberOption(options, name, min, max, /^\d+$/, `an integer ${min}-${max}`);
}

/**
 * Reads a number of seconds in [min, max], written as a decimal number such as
 * `30` or `0.5`; undefined when absent.
 */
export function secondsOption(
  options: ParsedArgs["options"],
  name: string,
  min: number,
  max: number,
): number | undefined {
  const what = `a number of seconds ${min}-${max} such as 30 or 0.5`;
  return numberOption(options, name, min, max, /^\d+(\.\d+)?$/, what);
}

/** An option written as `pattern` (no signs, spaces or other bases), in [min, max]. */
function numberOption(
  options: ParsedArgs["options"],
  name: string,
  min: number,
  max: number,
  pattern: RegExp,
  what: string,
): number | undefined {
  const v = options[name];
  if (v === undefined) return undefined;
  const n = typeof v === "string" && pattern.test(v) ? Number(v) : NaN;
  if (!(n >= min && n <= max)) {
    throw new UsageError(`Option --${name} must be ${what}: got "${String(v)}"`);
  }
  return n;
}

/** Turns `\r`, `\n`, `\t`, `\0`, `\\` and `\xHH` escapes into characters. */
export function unescape(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{2}|[rnt0\\])/g, (_m, e: string) => {
    if (e[0] === "x") return String.fromCharCode(parseInt(e.slice(1), 16));
    return ({ r: "\r", n: "\n", t: "\t", "0": "\0", "\\": "\\" } as Record<string, string>)[e]!;
  });
}
