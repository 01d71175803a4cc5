#!/usr/bin/env python3
"""A small event feed for the Tidewire demo: one sequence of events, offered over several transports.

    python3 examples/feed/feed.py [--port N] [--count N] [--interval-ms MS] [--start-ms MS]
                                  [--webhook-url URL] [--tls DIR]

Listens on 127.0.0.1, port --port (default 0: an ephemeral port), and prints ``PORT <n>`` once it
accepts connections. After --start-ms (default 500) it publishes --count events (default 20), one
every --interval-ms (default 100), each ``{"type": "tick", "seq": i, "published_at": <unix time,
s>}`` with seq counting from 0, and prints ``DONE`` after the last; it keeps serving them after that.

It exits on SIGINT and SIGTERM, and, when its stdin is a pipe, once that pipe reaches EOF (so a
program that starts it with a pipe never leaves it behind). Any other stdin is not read: started
in the background (``python3 examples/feed/feed.py --port 8000 &``, stdin a terminal or /dev/null),
it runs until it is stopped (``kill %1``).

Every transport sees the same events, each under its own rules:

  GET /poll               The latest event, ETag "<seq>"; 304 Not Modified when If-None-Match
                          matches; 204 before the first event. A poller sees the latest state: an
                          event replaced before the next poll is not seen.
  GET /longpoll?cursor=C  The first event after seq C (C absent: the first event), with
                          X-Cursor: <seq>; held until that event exists. A request held for
                          ?wait_s (default 30) answers 204 with X-Cursor: C (after the last
                          event, every request is held that long).
  GET /sse                text/event-stream: each event as ``id: <seq>``, ``event: tick``, ``data:``.
                          Starts after Last-Event-ID (absent: from the first event). Once the last
                          event is sent the response ends; a client that already has it gets 204,
                          which tells an SSE client that the stream is over.
  GET /ws                 WebSocket: each event as a text message, from the first event on (or
                          after seq ?after=C); closed with 1000 (normal) after the last.
  GET /chat               WebSocket chat room: every text message a client sends goes to every
                          client connected, as {"from": <client number>, "text": <message>}.

With --webhook-url, each event is also POSTed there as a Standard Webhooks delivery (JSON body as
above, ``webhook-id: evt_<seq>``), signed with the secret in the environment variable
TIDEWIRE_FEED_WEBHOOK_SECRET (``whsec_<base64>``) by the ``standardwebhooks`` package. Deliveries go
out in order; one that fails (connection error, 408, 429, 5xx) is retried after a short backoff, as
a real sender would, up to 5 times.

With --tls DIR, every route is served over TLS (https://, wss://) with a self-signed certificate for
127.0.0.1, written to DIR/cert.pem (the CA file a client trusts: tls.ca_file) and DIR/key.pem by
the openssl CLI, or reused from there.
"""

import argparse
import asyncio
import itertools
import json
import os
import signal
import socket
import stat
import sys
import threading
import time
from datetime import datetime, timezone

import aiohttp
from aiohttp import web
from standardwebhooks.webhooks import Webhook

WEBHOOK_SECRET_ENV = "TIDEWIRE_FEED_WEBHOOK_SECRET"


class Feed:
    """The published events, and a condition that wakes every waiter when one is added."""

    def __init__(self, count):
        self.count = count
        self.events = []  # JSON text of each published event; index = seq
        self.changed = asyncio.Condition()
        self.outbox = asyncio.Queue()  # (seq, JSON text) for the webhook sender

    @property
    def done(self):
        return len(self.events) == self.count

    async def publish(self, start_s, interval_s):
        await asyncio.sleep(start_s)
        for seq in range(self.count):
            event = {"type": "tick", "seq": seq, "published_at": round(time.time(), 6)}
            text = json.dumps(event, separators=(",", ":"))
            async with self.changed:
                self.events.append(text)
                self.changed.notify_all()
            self.outbox.put_nowait((seq, text))
            if seq + 1 < self.count:
                await asyncio.sleep(interval_s)
        print("DONE", flush=True)

    async def wait_for(self, seq, timeout_s=None):
        """Waits until event `seq` exists; returns False if timeout_s passes first."""
        async with self.changed:
            try:
                await asyncio.wait_for(self.changed.wait_for(lambda: len(self.events) > seq), timeout_s)
                return True
            except asyncio.TimeoutError:
                return False


def parse_seq(text):
    """A seq from a cursor or Last-Event-ID; -1 (before the first event) when absent or not a number."""
    try:
        return int(text)
    except (TypeError, ValueError):
        return -1


async def poll(request):
    feed = request.app["feed"]
    if not feed.events:
        return web.Response(status=204)
    seq = len(feed.events) - 1
    etag = f'"{seq}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    return web.Response(text=feed.events[seq], content_type="application/json", headers=headers)


async def longpoll(request):
    feed = request.app["feed"]
    cursor = request.query.get("cursor", "")
    wait_s = float(request.query.get("wait_s", "30"))
    seq = parse_seq(cursor) + 1
    # Past the last event a request is held all the same, as a live source's would be.
    if not await feed.wait_for(seq, wait_s):
        return web.Response(status=204, headers={"X-Cursor": cursor})
    return web.Response(text=feed.events[seq], content_type="application/json",
                        headers={"X-Cursor": str(seq), "Cache-Control": "no-cache"})


