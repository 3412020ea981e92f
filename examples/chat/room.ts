/**
 * The chat room, without any I/O: members join with a function that
 * delivers events to them, say things, change nicks, ask who is here and
 * leave. The TCP side and the WebSocket side are two ways of delivering the
 * same events (lines for terminals, JSON for the page).
 *
 * @module
 */

import { checkNick, cleanText } from "./text.ts";

/** How a member is connected: the page over WebSocket, or a terminal over TCP. */
export type MemberKind = "web" | "tcp";

/** A member as others see it. */
export interface UserInfo {
  /** The member's nick. */
  nick: string;
  /** How the member is connected. */
  kind: MemberKind;
}

/** Something said in the room. */
export interface SaidEvent {
  /** Always "message". */
  type: "message";
  /** Who said it. */
  nick: string;
  /** How the speaker is connected. */
  kind: MemberKind;
  /** The cleaned text. */
  text: string;
  /** True when the text was cut at `MAX_TEXT` characters or at the line limit. */
  cut: boolean;
  /** Milliseconds since the epoch. */
  time: number;
}

/** Everything the room tells a member. */
export type ChatEvent =
  | { type: "welcome"; nick: string; users: UserInfo[]; history: SaidEvent[] }
  | SaidEvent
  | { type: "join"; nick: string; kind: MemberKind; time: number }
  | { type: "leave"; nick: string; kind: MemberKind; time: number }
  | { type: "nick"; from: string; nick: string; kind: MemberKind; time: number }
  /** The member list after any change (the page keeps its list live with it). */
  | { type: "users"; users: UserInfo[] }
  /** The answer to `/who`, for the asking member only. */
  | { type: "who"; users: UserInfo[] }
  | { type: "notice"; text: string; time: number }
  | { type: "error"; text: string };

/** A member of the room, created by {@linkcode ChatRoom.join}. */
export interface Member {
  /** Unique within the room. */
  readonly id: number;
  /** The current nick. */
  readonly nick: string;
  /** How the member is connected. */
  readonly kind: MemberKind;
}

/** Options of {@linkcode ChatRoom}. */
export interface ChatRoomOptions {
  /** Messages kept for newcomers. @default {50} */
  historySize?: number;
  /** The clock, in milliseconds since the epoch. @default Date.now */
  now?: () => number;
}

/** What {@linkcode ChatRoom.input} asks the transport to do afterwards. */
export type InputResult = "quit" | undefined;

interface Entry extends Member {
  nick: string;
  deliver: (event: ChatEvent) => void;
}

const HELP = "commands: /nick NAME (change your name), /who (who is here), /quit (leave)";

/** The room: members, their nicks, and the recent messages. */
export class ChatRoom {
  readonly #members = new Map<number, Entry>();
  readonly #history: SaidEvent[] = [];
  readonly #historySize: number;
  readonly #now: () => number;
  #nextId = 1;
  #nextGuest = 1;

  /** Creates an empty room. */
  constructor(options: ChatRoomOptions = {}) {
    this.#historySize = options.historySize ?? 50;
    this.#now = options.now ?? Date.now;
  }

