"""Real servers for the Python tests, run in-process on one asyncio loop in a background thread.

Each listens on 127.0.0.1 with an ephemeral port:

- ``http`` (aiohttp)
    GET /poll/{key}          the key's latest body, ETag "<version>", 304 on a matching
                             If-None-Match; 204 while nothing is published
    GET /longpoll/{key}      ?cursor=C&wait_s=W: the first version after C (absent: the latest),
                             with X-Cursor: <version>; held until it exists (W s at most, then 204)
    GET /status/{code}       answers that status
    * /llm/{key}             ?count=N&end=done|stop&cut=1: an LLM-style SSE answer to any method:
                             N events ``event: delta``, ``data: {"i": i}``, each after a comment
                             ``: ping``, then ``data: [DONE]`` (end=done) or ``event: message_stop``
                             (end=stop) and silence, or with cut=1 a cut after the events
    GET /auth/{key}          ?count=N&per_connection=P: SSE ``id: <i>``, ``data: {"i": i}`` from
                             Last-Event-ID + 1, below N and at most P per connection (then held),
                             or 401 unless ``Authorization: Bearer <token>`` for the key's token
                             (``Peers.set_token``)
    Every request to /llm and /auth is recorded: ``Peers.requests(key)``, dicts of method, body
    (bytes), content_type, authorization, last_event_id.
- ``sse`` (sse-starlette on uvicorn)
    GET /events              ?count=N&interval_ms=I: N events ``id: <i>``, ``event: tick``,
                             ``data: {"i": i}``, then holds the response open (keepalive
                             comments); resumes after Last-Event-ID
- ``ws`` (websockets)
    /echo                    echoes every message, text as text, binary as binary
    /push                    ?count=N: sends {"i": i} for i < N, then holds
    /close                   ?code=C: closes at once with code C
    /headers                 sends the handshake's X-Test header as a text message, then holds

Tests publish poll / long-poll state with ``Peers.publish(key, obj)``. ``Peers.ws_connections``
counts open WebSocket connections (a stream that is closed or collected drops its connection).
"""

from __future__ import annotations

import asyncio
import datetime
import json
import socket
import threading
import urllib.error
import urllib.request
from typing import Any, Dict, List, Tuple

import uvicorn
import websockets
from aiohttp import web
from sse_starlette.sse import EventSourceResponse
from standardwebhooks.webhooks import Webhook
from starlette.applications import Starlette
from starlette.routing import Route
from websockets.asyncio.server import serve as ws_serve


def _listen() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(256)
    sock.setblocking(False)
    return sock


