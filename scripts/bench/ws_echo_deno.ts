// ws_echo_deno.ts: Deno's native WebSocket server (`Deno.upgradeWebSocket`
// under `Deno.serve`) as the echo peer that scripts/bench_ws.ts measures the
// library against on Deno.
//
// Every request is upgraded; `onmessage` sends `event.data` back (a string for
// text, an ArrayBuffer for binary, so the type is kept). Deno's defaults
// otherwise (idle timeout 120 s; Deno has no permessage-deflate).
//
// Run: deno run -A scripts/bench/ws_echo_deno.ts --port 0 [--hostname 127.0.0.1]
// The first stdout line is "listening on HOST:PORT". SIGINT/SIGTERM exit.

const args = parseArgs(Deno.args);
Deno.serve({
  hostname: args.hostname,
  port: args.port,
  onListen: ({ hostname, port }) => {
    console.log(`listening on ${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`);
  },
}, (req) => {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return new Response("WebSocket upgrade required\n", { status: 426 });
  }
  const { socket, response } = Deno.upgradeWebSocket(req);
  socket.binaryType = "arraybuffer";
  socket.onmessage = (e) => socket.send(e.data);
  socket.onerror = () => {};
  return response;
});
for (const sig of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(sig, () => Deno.exit(0));

function parseArgs(argv: string[]): { port: number; hostname: string } {
  const out = { port: 0, hostname: "127.0.0.1" };
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (key === "--port") out.port = Number(value);
    else if (key === "--hostname") out.hostname = value;
    else {
      console.error("usage: ws_echo_deno.ts --port N [--hostname H]");
      Deno.exit(2);
    }
  }
  return out;
}
