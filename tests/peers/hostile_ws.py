#!/usr/bin/env python3
"""WebSocket peer for the hostile-peer tests (``websockets``, asyncio API).

Run as ``python3 tests/peers/hostile_ws.py [--count N] [--compression]``; prints ``PORT <n>`` once
listening and stops on SIGTERM, SIGINT or stdin EOF (peer_lifecycle). No server pings, and no
compression unless ``--compression`` is given, so the bytes on the wire are plain frames a test can
decode. With ``--compression``, /huge is a zip bomb: its bytes compress about a thousandfold.

Routes:
  /feed     waits for the client's first text message, which must be ``{"op":"subscribe"}``
            (anything else closes with 1008), then sends the numbered messages
            ``{"i":n,"p":"xx..."}`` (n % 40 x's): the first 150 of a connection paced (5 per
            millisecond), then as fast as the socket takes them. n is global:
            it continues across connections from the first number not yet handed to a
            connection, up to N (default: no end), then the connection is held.
  /huge     ?size=S&frag=F: one binary message of S bytes sent as fragments of F bytes, then
            held (for the message-size limit).
"""

import asyncio
import logging
import os
import sys

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

from peer_lifecycle import announce, close_within, listening_socket, stop_event

COUNT = int(sys.argv[sys.argv.index("--count") + 1]) if "--count" in sys.argv else 10 ** 9
STATE = {"next": 1, "subscribes": 0}


def message(n):
    return '{"i":%d,"p":"%s"}' % (n, "x" * (n % 40))


async def feed(ws):
    first = await ws.recv()
    if first != '{"op":"subscribe"}':
        await ws.close(1008, "subscribe first")
        return
    STATE["subscribes"] += 1
    sent = 0
    while STATE["next"] <= COUNT:
        n = STATE["next"]
        STATE["next"] += 1
        await ws.send(message(n))
        sent += 1
        # The first messages of a connection are paced, so that the numbers a connection takes
        # out of the sequence stay close to what it delivers when it is cut early on (the kernel
        # and the proxy buffer whatever is written); the rest go as fast as the socket takes them.
        # Every send yields, so a connection reset is noticed before the next number is taken.
        await asyncio.sleep(0.001 if sent < 150 and sent % 5 == 0 else 0)
    await ws.wait_closed()


async def feed_logged(ws):
    first = STATE["next"]
    t0 = asyncio.get_running_loop().time()
    try:
        await feed(ws)
    finally:
        if os.environ.get("HOSTILE_DEBUG"):
            t = asyncio.get_running_loop().time() - t0
            print(f"feed: {first}..{STATE['next'] - 1} in {t * 1000:.0f} ms", file=sys.stderr)


async def huge(ws):
    from urllib.parse import parse_qs, urlsplit
    q = parse_qs(urlsplit(ws.request.path).query)
    size = int(q.get("size", [str(256 << 20)])[0])
    frag = int(q.get("frag", [str(1 << 20)])[0])
    piece = b"h" * frag

    async def fragments():
        sent = 0
        while sent < size:
            n = min(frag, size - sent)
            yield piece[:n]
            sent += n

    await ws.send(fragments())
    await ws.wait_closed()


async def handler(ws):
    try:
        if ws.request.path.startswith("/feed"):
            await feed_logged(ws)
        elif ws.request.path.startswith("/huge"):
            await huge(ws)
        else:
            await ws.close(1008, "no such route")
    except ConnectionClosed:
        pass  # cut by the proxy or closed by the client


async def main():
    logging.basicConfig(level=logging.CRITICAL)
    stop = stop_event()
    sock = listening_socket()
    compression = "deflate" if "--compression" in sys.argv else None
    server = await serve(handler, sock=sock, ping_interval=None, compression=compression, close_timeout=1,
                         max_size=1 << 20)
    announce(sock)
    await stop.wait()
    server.close()
    await close_within(server.wait_closed())


if __name__ == "__main__":
    asyncio.run(main())
