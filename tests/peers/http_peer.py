#!/usr/bin/env python3
"""Scriptable HTTP peer for Tidewire integration tests.

Run as ``python3 tests/peers/http_peer.py``. It listens on 127.0.0.1 with an
ephemeral port and prints ``PORT <n>`` on stdout once connections are accepted.
It exits when stdin reaches EOF (so a crashed test binary never leaves it
behind), on SIGTERM and on SIGINT. Started in the background without a stdin
pipe (e.g. ``&`` in a script, whose stdin is /dev/null), it exits at once;
give it a pipe when running it by hand: ``sleep infinity | python3 ...``.

Every endpoint takes a ``key`` query parameter; all state (counters, request
log) lives under that key, so tests running in parallel against one peer, or
each against its own, never see each other's traffic.

Endpoints (GET; the method is not checked):

  /_log?key=K          request log for K (not itself logged), see below
  /poll/etag           ?changes_every=N  body {"version":V}, ETag "vV",
                       304 on a matching If-None-Match
  /poll/lastmod        ?changes_every=N  same, validated by Last-Modified /
                       If-Modified-Since
  /poll/plain          ?changes_every=N  same, no validators
  /poll/hint           ?interval=S       body {"n":count}, X-Poll-Interval: S
  /status              ?code=C&times=T&retry_after=R&then=PATH
  /redirect            ?n=N&to=PATH
  /redirect/abs        ?to=URL&code=C  one redirect to the absolute URL given, as is
  /stall               ?code=C&length=L&send=S  status C, Content-Length L, only S bytes
                       of body, then silence until the client leaves
  /longpoll            ?index=I&wait_ms=W&publish_every_ms=P&fail_first=F
  /sse                 ?count=N&cut_every=C&retry=R&start=S&delay_ms=D
                        &silence_after=A&hold=1&cut_inside=1
                       (cut_inside: each cut comes after the `id:` and first
                       `data:` line of the next event, not between events)
  /sse/big             ?lines=N&line_bytes=B  one event of N data lines of B bytes
  /sse/raw             ?body=B
  /sse/status          ?code=C&times=T&then=PATH
  /sse/wrongtype
  /sse/post            ?count=N&ids=1&cut_after=C&cut_times=T&end=done|stop&comments=1&hold=1
                       an LLM-style stream (any method): events 1..N (from
                       Last-Event-ID + 1 when ids=1), each preceded by a
                       comment when comments=1; the first T requests (default
                       1) are cut after C events; then `data: [DONE]`
                       (end=done) or `event: message_stop` (end=stop), then
                       the end of the response or, with hold=1, silence
  /sse/token           ?old=A&new=B&old_uses=U plus the /sse parameters: 401
                       unless `Authorization: Bearer B`, or Bearer A on one of
                       the first U requests that carry it

Counting: each endpoint counts its own requests per key. ``count`` is 1-based
(this request included). Poll versions are V = (count - 1) // N, so the first
request always sees version 0 and N <= 0 means "never changes".

Log format: one line per request,
``t_ms=<ms>;path=<raw path+query>;conn=<client port>;if-none-match=<v>;if-modified-since=<v>;``
``last-event-id=<v>;x-test=<v>;authorization=<v>;content-type=<v>;method=<m>;body=<hex>``. So that any value can be recovered exactly,
the characters ``%``, ``;``, CR and LF inside a value are written as ``%25``,
``%3B``, ``%0D`` and ``%0A`` (tidewire::test::parse_log undoes this).

Query values are percent-decoded byte-for-byte (latin-1), so ``/sse/raw`` can
carry arbitrary bytes. As in HTML forms, ``+`` decodes to a space: send a
literal plus as ``%2B``.
"""

import asyncio
import email.utils
import json
import time
import urllib.parse
from datetime import datetime, timedelta, timezone

from aiohttp import web

from peer_lifecycle import announce, close_within, escape_log_value, listening_socket, stop_event, tls_context_from_args

START = time.monotonic()
LASTMOD_EPOCH = datetime(2020, 1, 1, tzinfo=timezone.utc)

