"""Python `websockets` as the receiver of messages compressed in pieces.

Run: /usr/bin/python3 _deflate_pieces_client.py URL SEED COUNT
For COUNT random cases, sends a request (2-byte header length, a JSON
header with the cut points and the type, then the payload); the server
sends the payload back as one message in those pieces, compressed. Checks
every message and prints one JSON line: the negotiated extensions, whether
all matched, and the first mismatch.
"""

import asyncio
import json
import random
import sys

import websockets
import websockets.client


def case(rng, k):
    kind = rng.choice(["json", "random", "text", "empty"])
    if kind == "json":
        data = "".join(json.dumps({"seq": i, "user": "bob", "text": "hé ✓ again"}) for i in range(rng.randint(1, 200))).encode()
    elif kind == "random":
        data = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 5000)))
    elif kind == "text":
        data = ("δέλτα ✓ " * rng.randint(1, 500)).encode()
    else:
        data = b""
    cuts = sorted(rng.randint(0, len(data)) for _ in range(rng.randint(0, 6)))
    return data, cuts, kind in ("json", "text", "empty")


async def main(url, seed, count):
    rng = random.Random(seed)
    async with websockets.client.connect(
        url, open_timeout=5, close_timeout=5, ping_interval=None, max_size=8 * 1024 * 1024
    ) as ws:
        ext = ws.response_headers.get("Sec-WebSocket-Extensions")
        ok, first = True, None
        for k in range(count):
            data, cuts, text = case(rng, k)
            head = json.dumps({"cuts": cuts, "text": text}).encode()
            await ws.send(len(head).to_bytes(2, "big") + head + data)
            got = await ws.recv()
            back = got.encode() if isinstance(got, str) else got
            if back != data or isinstance(got, str) != text:
                ok = False
                first = first or {"case": k, "cuts": cuts, "len": len(data), "got": len(back)}
        print(json.dumps({"extensions": ext, "ok": ok, "first": first}))


try:
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
except Exception as e:  # one JSON line either way
    print(json.dumps({"error": repr(e)}))
