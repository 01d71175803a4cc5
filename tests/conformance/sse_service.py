#!/usr/bin/env python3
"""The test service of LaunchDarkly's sse-contract-tests, over ``tidewire.Stream``.

Run as ``python tests/conformance/sse_service.py`` with the tidewire package importable (the
venv of ``scripts/common.sh`` ``tw_python_package``). It listens on 127.0.0.1 with an ephemeral
port and prints ``PORT <n>``, then ``CAPABILITIES <a,b,...>``, on stdout; it exits on stdin EOF,
SIGTERM, SIGINT or ``DELETE /``, like the peers in tests/peers/.

The harness drives it as its docs/service_spec.md says:

  GET /                 {"name", "capabilities"}
  POST /                creates a stream from {streamUrl, callbackUrl, tag, initialDelayMs,
                        readTimeoutMs, lastEventId, headers, method, body}; 201 with Location
  POST /streams/<n>     a command: {"command": "restart"}
  DELETE /streams/<n>   closes the stream
  DELETE /              stops the service

Each stream reports what it receives to ``<callbackUrl>/<counter>``, one POST at a time so that
the harness sees them in order: ``{"kind": "event", "event": {type, data, id}}``,
``{"kind": "comment", "comment": text}`` and ``{"kind": "error", "error": text}`` for every failed
connection attempt.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from typing import Any, Dict, Optional

import aiohttp
from aiohttp import web

import tidewire

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))
from peer_lifecycle import announce, close_within, listening_socket, stop_event  # noqa: E402

# The suite sends single data lines of about 14 MB ("large message in two chunks"); the core's
# defaults (1 MiB a line, 16 MiB an event) bound what a hostile server can make it buffer.
MAX_EVENT_BYTES = 32 * 1024 * 1024


# The optional features of the harness's docs/optional_features.md that tidewire.Stream provides.
# Not "event-type-listeners": a Stream delivers every event type without being asked, which is the
# harness's default.
CAPABILITIES = ["headers", "last-event-id", "read-timeout", "post", "report", "restart", "comments"]


def stream_config(params: Dict[str, Any]) -> Dict[str, Any]:
    """The Stream(...) keywords for a create-stream request; KeyError/ValueError if malformed."""
    config: Dict[str, Any] = {
        "status_events": True,  # failed attempts arrive as "reconnecting"/"error" events
        "sse_comments": True,
        "sse_max_line_bytes": MAX_EVENT_BYTES,
        "sse_max_event_bytes": MAX_EVENT_BYTES,
    }
    if params.get("headers"):
        config["headers"] = {str(k): str(v) for k, v in params["headers"].items()}
    if params.get("lastEventId"):
        config["sse_last_event_id"] = params["lastEventId"]
    if params.get("initialDelayMs") is not None:
        config["reconnect_initial_ms"] = int(params["initialDelayMs"])
    if params.get("readTimeoutMs") is not None:
        config["read_timeout_ms"] = int(params["readTimeoutMs"])
    if params.get("method"):
        config["http_method"] = params["method"]
        # The suite expects a POST to be sent again on every reconnect, as a GET is; the core sends
        # a non-idempotent request again only when told to (or when it has an id to resume from).
        config["http_replay_body"] = "always"
    if params.get("body"):
        config["http_body"] = params["body"]
    return config


def error_text(event: tidewire.Event) -> str:
    detail = [event.error or "error"]
    if event.status:
        detail.append(f"HTTP {event.status}")
    return " ".join(detail)


class Entity:
    """One stream of the harness's and the task that reports its events."""

    def __init__(self, stream: tidewire.Stream, callback_url: str, session: aiohttp.ClientSession) -> None:
        self.stream = stream
        self.callback_url = callback_url.rstrip("/")
        self.session = session
        self.counter = itertools.count(1)  # the spec's per-stream callback counter
        self.task = asyncio.create_task(self.report())

    async def report(self) -> None:
        try:
            async for event in self.stream:
                message = self.message(event)
                if message is not None:
                    await self.post(message)
        except tidewire.StreamError:
            pass  # its "error" status event, just before, was reported already

    @staticmethod
    def message(event: tidewire.Event) -> Optional[Dict[str, Any]]:
        if event.kind == "message":
            return {"kind": "event", "event": {"type": event.type, "data": event.text, "id": event.id}}
        if event.kind == "comment":
            return {"kind": "comment", "comment": event.text}
        # One "reconnecting" per failed attempt the stream retries, one "error" for the one that
        # ends it. The spec's example names the text "comment"; the harness reads "error".
        if event.kind in ("reconnecting", "error"):
            return {"kind": "error", "error": error_text(event)}
        return None  # "open" and "closed" are no news to the harness

    async def post(self, message: Dict[str, Any]) -> None:
        url = f"{self.callback_url}/{next(self.counter)}"
        try:
            async with self.session.post(url, json=message) as response:
                await response.read()
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            # The harness closes a test's callback endpoint when the test ends, maybe before its
            # DELETE reached us: nothing left to tell it.
            print(f"callback {url}: {error}", file=sys.stderr)

    async def close(self) -> None:
        self.task.cancel()
        self.stream.close()
        await asyncio.gather(self.task, return_exceptions=True)


