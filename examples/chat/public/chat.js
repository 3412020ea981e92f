// The chat page: JSON events over a WebSocket to /chat, or, with "via
// WS→TCP proxy" on, the terminal line protocol over the proxy as binary
// frames. All text goes into the page with textContent, never as HTML.

const $ = (id) => document.getElementById(id);
const messages = $("messages");
const users = $("users");
const status = $("status");
const viaProxy = $("via-proxy");
const nickInput = $("nick");
const textInput = $("text");
const MAX_LINES = 500; // messages kept on the page
const encoder = new TextEncoder();

let config = { tcpPort: 7000, proxyPort: null };
let socket = null;
let myNick = "";

const scheme = location.protocol === "https:" ? "wss:" : "ws:";
const clock = (ms) =>
  new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function append(li) {
  const atEnd = messages.parentElement.scrollTop + messages.parentElement.clientHeight >=
    messages.parentElement.scrollHeight - 30;
  messages.append(li);
  while (messages.children.length > MAX_LINES) messages.firstElementChild.remove();
  if (atEnd) li.scrollIntoView({ block: "end" });
}

function line(className, text, time) {
  const li = el("li", className);
  if (time !== undefined) li.append(el("span", "time", clock(time)));
  li.append(el("span", "text", text));
  append(li);
}

function said(m) {
  const li = el("li", m.nick === myNick ? "message own" : "message");
  li.append(
    el("span", "time", clock(m.time)),
    el("span", `nick ${m.kind}`, m.nick),
    el("span", "text", m.text),
  );
  if (m.cut) li.append(el("span", "cut", "(cut)"));
  append(li);
}

function showUsers(list) {
  users.replaceChildren(...list.map((u) => {
    const li = el("li", u.nick === myNick ? "me" : "");
    li.append(el("span", u.kind, u.nick));
    return li;
  }));
  $("count").textContent = `(${list.length})`;
}

function setStatus(text, online) {
  status.textContent = text;
  status.classList.toggle("online", online);
}

// ---- the room over JSON ----------------------------------------------------

const where = { web: "the browser", tcp: "a terminal" };

function onEvent(e) {
  switch (e.type) {
    case "welcome":
      myNick = e.nick;
      nickInput.value = e.nick;
      for (const m of e.history) said(m);
      line("system", `You are ${e.nick}. Set a nick below; people in terminals are here too.`);
      showUsers(e.users);
      break;
    case "message":
      said(e);
      break;
    case "join":
      line("system", `${e.nick} joined from ${where[e.kind]}`, e.time);
      break;
    case "leave":
      line("system", `${e.nick} left`, e.time);
      break;
    case "nick":
      if (e.from === myNick) {
        myNick = e.nick;
        nickInput.value = e.nick;
      }
      line("system", `${e.from} is now ${e.nick}`, e.time);
      break;
    case "users":
      showUsers(e.users);
      break;
    case "who":
      line("system", `here: ${e.users.map((u) => u.nick).join(", ")}`);
      break;
    case "notice":
      line("system", e.text, e.time);
      break;
    case "error":
      line("error", e.text);
      if (e.text.startsWith("cannot change nick")) nickInput.value = myNick;
      break;
  }
}

function connectRoom() {
  const ws = new WebSocket(`${scheme}//${location.host}/chat`);
  ws.onopen = () => setStatus("connected", true);
  ws.onmessage = (m) => {
    try {
      onEvent(JSON.parse(m.data));
    } catch (err) {
      line("error", `unreadable event: ${err.message}`);
    }
  };
  return {
    ws,
    say: (text) => ws.send(JSON.stringify({ type: "say", text })),
    nick: (nick) => ws.send(JSON.stringify({ type: "nick", nick })),
  };
}

// ---- the terminal side through the WS→TCP proxy ----------------------------

function connectTerminal() {
  const ws = new WebSocket(`${scheme}//${location.hostname}:${config.proxyPort}/`, ["binary"]);
  ws.binaryType = "arraybuffer";
  const decoder = new TextDecoder();
  let partial = "";
  ws.onopen = () =>
    setStatus(
      `connected through the proxy (port ${config.proxyPort} → TCP ${config.tcpPort})`,
      true,
    );
  ws.onmessage = (m) => {
    partial += typeof m.data === "string" ? m.data : decoder.decode(m.data, { stream: true });
    const lines = partial.split(/\r?\n/);
    partial = lines.pop();
    if (partial.length > 8192) { // a line without an end: show it rather than grow
      lines.push(partial);
      partial = "";
    }
    for (const l of lines) {
      const hello = /^Welcome to the netstreams chat, ([^.\s]+)\./.exec(l);
      const renamed = /^\[[\d:]+\] \* (\S+) is now (\S+)$/.exec(l);
      if (hello) myNick = nickInput.value = hello[1];
      if (renamed && renamed[1] === myNick) myNick = nickInput.value = renamed[2];
      line("term", l);
    }
  };
  const send = (text) => ws.send(encoder.encode(text.replace(/[\r\n]+/g, " ") + "\r\n"));
  return { ws, say: send, nick: (nick) => send(`/nick ${nick}`) };
}

// ---- wiring -----------------------------------------------------------------

function connect() {
  const terminal = viaProxy.checked;
  $("users-note").hidden = !terminal;
  $("users-note").textContent = terminal
    ? "You are a terminal user now: this list is not live over the line protocol. Type /who."
    : "";
  if (terminal) {
    users.replaceChildren();
    $("count").textContent = "";
  }
  setStatus("connecting…", false);
  const s = terminal ? connectTerminal() : connectRoom();
  s.ws.onclose = (e) => {
    if (socket !== s) return;
    setStatus(`disconnected${e.reason ? ` (${e.reason})` : ""} — reload to join again`, false);
    $("send").disabled = true;
  };
  socket = s;
  $("send").disabled = false;
}

$("say-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = textInput.value.trim();
  if (!text || !socket || socket.ws.readyState !== WebSocket.OPEN) return;
  socket.say(text);
  if (viaProxy.checked) line("term own", `> ${text}`);
  textInput.value = "";
});

$("nick-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const nick = nickInput.value.trim();
  if (nick && nick !== myNick && socket?.ws.readyState === WebSocket.OPEN) socket.nick(nick);
});

viaProxy.addEventListener("change", () => {
  const old = socket;
  socket = null;
  old?.ws.close(1000);
  messages.replaceChildren();
  connect();
});

async function start() {
  try {
    config = await (await fetch("/config.json")).json();
  } catch {
    // keep the defaults
  }
  $("nc-command").textContent = `nc ${location.hostname.replace(/^\[|\]$/g, "")} ${config.tcpPort}`;
  if (config.proxyPort !== null) {
    viaProxy.disabled = false;
    const p = $("proxy-note");
    p.hidden = false;
    p.textContent =
      `The switch at the top joins as a terminal user through the WebSocket-to-TCP proxy ` +
      `(ws://${location.hostname}:${config.proxyPort} → TCP port ${config.tcpPort}): ` +
      "the page then sends and shows the raw line protocol.";
  } else {
    viaProxy.parentElement.title = "The WS→TCP proxy is not running";
  }
  connect();
  textInput.focus();
}

start();
