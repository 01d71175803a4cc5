"""An MCP server over Streamable HTTP, made with the official Python SDK (``mcp`` on PyPI):
``MCPServer(...).streamable_http_app()`` under uvicorn, on 127.0.0.1, port announced as ``PORT <n>``.

Options: ``--stateless`` (no session), ``--json`` (JSON answers instead of SSE), ``--event-store``
(resumable streams: every SSE event gets an id, a cut stream is replayed after Last-Event-ID),
``--retry-ms N`` (the ``retry:`` of the priming event), ``--token T`` (401 to requests without
``Authorization: Bearer T``).

Tools:
  add_numbers(a, b)         a + b
  progress(steps, delay_ms) one progress notification per step (the caller's progressToken), then
                            "done <steps>"
  cut_midway(steps)         like progress, but closes the request's SSE stream after half the steps
                            (the rest is stored and replayed on a GET with Last-Event-ID)
  drop_get_stream(delay_ms) closes the GET stream, then a log message on it after delay_ms
  big(size)                 an answer of `size` bytes
  notify_later(delay_ms)    returns at once; then a log message on the GET stream after delay_ms

``/_expire`` terminates every session (as a server restart or an idle timeout would): later
requests with its Mcp-Session-Id are answered 404.

``/_log`` lists the requests the MCP endpoint received, one a line (method, mcp-session-id,
last-event-id, mcp-protocol-version, accept), in the format tidewire::test::parse_log reads.
"""

import asyncio
import itertools
import logging
import sys
import warnings

import uvicorn
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.streamable_http import GET_STREAM_KEY, EventMessage, EventStore

from peer_lifecycle import announce, close_within, escape_log_value, listening_socket, stop_event


class MemoryEventStore(EventStore):
    """Keeps every event of every stream, in order, for replay after a Last-Event-ID.

    A resumed request stream is replayed and then ended, never tailed live: the SDK registers the
    live tail only after the replay and its priming event, and a message stored in between is
    delivered to nobody (its own comment calls this "replay→live-tail ordering window"). Ending the
    GET after the replay makes the client resume again from the last id it received, so the peer
    itself never loses a message; the standalone GET stream is tailed as the SDK does it."""

    def __init__(self):
        self.events = []  # (event_id, stream_id, message)
        self.counter = itertools.count(1)

    async def store_event(self, stream_id, message):
        event_id = f"{stream_id}-{next(self.counter)}"
        self.events.append((event_id, stream_id, message))
        return event_id

    async def replay_events_after(self, last_event_id, send_callback):
        index = next((i for i, e in enumerate(self.events) if e[0] == last_event_id), None)
        if index is None:
            return None
        stream_id = self.events[index][1]
        for event_id, sid, message in self.events[index + 1:]:
            if sid == stream_id and message is not None:
                await send_callback(EventMessage(message, event_id))
        return stream_id if stream_id == GET_STREAM_KEY else None


def build_server():
    server = MCPServer("tidewire-test")

    @server.tool()
    def add_numbers(a: int, b: int) -> int:
        """Adds two numbers."""
        return a + b

    @server.tool()
    async def progress(ctx: Context, steps: int = 3, delay_ms: int = 10) -> str:
        """Reports progress `steps` times, then answers."""
        for i in range(1, steps + 1):
            await ctx.report_progress(i, steps, f"step {i}")
            await asyncio.sleep(delay_ms / 1000)
        return f"done {steps}"

    @server.tool()
    async def cut_midway(ctx: Context, steps: int = 6) -> str:
        """Reports progress, closing the SSE stream half-way (resumable with an event store)."""
        for i in range(1, steps + 1):
            if i == steps // 2 + 1:
                await ctx.close_sse_stream()
            await ctx.report_progress(i, steps, f"step {i}")
            await asyncio.sleep(0.02)
        return f"done {steps}"

    @server.tool()
    async def drop_get_stream(ctx: Context, delay_ms: int = 200) -> str:
        """Closes the GET stream (only with an event store), then sends a log message on it."""
        session = ctx.session
        await ctx.close_standalone_sse_stream()

        async def later():
            await asyncio.sleep(delay_ms / 1000)
            await session.send_log_message(level="info", data="after the drop", logger="test")

        asyncio.get_running_loop().create_task(later())
        return "dropped"

    @server.tool()
    def big(size: int) -> str:
        """An answer of `size` bytes of text."""
        return "x" * size

    @server.tool()
    async def notify_later(ctx: Context, delay_ms: int = 100) -> str:
        """Answers at once, then sends a log message on the GET stream."""
        session = ctx.session

        async def later():
            await asyncio.sleep(delay_ms / 1000)
            await session.send_log_message(level="info", data="later", logger="test")

        asyncio.get_running_loop().create_task(later())
        return "scheduled"

    return server


async def plain(send, text):
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": text.encode()})


def logging_app(app, server, log, token=None):
    async def wrapped(scope, receive, send):
        if scope["type"] == "http" and scope["path"] == "/_log":
            return await plain(send, "".join(line + "\n" for line in log))
        if scope["type"] == "http" and scope["path"] == "/_expire":
            manager = server.session_manager
            for transport in list(manager._server_instances.values()):
                await transport.terminate()
            manager._server_instances.clear()
            return await plain(send, "expired\n")
        if scope["type"] == "http":
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            fields = ["method=" + scope["method"], "path=" + escape_log_value(scope["path"])]
            for name in ("mcp-session-id", "last-event-id", "mcp-protocol-version", "accept"):
                fields.append(f"{name}={escape_log_value(headers.get(name, ''))}")
            log.append(";".join(fields))
            if token is not None and headers.get("authorization") != f"Bearer {token}":
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"www-authenticate", b"Bearer")]})
                await send({"type": "http.response.body", "body": b"unauthorized"})
                return
        await app(scope, receive, send)

    return wrapped


async def main():
    # The SDK reports every session it opens and closes; a test's output needs none of that.
    logging.getLogger("mcp").setLevel(logging.WARNING)
    warnings.simplefilter("ignore")
    stop = stop_event()
    args = sys.argv[1:]
    retry_ms = int(args[args.index("--retry-ms") + 1]) if "--retry-ms" in args else None
    server = build_server()
    app = server.streamable_http_app(
        json_response="--json" in args,
        stateless_http="--stateless" in args,
        event_store=MemoryEventStore() if "--event-store" in args else None,
        retry_interval=retry_ms,
    )
    log = []
    sock = listening_socket()
    config = uvicorn.Config(logging_app(app, server, log, args[args.index("--token") + 1] if "--token" in args else None), log_level="warning", access_log=False, lifespan="on",
                            timeout_graceful_shutdown=1)
    uv = uvicorn.Server(config)
    serving = asyncio.ensure_future(uv.serve(sockets=[sock]))
    while not uv.started and not serving.done():
        await asyncio.sleep(0.01)
    announce(sock)
    await stop.wait()
    uv.should_exit = True
    await close_within(serving)


if __name__ == "__main__":
    asyncio.run(main())
