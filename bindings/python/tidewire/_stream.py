"""tidewire.Stream: a stream as a Python iterator, async iterator and context manager."""

from __future__ import annotations

import asyncio
from typing import Any, Mapping, Optional

from . import _config, _runtime, _tidewire

Event = _tidewire.Event


class Stream(_tidewire.Stream):
    """One subscription to one source, over poll, long-poll, SSE, WebSocket, webhook or MCP.

    ``Stream(url, transport=None, *, headers=None, options=None, **config)``

    - ``transport``: ``"poll"``, ``"longpoll"``, ``"sse"``, ``"ws"``, ``"webhook"``, ``"mcp"`` or
      ``"redis"``; ws:// and wss:// URLs default to ``"ws"``, redis:// URLs to ``"redis"``, other
      URLs need it. ``"mcp"`` (MCP Streamable
      HTTP): :meth:`send` posts one JSON-RPC message (str); every message received is one event.
    - ``**config``: any configuration key with "." written as "_" (``reconnect_max_ms=2000``,
      ``poll_interval_ms=500``, ``webhook_secret="whsec_..."``); see docs/CONFIGURATION.md.
    - ``options``: raw keys, ``{"reconnect.max_ms": 2000}``.
    - ``headers``: sent on every request and handshake; change them later with
      :meth:`set_header`, reconnect at once with :meth:`restart`.
    - ``http_method`` / ``http_body`` (str or bytes): e.g. POST with a JSON body for LLM streams;
      ``sse_end_data="[DONE]"`` or ``sse_end_event="message_stop"`` end such a stream cleanly.

    The stream starts connecting at once. Iterate over it (``for``, ``async for``) to receive
    :class:`Event` objects; iteration ends when the stream ends cleanly and raises
    :class:`tidewire.StreamError` if it ended in failure. Status events (open, reconnecting, error,
    closed) are included only with ``status_events=True``; ``comment`` events only with
    ``sse_comments=True``; ``auth_required`` events with ``reconnect_on_auth_failure="wait"``.

    Raises :class:`tidewire.ConfigError` for an unknown key or a refused value.

    >>> with tidewire.Stream("http://127.0.0.1:8000/sse", "sse") as stream:
    ...     for event in stream:
    ...         print(event.id, event.json())
    """

    def __init__(
        self,
        url: str,
        transport: Optional[str] = None,
        *,
        headers: Optional[Mapping[str, str]] = None,
        options: Optional[Mapping[str, Any]] = None,
        **config: Any,
    ) -> None:
        super().__init__(_runtime.shared(), _config.settings(url, transport, headers, options, config))

    # Iteration (next(stream), for, async for), next(timeout), send, ack, restart, set_header, close,
    # fileno, stats, url and ended are the native base's: events come from the core in batches and are handed out from the
    # stream's buffer without a call into the core. Waiting releases the GIL; Ctrl-C interrupts.

    def __repr__(self) -> str:
        return f"<tidewire.Stream {self.url}{' (ended)' if self.ended else ''}>"

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def _next_when_ready(self) -> Event:
        # What __anext__ returns when no event is at hand: waits on the running asyncio loop through
        # loop.add_reader on the stream's file descriptor (no thread per stream). One task at a time
        # may wait on a stream.
        while True:
            try:
                event = self.next(0)
            except StopIteration:
                raise StopAsyncIteration from None
            if event is not None:
                return event
            await _readable(self.fileno())


async def _readable(fd: int) -> None:
    loop = asyncio.get_running_loop()
    ready = loop.create_future()
    loop.add_reader(fd, _wake, ready)
    try:
        await ready
    finally:
        loop.remove_reader(fd)


def _wake(ready: "asyncio.Future[None]") -> None:
    if not ready.done():
        ready.set_result(None)
