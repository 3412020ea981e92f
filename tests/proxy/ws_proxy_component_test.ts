/**
 * The event-style WsProxy component (reference: WebSocketProxy) over the
 * library proxy: DefaultForwardHost/Port, WebSocketOpenRequest with
 * writable ForwardHost/ForwardPort/StatusCode, Connected, DataIn in both
 * directions, Disconnected with the close code, Error, Config.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { WsProxy } from "../../src/components/mod.ts";
import { client, deadline, echo, lineServer, sleep, tcpTarget } from "./_helpers.ts";

describe("WsProxy component", () => {
  it("WsProxy forwards to DefaultForwardHost/Port and fires Connected, DataIn both ways and Disconnected", async () => {
    const target = await tcpTarget(echo);
    await using proxy = new WsProxy({
      localHost: "127.0.0.1",
      localPort: 0,
      defaultForwardHost: "127.0.0.1",
      defaultForwardPort: target.port,
    });
    const events: string[] = [];
    proxy.on("Connected", (e) => events.push(`Connected ${e.statusCode}`));
    proxy.on(
      "DataIn",
      (e) => events.push(`DataIn ${e.fromClient ? "client" : "target"} ${e.text}`),
    );
    proxy.on("Disconnected", (e) => events.push(`Disconnected ${e.statusCode} ${e.description}`));
    await proxy.startListening();
    assert.equal(proxy.listening, true);
    const c = client(`ws://127.0.0.1:${proxy.localPort}/`);
    await c.opened;
    c.ws.send("hi");
    await c.waitFor((t) => t === "hi");
    assert.equal(proxy.connections.size, 1);
    c.ws.close(1000, "bye");
    await c.closed;
    await deadline(
      (async () => {
        while (!events.some((e) => e.startsWith("Disconnected"))) await sleep(5);
      })(),
      3000,
      "Disconnected",
    );
    assert.deepEqual(events, [
      "Connected 0",
      "DataIn client hi",
      "DataIn target hi",
      "Disconnected 1000 bye",
    ]);
    await target.close();
  });

  it("WsProxy WebSocketOpenRequest can change ForwardHost/ForwardPort and refuse with StatusCode", async () => {
    const lines = await tcpTarget(lineServer);
    const echoed = await tcpTarget(echo);
    await using proxy = new WsProxy({
      localHost: "127.0.0.1",
      defaultForwardHost: "127.0.0.1",
      defaultForwardPort: echoed.port,
    });
    proxy.on("WebSocketOpenRequest", (e) => {
      assert.equal(e.forwardHost, "127.0.0.1");
      assert.equal(e.forwardPort, echoed.port);
      if (e.requestURI === "/lines") e.forwardPort = lines.port;
      if (e.requestURI === "/nope") e.statusCode = 403;
    });
    await proxy.startListening();
    const c = client(`ws://127.0.0.1:${proxy.localPort}/lines`);
    await c.waitFor((t) => t === "hello\n");
    assert.equal(
      await deadline(client(`ws://127.0.0.1:${proxy.localPort}/nope`).refused, 3000, "403"),
      403,
    );
    c.ws.close();
    await c.closed;
    await lines.close();
    await echoed.close();
  });

  it("WsProxy without a forward host refuses with 404; Error and Disconnected 1014 for an unreachable target", async () => {
    const gone = await tcpTarget(echo);
    const port = gone.port;
    await gone.close();
    await using proxy = new WsProxy({ localHost: "127.0.0.1" });
    await proxy.startListening();
    assert.equal(
      await deadline(client(`ws://127.0.0.1:${proxy.localPort}/`).refused, 3000, "404"),
      404,
    );
    await proxy.config(`DefaultForwardHost=127.0.0.1`);
    await proxy.config(`DefaultForwardPort=${port}`);
    assert.equal(await proxy.config("DefaultForwardPort"), String(port));
    const errors: number[] = [];
    const closes: number[] = [];
    proxy.on("Error", (e) => errors.push(e.errorCode));
    proxy.on("Disconnected", (e) => closes.push(e.statusCode));
    const c = client(`ws://127.0.0.1:${proxy.localPort}/`);
    assert.equal((await deadline(c.closed, 5000, "close")).code, 1014);
    await deadline(
      (async () => {
        while (closes.length === 0) await sleep(5);
      })(),
      3000,
      "Disconnected",
    );
    assert.deepEqual(closes, [1014]);
    assert.equal(errors.length, 1);
    assert.ok(errors[0]! > 0, `error code ${errors[0]}`);
  });

  it("WsProxy Config sets AllowedTargets and the TCP settings, and rejects framing settings", async () => {
    const target = await tcpTarget(echo);
    await using proxy = new WsProxy({
      localHost: "127.0.0.1",
      defaultForwardHost: "127.0.0.1",
      defaultForwardPort: target.port,
    });
    await proxy.config("AllowedTargets=127.0.0.1:1");
    await proxy.config("MaxConnections=5");
    assert.equal(await proxy.config("MaxConnections"), "5");
    await assert.rejects(proxy.config("BufferMessage=true"), TypeError);
    await proxy.startListening();
    assert.equal(
      await deadline(client(`ws://127.0.0.1:${proxy.localPort}/`).refused, 3000, "403"),
      403,
    );
    await proxy.config(`AllowedTargets=127.0.0.1:${target.port}`);
    const c = client(`ws://127.0.0.1:${proxy.localPort}/`);
    await c.opened;
    await proxy.disconnect([...proxy.connections.keys()][0]!);
    assert.equal((await c.closed).code, 1000);
    await target.close();
  });
});
