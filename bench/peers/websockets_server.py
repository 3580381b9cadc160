"""Minimal python ``websockets.broadcast`` server: the second peer bench/soak.py compares pushd with.

Same tiny protocol as ws_server.js: hello -> welcome, sub -> subscribed, and "PUB <topic>\\n<frame>"
from the soak's publisher is broadcast to the topic's subscribers with ``websockets.broadcast``.
"""

from __future__ import annotations

import asyncio
import json
import sys

import uvloop
from websockets.asyncio.server import ServerConnection, broadcast, serve

topics: dict[str, set[ServerConnection]] = {}


async def handler(ws: ServerConnection) -> None:
    mine: list[str] = []
    try:
        async for msg in ws:
            if isinstance(msg, str) and msg.startswith("PUB "):
                nl = msg.index("\n")
                subs = topics.get(msg[4:nl])
                if subs:
                    broadcast(subs, msg[nl + 1:])
                continue
            doc = json.loads(msg)
            if doc.get("op") == "hello":
                await ws.send('{"op":"welcome"}')
            elif doc.get("op") == "sub":
                for t in doc["topics"]:
                    topics.setdefault(t, set()).add(ws)
                    mine.append(t)
                await ws.send(json.dumps({"op": "subscribed", "id": doc.get("id"), "topics": doc["topics"],
                                          "recovered": {}}))
    except Exception:  # a client vanishing mid-frame is normal in a soak
        pass
    finally:
        for t in mine:
            topics[t].discard(ws)


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=None, backlog=2048,
                     max_queue=None):
        print("listening", port, flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1])))
