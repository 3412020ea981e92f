/**
 * How the room's events read in a terminal: one line each, with the time,
 * so that `nc`, `telnet` and `socat` users need nothing but their terminal.
 *
 * @module
 */

import type { ChatEvent, UserInfo } from "./room.ts";
import { clock, MAX_TEXT } from "./text.ts";

/** Messages from the history shown to a terminal user who joins. */
export const HISTORY_LINES = 10;

const WHERE = { web: "browser", tcp: "terminal" } as const;

/** `alice (browser), bob (terminal)` */
export function userList(users: UserInfo[]): string {
  return users.map((u) => `${u.nick} (${WHERE[u.kind]})`).join(", ");
}

/**
 * The lines (without line ends) a terminal user called `self` sees for an
 * event; none for the live member list, which terminals ask for with /who.
 * Their own messages are not echoed back, except to say one was cut.
 */
export function eventLines(event: ChatEvent, self: string): string[] {
  switch (event.type) {
    case "welcome":
      return [
        `Welcome to the netstreams chat, ${event.nick}. People in a browser are here too.`,
        "Type a line and press Enter to talk; /nick NAME, /who, /quit.",
        `* here: ${userList(event.users)}`,
        ...event.history.slice(-HISTORY_LINES).flatMap((m) => eventLines(m, "")),
      ];
    case "message":
      if (event.nick === self) {
        return event.cut ? [`* your line was cut to ${MAX_TEXT} characters or the line limit`] : [];
      }
      return [`[${clock(event.time)}] ${event.nick}: ${event.text}${event.cut ? " (cut)" : ""}`];
    case "join":
      return [`[${clock(event.time)}] * ${event.nick} joined from a ${WHERE[event.kind]}`];
    case "leave":
      return [`[${clock(event.time)}] * ${event.nick} left`];
    case "nick":
      return [`[${clock(event.time)}] * ${event.from} is now ${event.nick}`];
    case "who":
      return [`* here: ${userList(event.users)}`];
    case "users":
      return [];
    case "notice":
      return [`* ${event.text}`];
    case "error":
      return [`! ${event.text}`];
  }
}
