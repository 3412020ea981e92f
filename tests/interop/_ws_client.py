"""A Python `websockets` client for the interop tests (Debian's python3-websockets).

Run: /usr/bin/python3 _ws_client.py CASE URL [--timeout S]
Prints one JSON object on its last stdout line: {"ok": true, ...} or
{"ok": false, "error": "..."}. Every step has a deadline; the process never
waits longer than --timeout seconds in all.

Cases (each opens its own connection; the client offers permessage-deflate,
as websockets does by default, so a server without it must decline):
  echo        a text message (non-ASCII) and a binary one (all 256 byte values)
  large       16 MiB binary and 16 MiB text, each echoed unchanged
  ping        `await ws.ping(payload)`, then the pong arrives (RFC 6455 5.5.2/3)
  close       the client closes with 4000 and a UTF-8 reason; the server's
              close frame echoes both (RFC 6455 5.5.1)
  close-seen  as close, against the fixture server, then reports what the server
              says it received (/last-close?code=4000)
  server-close  the server closes first (URL chosen by the test); reports
              the code and reason it received
  subprotocol offers x-unknown, chat.v2, chat.v1; reports the one selected
  reject      expects the handshake to be refused; reports status and headers
"""

import asyncio
import hashlib
import json
import sys

import websockets
import websockets.client
import websockets.exceptions

MiB = 1024 * 1024


def connect(url, **kw):
    return websockets.client.connect(
        url, open_timeout=5, close_timeout=5, ping_interval=None, max_size=32 * MiB, **kw
    )


async def case_echo(url):
    async with connect(url) as ws:
        text = "hello, interop: h\u00e9llo \u2713 \U0001F600"
        data = bytes(range(256))
        await ws.send(text)
        await ws.send(data)
        got_text = await ws.recv()
        got_data = await ws.recv()
        return {
            "text_ok": got_text == text,
            "text_type": type(got_text).__name__,
            "binary_ok": got_data == data,
            "binary_type": type(got_data).__name__,
        }


async def case_large(url):
    async with connect(url) as ws:
        data = bytes(range(251)) * (16 * MiB // 251) + bytes(16 * MiB % 251)
        text = ("0123456789abcdef\u00e9\u2713" * (16 * MiB // 21 + 1)).encode()[: 16 * MiB]
        text = text.decode("utf-8", errors="ignore")
        await ws.send(data)
        got = await ws.recv()
        binary_ok = isinstance(got, bytes) and hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
        await ws.send(text)
        got_text = await ws.recv()
        return {
            "binary_ok": binary_ok,
            "binary_len": len(got),
            "text_ok": got_text == text,
            "text_len": len(got_text.encode()) if isinstance(got_text, str) else -1,
        }


async def case_ping(url):
    async with connect(url) as ws:
        waiter = await ws.ping(b"interop-ping")
        latency = await asyncio.wait_for(waiter, 5)
        # The connection still echoes after the ping.
        await ws.send("after ping")
        after = await ws.recv()
        return {"pong": True, "latency_s": latency, "after_ok": after == "after ping"}


async def case_close(url):
    ws = await connect(url)
    await ws.send("before close")
    before = await ws.recv()
    await ws.close(code=4000, reason="bye \u2713")
    return {"before_ok": before == "before close", "code": ws.close_code, "reason": ws.close_reason}


async def case_close_seen(url):
    ws = await connect(url)
    await ws.close(code=4000, reason="bye \u2713")
    async with connect(url + "/last-close?code=4000") as probe:
        seen = json.loads(await probe.recv())
    return {"code": ws.close_code, "server_saw": seen}


async def case_server_close(url):
    async with connect(url) as ws:
        try:
            await ws.recv()
            return {"closed": False}
        except websockets.exceptions.ConnectionClosed as e:
            return {"closed": True, "code": e.rcvd.code if e.rcvd else None, "reason": e.rcvd.reason if e.rcvd else None}


async def case_subprotocol(url):
    async with connect(url, subprotocols=["x-unknown", "chat.v2", "chat.v1"]) as ws:
        await ws.send("proto")
        echoed = await ws.recv()
        return {"subprotocol": ws.subprotocol, "echo_ok": echoed == "proto"}


async def case_reject(url):
    try:
        async with connect(url):
            return {"rejected": False}
    except websockets.exceptions.InvalidStatusCode as e:
        return {
            "rejected": True,
            "status": e.status_code,
            "www_authenticate": e.headers.get("WWW-Authenticate"),
        }


CASES = {
    "echo": case_echo,
    "large": case_large,
    "ping": case_ping,
    "close": case_close,
    "close-seen": case_close_seen,
    "server-close": case_server_close,
    "subprotocol": case_subprotocol,
    "reject": case_reject,
}


async def main():
    if len(sys.argv) < 3 or sys.argv[1] not in CASES:
        print(json.dumps({"ok": False, "error": "usage: _ws_client.py CASE URL [--timeout S]"}))
        return 2
    timeout = float(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--timeout" else 20.0
    try:
        result = await asyncio.wait_for(CASES[sys.argv[1]](sys.argv[2]), timeout)
        print(json.dumps({"ok": True, "version": websockets.__version__, **result}))
        return 0
    except Exception as e:  # reported to the test as data
        print(json.dumps({"ok": False, "error": f"{type(e).__name__}: {e}"}))
        return 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
