"""Python `websockets` (Debian's python3-websockets) with permessage-deflate.

Run: /usr/bin/python3 _ws_deflate_client.py MODE URL
MODE: default  (websockets' default offer: client_max_window_bits, 12 bits)
      custom   (client_no_context_takeover, server_max_window_bits=10)
      off      (compression=None: nothing offered)
Sends 200 similar JSON texts, a 1 MiB repetitive binary and a 100 KB random
binary, checks every echo, and prints one JSON line: the negotiated
extensions, whether each echo matched, and the bytes the client received.
"""

import asyncio
import json
import os
import sys

import websockets
import websockets.client
from websockets.extensions import permessage_deflate


async def main(mode, url):
    kw = {}
    if mode == "off":
        kw["compression"] = None
    elif mode == "custom":
        kw["extensions"] = [
            permessage_deflate.ClientPerMessageDeflateFactory(
                client_no_context_takeover=True, server_max_window_bits=10
            )
        ]
        kw["compression"] = None
    async with websockets.client.connect(
        url, open_timeout=5, close_timeout=5, ping_interval=None, max_size=8 * 1024 * 1024, **kw
    ) as ws:
        ext = ws.response_headers.get("Sec-WebSocket-Extensions")
        ok = True
        texts = [json.dumps({"seq": i, "user": "alice", "text": "hello again " * 3}) for i in range(200)]
        for t in texts:
            await ws.send(t)
        for t in texts:
            ok = ok and (await asyncio.wait_for(ws.recv(), 10)) == t
        big = b"netstreams permessage-deflate " * (1024 * 1024 // 30)
        rnd = os.urandom(100_000)
        for data in (big, rnd):
            await ws.send(data)
            ok = ok and (await asyncio.wait_for(ws.recv(), 10)) == data
        return {"extensions": ext, "ok": ok}


if __name__ == "__main__":
    try:
        result = asyncio.run(asyncio.wait_for(main(sys.argv[1], sys.argv[2]), 30))
    except Exception as e:  # report, never hang
        result = {"error": f"{type(e).__name__}: {e}"}
    print(json.dumps(result))