class Service:
    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop
        self.entities: Dict[str, Entity] = {}
        self.ids = itertools.count(1)
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def status(self, request: web.Request) -> web.Response:
        return web.json_response({"name": "tidewire", "capabilities": CAPABILITIES})

    async def quit(self, request: web.Request) -> web.Response:
        self.stop.set()
        return web.Response(status=204)

    async def create(self, request: web.Request) -> web.Response:
        try:
            params = await request.json()
            stream_url, callback_url = params["streamUrl"], params["callbackUrl"]
            config = stream_config(params)
            stream = tidewire.Stream(stream_url, "sse", **config)
        except (ValueError, KeyError, TypeError, AttributeError, tidewire.Error) as error:
            return web.Response(status=400, text=f"bad stream parameters: {error}")
        entity_id = str(next(self.ids))
        self.entities[entity_id] = Entity(stream, callback_url, self.session)
        print(f"stream {entity_id}: {params.get('tag', '')} {stream_url}", file=sys.stderr)
        return web.Response(status=201, headers={"Location": f"http://{request.host}/streams/{entity_id}"})

    async def command(self, request: web.Request) -> web.Response:
        entity = self.entities.get(request.match_info["id"])
        if entity is None:
            return web.Response(status=404)
        try:
            name = (await request.json())["command"]
        except (ValueError, KeyError, TypeError) as error:
            return web.Response(status=400, text=f"bad command: {error}")
        if name == "restart":
            try:
                entity.stream.restart()
            except tidewire.Error as error:  # the stream has ended
                return web.Response(status=409, text=str(error))
            return web.Response(status=204)
        return web.Response(status=400, text=f"unsupported command {name!r}")

    async def delete(self, request: web.Request) -> web.Response:
        entity = self.entities.pop(request.match_info["id"], None)
        if entity is None:
            return web.Response(status=404)
        await entity.close()
        return web.Response(status=204)

    async def close(self) -> None:
        entities, self.entities = list(self.entities.values()), {}
        await asyncio.gather(*(entity.close() for entity in entities))
        await self.session.close()


async def main() -> None:
    stop = stop_event()
    service = Service(stop)
    app = web.Application()
    app.router.add_get("/", service.status)
    app.router.add_delete("/", service.quit)
    app.router.add_post("/", service.create)
    app.router.add_post("/streams/{id}", service.command)
    app.router.add_delete("/streams/{id}", service.delete)
    runner = web.AppRunner(app, shutdown_timeout=0.05, access_log=None)
    await runner.setup()
    sock = listening_socket()
    await web.SockSite(runner, sock).start()
    announce(sock)
    print(f"CAPABILITIES {','.join(CAPABILITIES)}", flush=True)

    await stop.wait()
    await close_within(service.close())
    await close_within(runner.cleanup())


if __name__ == "__main__":
    asyncio.run(main())