# Upper bound of events coalesced into one write when no delay is asked for:
# large enough to make 10^4-event streams cheap, small enough that clients
# still see the stream arrive in many reads.
SSE_BATCH = 64

LOG_HEADERS = ("If-None-Match", "If-Modified-Since", "Last-Event-ID", "X-Test", "Authorization",
               "Content-Type")


class KeyState:
    __slots__ = ("t0", "counts", "log")

    def __init__(self):
        self.t0 = time.monotonic()
        self.counts = {}
        self.log = []

    def bump(self, counter):
        n = self.counts.get(counter, 0) + 1
        self.counts[counter] = n
        return n


STATES = {}


def state_for(key):
    st = STATES.get(key)
    if st is None:
        st = STATES[key] = KeyState()
    return st


def parse_query(query_string):
    # latin-1 keeps the decoding byte-exact; every other consumer only sees
    # ASCII (numbers, paths, dates).
    return dict(urllib.parse.parse_qsl(query_string, keep_blank_values=True,
                                       encoding="latin-1"))


def int_param(query, name, default):
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name} must be an integer, got {raw!r}")


class Call:
    """One request as seen by an endpoint.

    Separate from the aiohttp request because ``then=`` delegation runs an
    endpoint with another path and query while answering on the same
    connection.
    """

    def __init__(self, request, path, query, key):
        self.request = request
        self.path = path
        self.query = query
        self.key = key
        self.state = state_for(key)

    def count(self):
        return self.state.bump(self.path)

    def delegate(self, target):
        parts = urllib.parse.urlsplit(target)
        query = parse_query(parts.query)
        query["key"] = self.key
        return dispatch(Call(self.request, parts.path, query, self.key))


def versioned(call):
    every = int_param(call.query, "changes_every", 1)
    n = call.count()
    return (n - 1) // every if every > 0 else 0


def json_response(obj, status=200, headers=None):
    return web.Response(status=status, headers=headers,
                        body=json.dumps(obj, separators=(",", ":")).encode(),
                        content_type="application/json")


def etag_matches(header, etag):
    if header is None:
        return False
    if header.strip() == "*":
        return True
    # If-None-Match uses the weak comparison (RFC 9110 13.1.2).
    candidates = (c.strip() for c in header.split(","))
    return any(c.removeprefix("W/") == etag for c in candidates)


async def poll_etag(call):
    v = versioned(call)
    etag = f'"v{v}"'
    headers = {"ETag": etag, "X-Custom": f"custom-{v}"}
    if etag_matches(call.request.headers.get("If-None-Match"), etag):
        return web.Response(status=304, headers=headers)
    return json_response({"version": v}, headers=headers)


async def poll_lastmod(call):
    v = versioned(call)
    modified = LASTMOD_EPOCH + timedelta(seconds=v)
    headers = {"Last-Modified": email.utils.format_datetime(modified, usegmt=True),
               "X-Custom": f"custom-{v}"}
    ims = call.request.headers.get("If-Modified-Since")
    if ims:
        try:
            since = email.utils.parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            since = None  # unparseable dates are ignored, as RFC 9110 asks
        if since is not None and since.tzinfo is not None and modified <= since:
            return web.Response(status=304, headers=headers)
    return json_response({"version": v}, headers=headers)


async def poll_plain(call):
    v = versioned(call)
    return json_response({"version": v}, headers={"X-Custom": f"custom-{v}"})


async def poll_hint(call):
    n = call.count()
    return json_response({"n": n},
                         headers={"X-Poll-Interval": call.query.get("interval", "")})


def bodyless(code):
    return code < 200 or code in (204, 304)


