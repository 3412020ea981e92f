/**
 * The interop cases for clients with the WHATWG `WebSocket` API: Chromium (the
 * function is sent to the page by `page.evaluate`) and the native clients of
 * Deno, Bun and Node (called in the test process). `webCase` must stay
 * self-contained: no imports, no outer names, web APIs only, because the
 * browser receives its source text.
 */

/** Which case to run, against which URL. */
export interface WebCaseArgs {
  case: "echo" | "large" | "close" | "close-seen" | "server-close" | "subprotocol" | "reject";
  url: string;
  /** Deadline for the whole case, in milliseconds. */
  timeoutMs: number;
}

/** What a case observed (fields depend on the case). */
export interface WebCaseResult {
  ok: boolean;
  error?: string;
  [key: string]: unknown;
}

/**
 * Runs one case with `new WebSocket(url)`:
 * - echo: a non-ASCII text message and a binary one (all 256 byte values);
 * - large: 16 MiB binary, then 16 MiB text, each echoed unchanged;
 * - close: the client closes with 4000 and a UTF-8 reason; reports the close event;
 * - close-seen: the same against the fixture server, then reports what the
 *   server says it received (`/last-close?code=4000`);
 * - server-close: reports the close event of a connection the server closes;
 * - subprotocol: offers x-unknown, chat.v2, chat.v1; reports `protocol`;
 * - reject: reports whether the connection opened, errored and how it closed.
 */
export async function webCase(args: WebCaseArgs): Promise<WebCaseResult> {
  const MiB = 1024 * 1024;
  let ws: WebSocket | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const inbox: (string | ArrayBuffer)[] = [];
  const waiters: (() => void)[] = [];
  let closeEvent: { code: number; reason: string; wasClean: boolean } | undefined;
  let errored = false;
  let opened = false;
  const wake = () => waiters.splice(0).forEach((w) => w());
  const until = (pred: () => boolean): Promise<void> =>
    new Promise((resolve) => {
      const check = () => (pred() ? resolve() : waiters.push(check));
      check();
    });
  const open = (url: string, protocols?: string[]) => {
    const s = protocols ? new WebSocket(url, protocols) : new WebSocket(url);
    s.binaryType = "arraybuffer";
    s.onopen = () => {
      opened = true;
      wake();
    };
    s.onmessage = (e: MessageEvent) => {
      inbox.push(e.data as string | ArrayBuffer);
      wake();
    };
    s.onerror = () => {
      errored = true;
      wake();
    };
    s.onclose = (e: CloseEvent) => {
      closeEvent = { code: e.code, reason: e.reason, wasClean: e.wasClean };
      wake();
    };
    return s;
  };
  const next = async (): Promise<string | ArrayBuffer> => {
    await until(() => inbox.length > 0 || closeEvent !== undefined);
    if (inbox.length === 0) throw new Error(`closed while waiting: ${JSON.stringify(closeEvent)}`);
    return inbox.shift()!;
  };
  const opening = async () => {
    await until(() => opened || closeEvent !== undefined);
    if (!opened) throw new Error(`did not open: ${JSON.stringify(closeEvent)}`);
  };
  const sameBytes = (a: ArrayBuffer | string, b: Uint8Array) => {
    if (typeof a === "string" || a.byteLength !== b.length) return false;
    const v = new Uint8Array(a);
    for (let i = 0; i < v.length; i++) if (v[i] !== b[i]) return false;
    return true;
  };
  const run = async (): Promise<Record<string, unknown>> => {
    switch (args.case) {
      case "echo": {
        ws = open(args.url);
        await opening();
        const text = "hello, interop: h\u00e9llo \u2713 \u{1F600}";
        const data = new Uint8Array(256).map((_, i) => i);
        ws.send(text);
        ws.send(data);
        const gotText = await next();
        const gotData = await next();
        return {
          text_ok: gotText === text,
          text_type: typeof gotText,
          binary_ok: sameBytes(gotData, data),
          binary_type: typeof gotData === "string" ? "string" : "ArrayBuffer",
        };
      }
      case "large": {
        ws = open(args.url);
        await opening();
        const data = new Uint8Array(16 * MiB).map((_, i) => i % 251);
        ws.send(data);
        const got = await next();
        const binaryOk = sameBytes(got, data);
        const unit = "0123456789abcdef\u00e9\u2713"; // 21 UTF-8 bytes
        const text = unit.repeat(Math.floor(16 * MiB / 21)) + "x".repeat((16 * MiB) % 21);
        ws.send(text);
        const gotText = await next();
        return {
          binary_ok: binaryOk,
          binary_len: typeof got === "string" ? -1 : got.byteLength,
          text_ok: gotText === text,
          text_len: typeof gotText === "string" ? new TextEncoder().encode(gotText).length : -1,
        };
      }
      case "close": {
        ws = open(args.url);
        await opening();
        ws.send("before close");
        const before = await next();
        ws.close(4000, "bye \u2713");
        await until(() => closeEvent !== undefined);
        return { before_ok: before === "before close", ...closeEvent };
      }
      case "close-seen": {
        ws = open(args.url);
        await opening();
        ws.close(4000, "bye \u2713");
        await until(() => closeEvent !== undefined);
        const mine = closeEvent;
        closeEvent = undefined;
        opened = false;
        ws = open(`${args.url}/last-close?code=4000`);
        await opening();
        const seen = await next();
        return { code: mine!.code, server_saw: typeof seen === "string" ? JSON.parse(seen) : null };
      }
      case "server-close": {
        ws = open(args.url);
        await until(() => closeEvent !== undefined);
        return { opened, ...closeEvent };
      }
      case "subprotocol": {
        ws = open(args.url, ["x-unknown", "chat.v2", "chat.v1"]);
        await opening();
        ws.send("proto");
        const echoed = await next();
        return { subprotocol: ws.protocol, echo_ok: echoed === "proto" };
      }
      case "reject": {
        ws = open(args.url);
        await until(() => errored || closeEvent !== undefined);
        // The close event follows the error (WHATWG "fail the WebSocket connection");
        // Node 22.23's client (undici) fires the error only: give the close 3 s.
        let grace: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          until(() => closeEvent !== undefined),
          new Promise<void>((resolve) => (grace = setTimeout(resolve, 3000))),
        ]);
        clearTimeout(grace);
        return { opened, errored, closed: closeEvent !== undefined, ...closeEvent };
      }
    }
  };
  try {
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no result within ${args.timeoutMs} ms`)),
        args.timeoutMs,
      );
    });
    return { ok: true, ...(await Promise.race([run(), deadline])) };
  } catch (e) {
    return { ok: false, error: String(e) };
  } finally {
    clearTimeout(timer);
    if (ws && ws.readyState < 2) ws.close();
    // Let the close handshake finish before the runtime checks for leaks.
    if (ws && !closeEvent) {
      let t: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        until(() => closeEvent !== undefined),
        new Promise((r) => (t = setTimeout(r, 2000))),
      ]);
      clearTimeout(t);
    }
  }
}