class Peers:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.versions: Dict[str, List[str]] = {}
        self.ws_connections = 0
        self.tokens: Dict[str, str] = {}
        self._requests: Dict[str, List[Dict[str, Any]]] = {}
        self._changed: asyncio.Condition
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peers", daemon=True)
        self._thread.start()
        if not self._ready.wait(15):
            raise RuntimeError("the test peers did not start")

    # --- control, from the tests' thread -----------------------------------------------------------
    def publish(self, key: str, obj: Any) -> None:
        """Adds a version of `key` for /poll and /longpoll."""
        asyncio.run_coroutine_threadsafe(self._publish(key, json.dumps(obj)), self.loop).result(5)

    def set_token(self, key: str, token: str) -> None:
        """The bearer token /auth/{key} accepts from now on."""
        asyncio.run_coroutine_threadsafe(self._set_token(key, token), self.loop).result(5)

    async def _set_token(self, key: str, token: str) -> None:
        self.tokens[key] = token

    def requests(self, key: str) -> List[Dict[str, Any]]:
        """The requests /llm/{key} and /auth/{key} received so far."""
        return asyncio.run_coroutine_threadsafe(self._copy_requests(key), self.loop).result(5)

    async def _copy_requests(self, key: str) -> List[Dict[str, Any]]:
        return [dict(r) for r in self._requests.get(key, [])]

    def stop(self) -> None:
        async def shutdown() -> None:
            self._uvicorn.should_exit = True
            self._ws.close()
            await self._http.cleanup()
            await asyncio.wait([self._uvicorn_task], timeout=2)
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.wait(others, timeout=2) if others else None

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(5)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)

    # --- servers -----------------------------------------------------------------------------------
    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self._ready.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        self._changed = asyncio.Condition()

        app = web.Application()
        app.router.add_get("/poll/{key}", self._poll)
        app.router.add_get("/longpoll/{key}", self._longpoll)
        app.router.add_get("/status/{code}", self._status)
        app.router.add_route("*", "/llm/{key}", self._llm)
        app.router.add_get("/auth/{key}", self._auth)
        self._http = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1, access_log=None)
        await self._http.setup()
        sock = _listen()
        await web.SockSite(self._http, sock).start()
        self.http_url = f"http://127.0.0.1:{sock.getsockname()[1]}"

        sse_app = Starlette(routes=[Route("/events", self._sse)])
        sock = _listen()
        config = uvicorn.Config(sse_app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
        self._uvicorn = uvicorn.Server(config)
        self._uvicorn_task = self.loop.create_task(self._uvicorn.serve(sockets=[sock]))
        self.sse_url = f"http://127.0.0.1:{sock.getsockname()[1]}"

        self._ws = await ws_serve(self._ws_handler, "127.0.0.1", 0)
        self.ws_url = f"ws://127.0.0.1:{self._ws.sockets[0].getsockname()[1]}"
        while not self._uvicorn.started:
            await asyncio.sleep(0.01)

    async def _publish(self, key: str, text: str) -> None:
        async with self._changed:
            self.versions.setdefault(key, []).append(text)
            self._changed.notify_all()

    async def _poll(self, request: web.Request) -> web.Response:
        versions = self.versions.get(request.match_info["key"], [])
        if not versions:
            return web.Response(status=204)
        etag = f'"{len(versions) - 1}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(text=versions[-1], content_type="application/json", headers={"ETag": etag})

    async def _longpoll(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        cursor = request.query.get("cursor", "")
        wait_s = float(request.query.get("wait_s", "30"))
        if cursor:
            want = int(cursor) + 1
        else:
            want = max(len(self.versions.get(key, [])) - 1, 0)
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: len(self.versions.get(key, [])) > want), wait_s)
            except asyncio.TimeoutError:
                return web.Response(status=204, headers={"X-Cursor": cursor})
        return web.Response(
            text=self.versions[key][want], content_type="application/json", headers={"X-Cursor": str(want)}
        )

    async def _status(self, request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]), text="refused by the test peer")

    async def _record(self, request: web.Request) -> None:
        self._requests.setdefault(request.match_info["key"], []).append(
            {
                "method": request.method,
                "body": await request.read(),
                "content_type": request.headers.get("Content-Type", ""),
                "authorization": request.headers.get("Authorization", ""),
                "last_event_id": request.headers.get("Last-Event-ID", ""),
            }
        )

    async def _event_stream(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        return response

    async def _llm(self, request: web.Request) -> web.StreamResponse:
        await self._record(request)
        response = await self._event_stream(request)
        for i in range(int(request.query.get("count", "3"))):
            await response.write(b': ping\nevent: delta\ndata: {"i": %d}\n\n' % i)
        if request.query.get("cut") == "1":
            request.transport.abort()
            return response
        end = request.query.get("end", "done")
        await response.write(b"data: [DONE]\n\n" if end == "done" else b"event: message_stop\ndata: {}\n\n")
        await asyncio.Event().wait()  # held until the client leaves (handler cancellation)
        return response

    async def _auth(self, request: web.Request) -> web.StreamResponse:
        await self._record(request)
        key = request.match_info["key"]
        if request.headers.get("Authorization") != f"Bearer {self.tokens.get(key)}":
            return web.Response(status=401, text="token refused")
        response = await self._event_stream(request)
        start = int(request.headers.get("Last-Event-ID", "-1")) + 1
        end = min(int(request.query.get("count", "3")), start + int(request.query.get("per_connection", "1000")))
        for i in range(start, end):
            await response.write(b'id: %d\ndata: {"i": %d}\n\n' % (i, i))
        await asyncio.Event().wait()
        return response

    async def _sse(self, request):  # Starlette request
        count = int(request.query_params.get("count", "0"))
        interval_s = int(request.query_params.get("interval_ms", "0")) / 1000
        try:
            start = int(request.headers.get("last-event-id", "-1")) + 1
        except ValueError:
            start = 0

        async def events():
            for i in range(start, count):
                if interval_s:
                    await asyncio.sleep(interval_s)
                yield {"id": str(i), "event": "tick", "data": json.dumps({"i": i})}
            await asyncio.Event().wait()  # hold the response open

        return EventSourceResponse(events(), ping=1)

    async def _ws_handler(self, connection) -> None:
        path = connection.request.path
        route, _, query = path.partition("?")
        params = dict(item.split("=", 1) for item in query.split("&") if "=" in item)
        self.ws_connections += 1
        try:
            if route == "/echo":
                async for message in connection:
                    await connection.send(message)
            elif route == "/push":
                for i in range(int(params.get("count", "1"))):
                    await connection.send(json.dumps({"i": i}))
                await connection.wait_closed()
            elif route == "/headers":
                # One message per handshake: the X-Test header it carried.
                await connection.send(connection.request.headers.get("X-Test", ""))
                await connection.wait_closed()
            elif route == "/close":
                await connection.close(code=int(params.get("code", "1000")), reason="closed by the test peer")
            else:
                await connection.close(code=1008, reason="no such route")
        except websockets.ConnectionClosed:
            pass
        finally:
            self.ws_connections -= 1


def signed_delivery(url: str, msg_id: str, payload: dict, secret: str) -> Tuple[int, str]:
    """POSTs `payload` to `url` signed by standardwebhooks with `secret`; returns (status, body)."""
    body = json.dumps(payload)
    now = datetime.datetime.now(tz=datetime.timezone.utc)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, now, body),
        "content-type": "application/json",
    }
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