async def status_then(call, error_body):
    """Shared by /status and /sse/status: C for the first T requests, then
    whatever ``then`` answers (or ``ok-<count>``)."""
    code = int_param(call.query, "code", 500)
    times = int_param(call.query, "times", -1)  # negative: forever
    n = call.count()
    if times < 0 or n <= times:
        headers = {}
        if "retry_after" in call.query:
            headers["Retry-After"] = call.query["retry_after"]
        body = None if bodyless(code) or not error_body else f"status {code}".encode()
        if body is None:
            return web.Response(status=code, headers=headers)
        return web.Response(status=code, headers=headers, body=body,
                            content_type="text/plain")
    target = call.query.get("then")
    if target:
        return await call.delegate(target)
    return web.Response(text=f"ok-{n}")


async def status(call):
    return await status_then(call, error_body=True)


async def framework_404(call):
    """A 404 as aiohttp makes it by default: its body restates the status ("404: Not Found")."""
    raise web.HTTPNotFound()


async def sse_status(call):
    return await status_then(call, error_body=False)


def with_key(target, key):
    parts = urllib.parse.urlsplit(target)
    pairs = [(k, v) for k, v in urllib.parse.parse_qsl(
        parts.query, keep_blank_values=True, encoding="latin-1") if k != "key"]
    pairs.append(("key", key))
    query = urllib.parse.urlencode(pairs, encoding="latin-1",
                                   quote_via=urllib.parse.quote)
    return urllib.parse.urlunsplit(("", "", parts.path, query, ""))


async def redirect(call):
    n = int_param(call.query, "n", 0)
    target = call.query.get("to")
    if not target:
        raise web.HTTPBadRequest(text="redirect needs to=PATH")
    call.count()
    if n > 0:
        quoted_to = urllib.parse.quote(target, safe="", encoding="latin-1")
        location = f"/redirect?n={n - 1}&to={quoted_to}&key={urllib.parse.quote(call.key)}"
    else:
        location = with_key(target, call.key)
    # Alternate both Location forms so clients have to resolve relative ones.
    if n % 2 == 0:
        port = call.request.transport.get_extra_info("sockname")[1]
        location = f"http://127.0.0.1:{port}{location}"
    return web.Response(status=302, headers={"Location": location},
                        text=f"redirect {n}")


async def redirect_abs(call):
    call.count()
    target = call.query.get("to")
    if not target:
        raise web.HTTPBadRequest(text="redirect/abs needs to=URL")
    return web.Response(status=int_param(call.query, "code", 302), headers={"Location": target},
                        text="moved")


async def stall(call):
    call.count()
    request = call.request
    resp = web.StreamResponse(status=int_param(call.query, "code", 503))
    resp.content_type = "text/plain"
    resp.content_length = int_param(call.query, "length", 100)
    await resp.prepare(request)
    try:
        await resp.write(b"x" * int_param(call.query, "send", 4))
        await wait_until_client_leaves(request)
    except ConnectionResetError:
        pass
    return resp


