/**
 * The chat demo's pure parts (examples/chat/): the room, text cleaning,
 * nick rules, the page's message parsing and the terminal's line format.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChatEvent, ChatRoom, type MemberKind } from "../../examples/chat/room.ts";
import { checkNick, cleanText, MAX_TEXT } from "../../examples/chat/text.ts";
import { parseClientMessage } from "../../examples/chat/web_messages.ts";
import { eventLines } from "../../examples/chat/tcp_lines.ts";

const T = Date.UTC(2026, 0, 2, 3, 4);

/** A room with members that record what they receive. */
function room(options: { historySize?: number } = {}) {
  const r = new ChatRoom({ now: () => T, ...options });
  const join = (kind: MemberKind = "tcp") => {
    const got: ChatEvent[] = [];
    const member = r.join(kind, (e) => got.push(e));
    const of = <K extends ChatEvent["type"]>(type: K) =>
      got.filter((e): e is Extract<ChatEvent, { type: K }> => e.type === type);
    return { member, got, of };
  };
  return { r, join };
}

describe("ChatRoom", () => {
  it("ChatRoom welcomes with a free guest nick, the users and the history", () => {
    const { r, join } = room();
    const a = join("web");
    r.say(a.member, "first");
    const b = join("tcp");
    const [welcome] = b.of("welcome");
    assert.equal(welcome?.nick, "guest2");
    assert.deepEqual(welcome?.users, [{ nick: "guest1", kind: "web" }, {
      nick: "guest2",
      kind: "tcp",
    }]);
    assert.deepEqual(welcome?.history.map((m) => m.text), ["first"]);
    assert.deepEqual(a.of("join").map((e) => [e.nick, e.kind]), [["guest2", "tcp"]]);
    assert.equal(a.of("users").at(-1)?.users.length, 2);
    assert.equal(b.of("join").length, 0, "no join event about oneself");
  });

  it("ChatRoom skips guest nicks someone took", () => {
    const { r, join } = room();
    const a = join(); // guest1
    r.rename(a.member, "guest2");
    assert.equal(join().member.nick, "guest3");
  });

  it("ChatRoom refuses a nick another member has, in any case", () => {
    const { r, join } = room();
    const a = join();
    const b = join();
    r.rename(a.member, "Alice");
    r.rename(b.member, "alice");
    assert.equal(b.member.nick, "guest2");
    assert.match(b.of("error")[0]!.text, /alice is taken/);
    assert.equal(a.of("error").length, 0);
    r.rename(a.member, "ALICE"); // one's own nick in another case is fine
    assert.equal(a.member.nick, "ALICE");
    assert.deepEqual(b.of("nick").map((e) => [e.from, e.nick]), [["guest1", "Alice"], [
      "Alice",
      "ALICE",
    ]]);
  });

  it("ChatRoom refuses nicks with spaces, markup or over 20 characters", () => {
    const { r, join } = room();
    const a = join();
    for (const bad of ["", "two words", "<b>x</b>", "x".repeat(21), "a/b"]) r.rename(a.member, bad);
    assert.equal(a.member.nick, "guest1");
    assert.equal(a.of("error").length, 5);
    r.rename(a.member, "Zoë_2.0-x");
    assert.equal(a.member.nick, "Zoë_2.0-x");
  });

  it("ChatRoom answers /who to the asker only, with every member", () => {
    const { r, join } = room();
    const a = join("web");
    const b = join("tcp");
    r.input(b.member, "/who");
    assert.deepEqual(b.of("who")[0]?.users, [{ nick: "guest1", kind: "web" }, {
      nick: "guest2",
      kind: "tcp",
    }]);
    assert.equal(a.of("who").length, 0);
  });

  it("ChatRoom runs /nick, /help and /quit and reports unknown commands", () => {
    const { r, join } = room();
    const a = join();
    assert.equal(r.input(a.member, "/nick  bob "), undefined);
    assert.equal(a.member.nick, "bob");
    r.input(a.member, "/help");
    assert.match(a.of("notice")[0]!.text, /\/nick NAME/);
    r.input(a.member, "/frobnicate now");
    assert.match(a.of("error")[0]!.text, /unknown command \/frobnicate/);
    assert.equal(r.input(a.member, "/QUIT"), "quit");
    assert.equal(a.of("message").length, 0, "commands are not said");
  });

  it("ChatRoom cuts long messages at MAX_TEXT characters and marks them", () => {
    const { r, join } = room();
    const a = join();
    r.say(a.member, "é".repeat(MAX_TEXT + 50));
    const [m] = a.of("message");
    assert.equal(Array.from(m!.text).length, MAX_TEXT);
    assert.equal(m!.cut, true);
    r.say(a.member, "short", true); // cut by the transport
    assert.equal(a.of("message")[1]!.cut, true);
    r.say(a.member, "fine");
    assert.equal(a.of("message")[2]!.cut, false);
  });

  it("ChatRoom removes control characters and ignores empty messages", () => {
    const { r, join } = room();
    const a = join();
    r.say(a.member, "\x1b[2J\x07 hi\tthere\u202e\x00 ");
    r.say(a.member, " \x1b \r\n ");
    assert.deepEqual(a.of("message").map((m) => m.text), ["[2J hi there"]);
  });

  it("ChatRoom keeps HTML as text: the page puts it in with textContent", () => {
    const { r, join } = room();
    const a = join();
    r.say(a.member, "<img src=x onerror=alert(1)>");
    assert.equal(a.of("message")[0]!.text, "<img src=x onerror=alert(1)>");
  });

  it("ChatRoom keeps historySize messages for newcomers", () => {
    const { r, join } = room({ historySize: 3 });
    const a = join();
    for (let i = 0; i < 10; i++) r.say(a.member, `m${i}`);
    assert.deepEqual(join().of("welcome")[0]!.history.map((m) => m.text), ["m7", "m8", "m9"]);
  });

  it("ChatRoom drops a member whose delivery throws and tells the others", () => {
    const { r, join } = room();
    const a = join();
    let fail = false;
    r.join("web", () => {
      if (fail) throw new Error("peer does not read");
    });
    fail = true;
    r.say(a.member, "hello");
    assert.equal(r.size, 1);
    assert.deepEqual(a.of("leave").map((e) => e.nick), ["guest2"]);
    assert.equal(a.of("message").length, 1);
  });

  it("ChatRoom ignores a member after it left", () => {
    const { r, join } = room();
    const a = join();
    const b = join();
    r.leave(b.member);
    r.leave(b.member);
    r.say(b.member, "ghost");
    r.input(b.member, "/who");
    assert.equal(a.of("leave").length, 1);
    assert.equal(a.of("message").length, 0);
    assert.deepEqual(r.users, [{ nick: "guest1", kind: "tcp" }]);
  });
});

