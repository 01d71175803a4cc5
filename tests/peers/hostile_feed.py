#!/usr/bin/env python3
"""A numbered event feed for the hostile-peer tests (aiohttp), served over SSE and long-poll.

Run as ``python3 tests/peers/hostile_feed.py [--count N]``; prints ``PORT <n>`` once listening and
stops on SIGTERM, SIGINT or stdin EOF (peer_lifecycle).

The feed is the events 1..N (default 10,000). Event n is, in SSE form,

    id: n            id: n
    data: n          data: n
                     data: a
                     data: b      (every 7th event: a multi-line event, data "n\\na\\nb")

Routes:
  /sse              text/event-stream. Resumes after ``Last-Event-ID`` (absent: from 1), writes
                    the rest of the feed in writes of 100 events, then ends the response. A
                    resume after N answers 204 (the client stops).
  /poll?cursor=c    long-poll: the next batch after cursor c (absent or empty: 0), 1..40 events
                    depending on c, as the body ``n <pad>\\n`` per event; ``X-Cursor`` is the last
                    id in the batch. After N: held (until the client leaves).
  /flood            SSE headers, then ``data: xxx...`` 1 KiB lines and never a blank line, up to
                    ?bytes= (default 512 MiB) then held: an event that never ends.
  /instant?cursor=c long-poll answered at once: ?size= bytes of body (default 256 KiB), cursor c+1;
                    with ?same=1 an empty body and the same cursor (nothing new, at once).
  /_stats           JSON: connections per route, events written, resumes seen.
"""

import asyncio
import json
import sys

from aiohttp import web

from peer_lifecycle import announce, close_within, listening_socket, stop_event

COUNT = int(sys.argv[sys.argv.index("--count") + 1]) if "--count" in sys.argv else 10000
STATS = {"sse": 0, "poll": 0, "flood": 0, "instant": 0, "events_written": 0, "resumes": []}


def sse_event(n):
    if n % 7 == 0:
        return f"id: {n}\ndata: {n}\ndata: a\ndata: b\n\n"
    return f"id: {n}\ndata: {n}\n\n"


async def sse(request):
    STATS["sse"] += 1
    last = request.headers.get("Last-Event-ID")
    STATS["resumes"].append(last)
    start = int(last) + 1 if last else 1
    if start > COUNT:
        return web.Response(status=204)
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await resp.prepare(request)
    n = start
    try:
        while n <= COUNT:
            end = min(n + 100, COUNT + 1)
            await resp.write("".join(sse_event(i) for i in range(n, end)).encode())
            STATS["events_written"] += end - n
            n = end
        await resp.write_eof()
    except ConnectionError:  # cut by the proxy: the client resumes on a new connection
        pass
    return resp


def batch_size(cursor):
    return 1 + cursor % 40


async def poll(request):
    STATS["poll"] += 1
    raw = request.query.get("cursor", "")
    cursor = int(raw) if raw else 0
    if cursor >= COUNT:
        await asyncio.sleep(3600)  # held: the client's own timeout or close ends it
    last = min(cursor + batch_size(cursor), COUNT)
    body = "".join(f"{n} {'p' * (n % 50)}\n" for n in range(cursor + 1, last + 1))
    STATS["events_written"] += last - cursor
    return web.Response(text=body, headers={"X-Cursor": str(last)})


async def flood(request):
    STATS["flood"] += 1
    total = int(request.query.get("bytes", str(512 << 20)))
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await resp.prepare(request)
    line = b"data: " + b"x" * 1017 + b"\n"
    chunk = line * 256  # 256 KiB per write
    sent = 0
    try:
        while sent < total:
            await resp.write(chunk)
            sent += len(chunk)
        await asyncio.sleep(3600)
    except ConnectionError:  # the client gave up on the event, as it should
        pass
    return resp


async def instant(request):
    STATS["instant"] += 1
    raw = request.query.get("cursor", "")
    cursor = int(raw) if raw else 0
    if request.query.get("same") == "1":  # nothing new: the same cursor, no body, at once
        return web.Response(body=b"", headers={"X-Cursor": str(cursor)})
    size = int(request.query.get("size", str(256 << 10)))
    return web.Response(body=b"i" * size, headers={"X-Cursor": str(cursor + 1)})


async def stats(_request):
    return web.Response(text=json.dumps(STATS))


async def main():
    stop = stop_event()
    app = web.Application()
    app.router.add_get("/sse", sse)
    app.router.add_get("/poll", poll)
    app.router.add_get("/flood", flood)
    app.router.add_get("/instant", instant)
    app.router.add_get("/_stats", stats)
    # handler_cancellation: a held or cut response ends as soon as the client (or proxy) leaves.
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.05, access_log=None)
    await runner.setup()
    sock = listening_socket()
    await web.SockSite(runner, sock).start()
    announce(sock)
    await stop.wait()
    await close_within(runner.cleanup())


if __name__ == "__main__":
    asyncio.run(main())