async def longpoll(call):
    n = call.count()
    if n <= int_param(call.query, "fail_first", 0):
        return web.Response(status=500, text="status 500")
    period = max(int_param(call.query, "publish_every_ms", 50), 1) / 1000.0
    wait = max(int_param(call.query, "wait_ms", 5000), 0) / 1000.0
    t0 = call.state.t0

    def current():
        return int((time.monotonic() - t0) // period)

    index = call.query.get("index")
    if index not in (None, ""):
        try:
            wanted = int(index)
        except ValueError:
            raise web.HTTPBadRequest(text=f"index must be an integer, got {index!r}")
        deadline = time.monotonic() + wait
        # The next publication time is known, so sleep straight to it; loop
        # only because float rounding may land a hair before the tick.
        while current() <= wanted:
            now = time.monotonic()
            if now >= deadline:
                break
            next_tick = t0 + (wanted + 1) * period
            await asyncio.sleep(min(max(next_tick - now, 0.0005), deadline - now))
    cur = current()
    return json_response({"index": cur}, headers={"X-Consul-Index": str(cur)})


async def wait_until_client_leaves(request):
    # With handler_cancellation the handler is cancelled as soon as the
    # connection drops; the poll is only a backstop should that not happen.
    transport = request.transport
    while transport is not None and not transport.is_closing():
        await asyncio.sleep(0.1)


async def flush_transport(request):
    """Wait until everything written so far has left user space.

    ``transport.abort()`` discards the transport's buffer, so without this a
    cut would happen at an arbitrary point instead of after exactly C events.
    There is no completion event for "buffer empty" short of lowering the
    write-buffer limits, so poll; it only spins while the client is reading.
    """
    transport = request.transport
    while (transport is not None and not transport.is_closing()
           and transport.get_write_buffer_size() > 0):
        await asyncio.sleep(0.001)


def sse_event(i):
    return b'id: %d\ndata: {"i":%d}\n\n' % (i, i)


async def sse(call):
    request = call.request
    q = call.query
    count = int_param(q, "count", 10)
    cut_every = int_param(q, "cut_every", 0)
    delay = int_param(q, "delay_ms", 0) / 1000.0
    silence_after = int_param(q, "silence_after", -1)
    hold = q.get("hold") == "1"
    cut_inside = q.get("cut_inside") == "1"
    call.count()

    first = int_param(q, "start", 1)
    last_id = request.headers.get("Last-Event-ID", "").strip()
    if last_id.isascii() and last_id.isdigit():
        first = int(last_id) + 1

    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                       "Cache-Control": "no-cache"})
    await resp.prepare(request)
    try:
        if "retry" in q:
            await resp.write(b"retry: %s\n\n" % q["retry"].encode("latin-1"))

        sent = 0  # events on this connection
        i = first
        while i <= count:
            if silence_after >= 0 and sent >= silence_after:
                await wait_until_client_leaves(request)
                return resp
            if delay > 0:
                if sent > 0:
                    await asyncio.sleep(delay)
                batch = 1
            else:
                batch = SSE_BATCH
            # Never let a batch run past a cut or a silence point.
            if cut_every > 0:
                batch = min(batch, cut_every - sent)
            if silence_after >= 0:
                batch = min(batch, silence_after - sent)
            batch = min(batch, count - i + 1)
            await resp.write(b"".join(sse_event(j) for j in range(i, i + batch)))
            i += batch
            sent += batch
            if cut_every > 0 and sent >= cut_every:
                if cut_inside and i <= count:
                    # The next event's id and first data line, but not its end.
                    await resp.write(b'id: %d\ndata: {"i":%d,\n' % (i, i))
                await flush_transport(request)
                # abort() closes the socket without the chunked terminator,
                # which the client must treat as a broken stream.
                request.transport.abort()
                return resp
        if hold or (silence_after >= 0 and sent >= silence_after):
            await wait_until_client_leaves(request)
            return resp
        await resp.write_eof()
    except ConnectionResetError:
        pass  # the client went away; nothing left to do
    return resp


async def sse_post(call):
    request = call.request
    q = call.query
    count = int_param(q, "count", 3)
    ids = q.get("ids") == "1"
    cut_after = int_param(q, "cut_after", -1)
    cut_times = int_param(q, "cut_times", 1)
    n = call.count()
    first = 1
    last_id = request.headers.get("Last-Event-ID", "").strip()
    if ids and last_id.isascii() and last_id.isdigit():
        first = int(last_id) + 1
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                       "Cache-Control": "no-cache"})
    await resp.prepare(request)
    try:
        sent = 0
        for i in range(first, count + 1):
            if cut_after >= 0 and n <= cut_times and sent >= cut_after:
                await flush_transport(request)
                request.transport.abort()
                return resp
            chunk = b": ping %d\n" % i if q.get("comments") == "1" else b""
            if ids:
                chunk += b"id: %d\n" % i
            chunk += b'event: delta\ndata: {"i":%d}\n\n' % i
            await resp.write(chunk)
            sent += 1
        if cut_after >= 0 and n <= cut_times and sent >= cut_after:
            await flush_transport(request)
            request.transport.abort()
            return resp
        end = q.get("end", "")
        if end == "done":
            await resp.write(b"data: [DONE]\n\n")
        elif end == "stop":
            await resp.write(b"event: message_stop\ndata: {}\n\n")
        if q.get("hold") == "1":
            await wait_until_client_leaves(request)
            return resp
        await resp.write_eof()
    except ConnectionResetError:
        pass
    return resp