  /** Who is here, in order of arrival. */
  get users(): UserInfo[] {
    return [...this.#members.values()].map(({ nick, kind }) => ({ nick, kind }));
  }

  /** Number of members. */
  get size(): number {
    return this.#members.size;
  }

  /**
   * Adds a member with a free `guestN` nick. `deliver` gets the welcome
   * first, then every event meant for this member, synchronously; it must
   * not throw (a throw is caught and the member is removed).
   */
  join(kind: MemberKind, deliver: (event: ChatEvent) => void): Member {
    let nick: string;
    do nick = `guest${this.#nextGuest++}`; while (this.#find(nick));
    const entry: Entry = { id: this.#nextId++, nick, kind, deliver };
    this.#members.set(entry.id, entry);
    this.#send(entry, { type: "welcome", nick, users: this.users, history: [...this.#history] });
    this.#broadcast({ type: "join", nick, kind, time: this.#now() }, entry);
    this.#broadcast({ type: "users", users: this.users }, entry);
    return entry;
  }

  /** Removes a member (once; later calls do nothing) and tells the others. */
  leave(member: Member): void {
    const entry = this.#members.get(member.id);
    if (entry === undefined) return;
    this.#members.delete(member.id);
    this.#broadcast({ type: "leave", nick: entry.nick, kind: entry.kind, time: this.#now() });
    this.#broadcast({ type: "users", users: this.users });
  }

  /**
   * A line typed by a member: a command (`/nick NAME`, `/who`, `/quit`,
   * `/help`) or a message for everyone. `cut` says the transport already
   * cut the line. Returns "quit" when the member asked to leave (the
   * transport closes the connection, which calls {@linkcode leave}).
   */
  input(member: Member, line: string, cut = false): InputResult {
    const entry = this.#members.get(member.id);
    if (entry === undefined) return undefined;
    const trimmed = line.trim();
    if (trimmed.startsWith("/")) {
      const [command = "", ...rest] = trimmed.split(/\s+/);
      switch (command.toLowerCase()) {
        case "/nick":
          this.rename(member, rest.join(" "));
          return undefined;
        case "/who":
          this.#send(entry, { type: "who", users: this.users });
          return undefined;
        case "/quit":
          return "quit";
        case "/help":
          this.#send(entry, { type: "notice", text: HELP, time: this.#now() });
          return undefined;
        default:
          this.#error(entry, `unknown command ${cleanText(command, 20).text}; ${HELP}`);
          return undefined;
      }
    }
    this.say(member, line, cut);
    return undefined;
  }

  /** Sends a message to everyone (the sender included); empty text is ignored. */
  say(member: Member, text: string, cut = false): void {
    const entry = this.#members.get(member.id);
    if (entry === undefined) return;
    const clean = cleanText(text);
    if (clean.text === "") return;
    const event: SaidEvent = {
      type: "message",
      nick: entry.nick,
      kind: entry.kind,
      text: clean.text,
      cut: cut || clean.cut,
      time: this.#now(),
    };
    this.#history.push(event);
    if (this.#history.length > this.#historySize) this.#history.shift();
    this.#broadcast(event);
  }

  /** Changes a member's nick; a taken or invalid nick gets an error event instead. */
  rename(member: Member, wanted: string): void {
    const entry = this.#members.get(member.id);
    if (entry === undefined) return;
    const nick = checkNick(wanted);
    if (typeof nick !== "string") return this.#error(entry, `cannot change nick: ${nick.error}`);
    if (nick === entry.nick) return;
    const other = this.#find(nick);
    if (other !== undefined && other !== entry) {
      return this.#error(entry, `cannot change nick: ${nick} is taken`);
    }
    const from = entry.nick;
    entry.nick = nick;
    this.#broadcast({ type: "nick", from, nick, kind: entry.kind, time: this.#now() });
    this.#broadcast({ type: "users", users: this.users });
  }

  /** Tells a member what went wrong with their input (for example bad JSON from a page). */
  reject(member: Member, text: string): void {
    const entry = this.#members.get(member.id);
    if (entry !== undefined) this.#error(entry, text);
  }

  /** A line from the server to everyone (for example "shutting down"). */
  notice(text: string): void {
    this.#broadcast({ type: "notice", text, time: this.#now() });
  }

  #find(nick: string): Entry | undefined {
    const key = nick.toLowerCase();
    for (const m of this.#members.values()) if (m.nick.toLowerCase() === key) return m;
    return undefined;
  }

  #error(entry: Entry, text: string): void {
    this.#send(entry, { type: "error", text });
  }

  #broadcast(event: ChatEvent, except?: Entry): void {
    for (const m of [...this.#members.values()]) if (m !== except) this.#send(m, event);
  }

  #send(entry: Entry, event: ChatEvent): void {
    try {
      entry.deliver(event);
    } catch {
      this.leave(entry); // a transport that cannot deliver drops its member
    }
  }
}
