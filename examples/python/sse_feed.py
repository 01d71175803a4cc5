#!/usr/bin/env python3
"""Reads a Server-Sent Events feed with asyncio; reconnects resume with Last-Event-ID.

    python examples/python/sse_feed.py http://127.0.0.1:PORT/sse

Against the demo feed (python examples/feed/feed.py prints its PORT): every tick, then the feed's
204 ends the stream cleanly.
"""

import asyncio
import sys

import tidewire


async def main(url):
    with tidewire.Stream(url, "sse", reconnect_max_ms=5000, status_events=True) as stream:
        async for event in stream:
            if event.kind == "message":
                print(f"id {event.id} ({event.type}): {event.json()}")
            else:
                print(f"[{event.kind}] {event.text}")


asyncio.run(main(sys.argv[1]))