describe("chat text rules", () => {
  it("cleanText counts code points, not UTF-16 units", () => {
    assert.deepEqual(cleanText("😀".repeat(5), 3), { text: "😀😀😀", cut: true });
    assert.deepEqual(cleanText("😀😀😀", 3), { text: "😀😀😀", cut: false });
  });
  it("checkNick returns the nick or a reason", () => {
    assert.equal(checkNick("  bob "), "bob");
    assert.match((checkNick("") as { error: string }).error, /at least one/);
    assert.match((checkNick("a b") as { error: string }).error, /letters, digits/);
  });
});

describe("parseClientMessage", () => {
  it("parseClientMessage accepts say, nick and who", () => {
    assert.deepEqual(parseClientMessage('{"type":"say","text":"hi"}'), { type: "say", text: "hi" });
    assert.deepEqual(parseClientMessage('{"type":"nick","nick":"bo"}'), {
      type: "nick",
      nick: "bo",
    });
    assert.deepEqual(parseClientMessage('{"type":"who","extra":1}'), { type: "who" });
  });
  it("parseClientMessage returns an error for anything else", () => {
    for (
      const bad of [
        "not json",
        "{",
        "null",
        "[1]",
        '"say"',
        "{}",
        '{"type":"say"}',
        '{"type":"say","text":5}',
        `{"type":"say","text":"${"x".repeat(5000)}"}`,
        '{"type":"nick","nick":null}',
        '{"type":"__proto__"}',
      ]
    ) {
      const r = parseClientMessage(bad);
      assert.ok("error" in r, bad.slice(0, 40));
      assert.match((r as { error: string }).error, /^bad message: /);
    }
  });
});

describe("eventLines", () => {
  it("eventLines formats events as terminal lines and does not echo one's own message", () => {
    const time = new Date(2026, 0, 2, 9, 5).getTime();
    const said = {
      type: "message",
      nick: "ann",
      kind: "web",
      text: "hi",
      cut: false,
      time,
    } as const;
    assert.deepEqual(eventLines(said, "bob"), ["[09:05] ann: hi"]);
    assert.deepEqual(eventLines(said, "ann"), []);
    assert.match(eventLines({ ...said, cut: true }, "ann")[0]!, /your line was cut/);
    assert.deepEqual(eventLines({ ...said, cut: true }, "bob"), ["[09:05] ann: hi (cut)"]);
    assert.deepEqual(eventLines({ type: "join", nick: "ann", kind: "web", time }, "bob"), [
      "[09:05] * ann joined from a browser",
    ]);
    assert.deepEqual(
      eventLines({
        type: "who",
        users: [{ nick: "ann", kind: "web" }, { nick: "bob", kind: "tcp" }],
      }, "bob"),
      ["* here: ann (browser), bob (terminal)"],
    );
    assert.deepEqual(eventLines({ type: "users", users: [] }, "bob"), []);
    assert.deepEqual(eventLines({ type: "error", text: "no" }, "bob"), ["! no"]);
  });
});
