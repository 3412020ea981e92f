/**
 * The terminal side of the chat: a line-mode TCP server (`serve` from
 * src/net) where each connection is a room member. Lines longer than
 * `maxLineLength` bytes are cut: the first piece is said with a "(cut)"
 * mark and the rest of that line is dropped, so memory stays bounded.
 *
 * @module
 */

import { type Connection, serve, type Server } from "../../src/net/mod.ts";
import type { ChatEvent, ChatRoom, Member } from "./room.ts";
import { eventLines } from "./tcp_lines.ts";

/** Options of {@linkcode serveTcpChat}. */
export interface TcpChatOptions {
  /** Address to listen on. @default "127.0.0.1" */
  hostname?: string;
  /** TCP port, 0 = any free port. @default 7000 */
  port?: number;
  /** Longest line in bytes (>= 256); longer lines are cut. @default 1024 */
  maxLineLength?: number;
  /** Most terminal users at once. @default 100 */
  maxConnections?: number;
}

interface TcpMember {
  /** Set right after joining (the welcome is delivered before). */
  member: Member | undefined;
  /** Dropping the rest of a line that was cut. */
  skipping: boolean;
  /** Writes are being gathered until the current task ends. */
  corked: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder(); // replaces invalid UTF-8 with U+FFFD

/**
 * Writes the event's lines; a client too slow to take them (256 KiB queued)
 * is dropped. Lines delivered in one task (a page's burst of messages read
 * at once) go out in one write per terminal: cork now, uncork after the task.
 */
function deliver(conn: Connection, state: TcpMember, event: ChatEvent): void {
  const lines = eventLines(event, state.member?.nick ?? "");
  if (lines.length === 0 || !conn.connected) return;
  if (!state.corked) {
    state.corked = true;
    conn.cork();
    queueMicrotask(() => {
      state.corked = false;
      conn.uncork();
    });
  }
  try {
    conn.write(encoder.encode(lines.join("\r\n") + "\r\n"));
  } catch (error) {
    void conn.abort(); // ServerError 135: the peer does not read
    throw error; // the room removes the member
  }
}

/** Starts the TCP line server of the chat on `room`. */
export function serveTcpChat(room: ChatRoom, options: TcpChatOptions = {}): Promise<Server> {
  const maxLineLength = options.maxLineLength ?? 1024;
  return serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 7000,
    singleLineMode: true,
    maxLineLength,
    maxConnections: options.maxConnections ?? 100,
    tooBusyBanner: "Sorry, the chat is full. Try again later.",
    idleTimeout: 30 * 60_000,
    maxWriteBuffer: 256 * 1024,
    closeTimeout: 2000,
    onConnection(conn) {
      const state: TcpMember = { member: undefined, skipping: false, corked: false };
      state.member = room.join("tcp", (event) => deliver(conn, state, event));
      conn.data = state;
    },
    onData(conn, bytes, eol) {
      const state = conn.data as TcpMember;
      if (!conn.connected) return; // after /quit, the rest of the batch is not said
      if (state.skipping) {
        state.skipping = !eol;
        return;
      }
      // A piece without its line end is either cut (full length) or the end of input.
      const cut = !eol && bytes.length >= maxLineLength;
      state.skipping = cut;
      if (room.input(state.member!, decoder.decode(bytes), cut) === "quit") {
        conn.write(encoder.encode("bye\r\n"));
        void conn.close();
      }
    },
    onDisconnect(conn) {
      const state = conn.data as TcpMember | undefined;
      if (state?.member !== undefined) room.leave(state.member);
    },
    onError() {
      // Resets and timeouts of single clients are normal in a chat.
    },
  });
}
