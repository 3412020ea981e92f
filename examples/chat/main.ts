/**
 * The netstreams chat demo: people in a browser and people in a terminal
 * talk in one room, and a WebSocket-to-TCP proxy lets the page join the
 * terminal side too. Starts with no configuration; Ctrl-C stops it.
 *
 * Run:   npm run demo    (or: deno run -A examples/chat/main.ts, bun examples/chat/main.ts,
 *        node npm/esm/examples/chat/main.js after the npm build)
 * Then:  open http://127.0.0.1:8080/ in a browser, and in a terminal: nc 127.0.0.1 7000
 * Options: --hostname H (default 127.0.0.1), --web-port P (8080), --tcp-port P (7000),
 *          --proxy-port P (8081); port 0 takes any free port.
 * Permissions: --allow-net (listen), --allow-read (the page's files).
 */

import { args, exit, onTerminate } from "../../src/runtime/process.ts";
import { type ChatOptions, startChat } from "./chat_server.ts";

const USAGE = "usage: main.ts [--hostname H] [--web-port P] [--tcp-port P] [--proxy-port P]";

/** Reads the options; exits with 2 and the usage on anything unknown. */
function parse(argv: string[]): ChatOptions {
  const options: ChatOptions = {};
  const port = (flag: string, value: string | undefined): number => {
    const n = Number(value);
    if (value === undefined || !/^\d+$/.test(value) || n > 65535) {
      console.error(`${flag} needs a port 0-65535: current value is ${value}\n${USAGE}`);
      exit(2);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (flag === "--hostname" && value) options.hostname = value;
    else if (flag === "--web-port") options.webPort = port(flag, value);
    else if (flag === "--tcp-port") options.tcpPort = port(flag, value);
    else if (flag === "--proxy-port") options.proxyPort = port(flag, value);
    else if (flag === "-h" || flag === "--help") {
      console.log(USAGE);
      exit(0);
    } else {
      console.error(`unknown option ${flag}\n${USAGE}`);
      exit(2);
    }
    i++;
  }
  return options;
}

let chat;
try {
  chat = await startChat(parse(args()));
} catch (error) {
  console.error(`cannot start the chat: ${(error as Error).message}`);
  exit(1);
}
const { hostname, port } = chat.tcpAddr;
const socat = hostname.includes(":") ? `TCP6:[${hostname}]:${port}` : `TCP:${hostname}:${port}`;
console.log(`netstreams chat is running
  browser:   ${chat.pageUrl}
  terminal:  nc ${hostname} ${port}    (or: telnet ${hostname} ${port}, socat - ${socat})
  proxy:     ${chat.proxyUrl} -> TCP ${hostname}:${port}    (WebSocket-to-TCP; the page's "via proxy" switch uses it)
Press Ctrl-C to stop.`);

// One clean stop: a second signal while stopping (npm run demo forwards the
// terminal's Ctrl-C, which the child also gets) is ignored; the stop takes 2 s at most.
let stopping = false;
onTerminate(async (signal) => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping the chat`);
  await chat.shutdown();
  console.log("chat stopped");
  exit(0);
});
