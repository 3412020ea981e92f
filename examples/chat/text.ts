/**
 * What the chat accepts as a message and as a nick: text from a terminal or
 * a browser is cleaned before anyone else sees it (no control characters,
 * so no terminal escape sequences; no bidirectional overrides), cut to a
 * fixed length, and nicks follow one small rule.
 *
 * @module
 */

/** Longest message in characters (code points); longer ones are cut and marked. */
export const MAX_TEXT = 500;
/** Longest nick in characters. */
export const MAX_NICK = 20;

// C0 controls, DEL, C1 controls, and the bidirectional embedding/override/isolate marks.
// deno-lint-ignore no-control-regex
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/gu;
const NICK = /^[\p{L}\p{N}_.-]+$/u;

/** A message after cleaning: the text, and whether it was cut at {@linkcode MAX_TEXT}. */
export interface CleanText {
  /** The text without control characters, tabs as spaces, trimmed. */
  text: string;
  /** True when characters past {@linkcode MAX_TEXT} were dropped. */
  cut: boolean;
}

/** Removes control characters, turns tabs into spaces, trims, cuts at `max` code points. */
export function cleanText(input: string, max: number = MAX_TEXT): CleanText {
  const text = input.replace(UNSAFE, "").replaceAll("\t", " ").trim();
  const chars = Array.from(text);
  if (chars.length <= max) return { text, cut: false };
  return { text: chars.slice(0, max).join("").trimEnd(), cut: true };
}

/**
 * Checks a wanted nick: returns the nick, or the reason it cannot be used
 * (`{ error }`). Letters, digits, `_`, `.` and `-`, 1 to {@linkcode MAX_NICK}.
 */
export function checkNick(input: string): string | { error: string } {
  const nick = cleanText(input, MAX_NICK + 1).text;
  if (nick === "") return { error: "a nick needs at least one letter or digit" };
  if (Array.from(nick).length > MAX_NICK) {
    return { error: `a nick has at most ${MAX_NICK} characters` };
  }
  if (!NICK.test(nick)) return { error: "a nick may hold letters, digits, _ . and - only" };
  return nick;
}

/** `HH:MM` of a time in milliseconds, in the server's time zone. */
export function clock(time: number): string {
  const d = new Date(time);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}
