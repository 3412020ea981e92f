/**
 * What the page may send over its WebSocket: JSON objects in text
 * messages, checked here before the room sees them. Anything else gets an
 * error event back; the connection stays open.
 *
 * @module
 */

/** A checked message from the page. */
export type ClientMessage =
  | { type: "say"; text: string }
  | { type: "nick"; nick: string }
  | { type: "who" };

/** Longest field the page may send, in UTF-16 code units (the room cuts messages shorter). */
const MAX_FIELD = 4096;

/** Parses a text message from the page; returns the message or `{ error }` saying what is wrong. */
export function parseClientMessage(text: string): ClientMessage | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: "bad message: not JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { error: "bad message: expected an object with a type" };
  }
  const m = value as Record<string, unknown>;
  const field = (name: string): string | undefined => {
    const v = m[name];
    return typeof v === "string" && v.length <= MAX_FIELD ? v : undefined;
  };
  switch (m.type) {
    case "say": {
      const said = field("text");
      return said === undefined
        ? { error: "bad message: say needs a text string" }
        : { type: "say", text: said };
    }
    case "nick": {
      const nick = field("nick");
      return nick === undefined
        ? { error: "bad message: nick needs a nick string" }
        : { type: "nick", nick };
    }
    case "who":
      return { type: "who" };
    default:
      return { error: `bad message: unknown type ${JSON.stringify(m.type)?.slice(0, 40)}` };
  }
}