async def sse_token(call):
    auth = call.request.headers.get("Authorization", "")
    if auth == "Bearer " + call.query.get("new", "new"):
        return await sse(call)
    if auth == "Bearer " + call.query.get("old", "old"):
        if call.state.bump("/sse/token old") <= int_param(call.query, "old_uses", 1):
            return await sse(call)
    call.count()
    return web.Response(status=401, text="token refused")


async def sse_raw(call):
    call.count()
    body = call.query.get("body", "").encode("latin-1")
    return web.Response(body=body, headers={"Content-Type": "text/event-stream",
                                            "Cache-Control": "no-cache"})


async def sse_big(call):
    call.count()
    request = call.request
    lines = int_param(call.query, "lines", 1000)
    line = b"data: " + b"x" * int_param(call.query, "line_bytes", 1024) + b"\n"
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                       "Cache-Control": "no-cache"})
    await resp.prepare(request)
    try:
        for start in range(0, lines, 64):
            await resp.write(line * min(64, lines - start))
        await resp.write(b"\n")
        await wait_until_client_leaves(request)
    except ConnectionResetError:
        pass
    return resp


async def sse_wrongtype(call):
    call.count()
    return web.Response(text="hello", content_type="text/plain")


ENDPOINTS = {
    "/poll/etag": poll_etag,
    "/poll/lastmod": poll_lastmod,
    "/poll/plain": poll_plain,
    "/poll/hint": poll_hint,
    "/status": status,
    "/redirect": redirect,
    "/redirect/abs": redirect_abs,
    "/stall": stall,
    "/longpoll": longpoll,
    "/sse": sse,
    "/sse/raw": sse_raw,
    "/sse/big": sse_big,
    "/sse/status": sse_status,
    "/framework404": framework_404,
    "/sse/wrongtype": sse_wrongtype,
    "/sse/post": sse_post,
    "/sse/token": sse_token,
}


async def dispatch(call):
    handler = ENDPOINTS.get(call.path)
    if handler is None:
        return web.Response(status=404, text=f"no endpoint {call.path}")
    return await handler(call)


def log_line(request, t_ms, body):
    # conn: the client's port, which tells one connection from another (keep-alive reuse).
    peer = request.transport.get_extra_info("peername") if request.transport else None
    fields = [f"t_ms={t_ms:.3f}", "path=" + escape_log_value(request.raw_path),
              f"conn={peer[1] if peer else 0}"]
    for name in LOG_HEADERS:
        fields.append(f"{name.lower()}={escape_log_value(request.headers.get(name, ''))}")
    fields.append("method=" + escape_log_value(request.method))
    fields.append("body=" + body.hex())
    return ";".join(fields)


async def handle(request):
    t_ms = (time.monotonic() - START) * 1000.0
    raw = urllib.parse.urlsplit(request.raw_path)
    query = parse_query(raw.query)
    key = query.get("key", "")
    if request.path == "/_log":
        st = STATES.get(key)
        text = "".join(line + "\n" for line in st.log) if st else ""
        return web.Response(text=text)
    call = Call(request, request.path, query, key)
    body = await request.read()
    call.state.log.append(log_line(request, t_ms, body))
    return await dispatch(call)


async def main():
    stop = stop_event()

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    # handler_cancellation: held long-polls and silent SSE streams end as soon
    # as the client disconnects. A tiny (but non-zero: zero means "no limit")
    # shutdown_timeout because the peer has nothing worth finishing once its
    # test is gone; held responses would otherwise delay exit.
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.05,
                           access_log=None)
    await runner.setup()
    sock = listening_socket()
    await web.SockSite(runner, sock, ssl_context=tls_context_from_args()).start()
    announce(sock)

    await stop.wait()
    await close_within(runner.cleanup())


if __name__ == "__main__":
    asyncio.run(main())