async def sse(request):
    feed = request.app["feed"]
    seq = parse_seq(request.headers.get("Last-Event-ID")) + 1
    if seq >= feed.count:
        return web.Response(status=204)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    while seq < feed.count:
        await feed.wait_for(seq)
        # Everything published meanwhile goes out in one write.
        chunk = []
        while seq < len(feed.events):
            chunk.append(f"id: {seq}\nevent: tick\ndata: {feed.events[seq]}\n\n")
            seq += 1
        await response.write("".join(chunk).encode())
    await response.write_eof()
    return response


async def ws(request):
    feed = request.app["feed"]
    socket_ = web.WebSocketResponse(heartbeat=None)
    await socket_.prepare(request)
    seq = parse_seq(request.query.get("after")) + 1
    while seq < feed.count:
        await feed.wait_for(seq)
        while seq < len(feed.events):
            await socket_.send_str(feed.events[seq])
            seq += 1
    await socket_.close(code=aiohttp.WSCloseCode.OK, message=b"feed over")
    return socket_


async def chat(request):
    room = request.app["chat"]
    socket_ = web.WebSocketResponse(heartbeat=None)
    await socket_.prepare(request)
    number = next(request.app["chat_numbers"])
    room.add(socket_)
    try:
        async for message in socket_:
            if message.type == aiohttp.WSMsgType.TEXT:
                line = json.dumps({"from": number, "text": message.data})
                await asyncio.gather(*(peer.send_str(line) for peer in list(room)), return_exceptions=True)
    finally:
        room.discard(socket_)
    return socket_


async def send_webhooks(feed, url, secret):
    """Delivers every published event to url, in order, signed; retries what fails."""
    signer = Webhook(secret)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        while True:
            seq, body = await feed.outbox.get()
            msg_id = f"evt_{seq}"
            for attempt in range(5):
                now = datetime.now(tz=timezone.utc)
                headers = {
                    "webhook-id": msg_id,
                    "webhook-timestamp": str(int(now.timestamp())),
                    "webhook-signature": signer.sign(msg_id, now, body),
                    "content-type": "application/json",
                }
                try:
                    async with session.post(url, data=body.encode(), headers=headers) as response:
                        if response.status < 300:
                            break
                        retry = response.status in (408, 429) or response.status >= 500
                        print(f"webhook {msg_id}: HTTP {response.status}", file=sys.stderr, flush=True)
                        if not retry:
                            break
                except aiohttp.ClientError as error:
                    print(f"webhook {msg_id}: {error}", file=sys.stderr, flush=True)
                await asyncio.sleep(0.2 * 2**attempt)


def tls_context(directory):
    """A server context with a self-signed certificate for 127.0.0.1 kept in `directory`."""
    import ssl
    import subprocess

    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    if not os.path.exists(cert):
        os.makedirs(directory, exist_ok=True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def stdin_is_a_pipe():
    """A pipe (or socket) is how a parent ties the feed's life to its own. A terminal is not read: a
    background job reading it would be stopped (SIGTTIN); /dev/null would end the feed at once."""
    try:
        mode = os.fstat(0).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def watch_stdin(loop, stop):
    # os.read rather than sys.stdin: a daemon thread parked in a buffered reader can deadlock
    # interpreter shutdown on the reader's lock.
    try:
        while os.read(0, 4096):
            pass
    except OSError:
        pass
    loop.call_soon_threadsafe(stop.set)


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default 0: an ephemeral port)")
    parser.add_argument("--count", type=int, default=20, help="events to publish (default 20)")
    parser.add_argument("--interval-ms", type=int, default=100, help="time between events (default 100)")
    parser.add_argument("--start-ms", type=int, default=500, help="delay before the first event (default 500)")
    parser.add_argument("--webhook-url", help=f"also POST each event there, signed with ${WEBHOOK_SECRET_ENV}")
    parser.add_argument("--tls", metavar="DIR", help="serve https:// and wss://, certificate in DIR/cert.pem")
    args = parser.parse_args()
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port}: a port is 0 to 65535")
    secret = os.environ.get(WEBHOOK_SECRET_ENV, "")
    if args.webhook_url and not secret:
        parser.error(f"--webhook-url needs the signing secret in ${WEBHOOK_SECRET_ENV}")

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if stdin_is_a_pipe():
        threading.Thread(target=watch_stdin, args=(loop, stop), daemon=True).start()

    feed = Feed(args.count)
    app = web.Application()
    app["feed"] = feed
    app["chat"] = set()
    app["chat_numbers"] = itertools.count(1)
    app.router.add_get("/poll", poll)
    app.router.add_get("/longpoll", longpoll)
    app.router.add_get("/sse", sse)
    app.router.add_get("/ws", ws)
    app.router.add_get("/chat", chat)
    # handler_cancellation: held requests end as soon as their client goes away.
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A fixed port is free again at once after a restart, as servers usually make it.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", args.port))
    except OSError as error:
        parser.error(f"--port {args.port}: cannot listen on 127.0.0.1:{args.port}: {error.strerror}")
    sock.listen(128)
    await web.SockSite(runner, sock, ssl_context=tls_context(args.tls) if args.tls else None).start()
    print(f"PORT {sock.getsockname()[1]}", flush=True)

    tasks = [asyncio.create_task(feed.publish(args.start_ms / 1000, args.interval_ms / 1000))]
    if args.webhook_url:
        tasks.append(asyncio.create_task(send_webhooks(feed, args.webhook_url, secret)))
    await stop.wait()
    for task in tasks:
        task.cancel()
    try:
        await asyncio.wait_for(runner.cleanup(), timeout=2)
    except Exception:  # including the timeout: exiting matters more
        pass


if __name__ == "__main__":
    asyncio.run(main())
