"""tidewire.Stream: a stream as a Python iterator, async iterator and context manager."""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, Dict, Iterator, Mapping, Optional, Union

from . import _config, _runtime, _tidewire

Event = _tidewire.Event


class Stream:
    """One subscription to one source, over poll, long-poll, SSE, WebSocket or webhook.

    ``Stream(url, transport=None, *, headers=None, options=None, **config)``

    - ``transport``: ``"poll"``, ``"longpoll"``, ``"sse"``, ``"ws"`` or ``"webhook"``; ws:// and
      wss:// URLs default to ``"ws"``, other URLs need it.
    - ``**config``: any configuration key with "." written as "_" (``reconnect_max_ms=2000``,
      ``poll_interval_ms=500``, ``webhook_secret="whsec_..."``); see docs/CONFIGURATION.md.
    - ``options``: raw keys, ``{"reconnect.max_ms": 2000}``.
    - ``headers``: sent on every request and handshake.

    The stream starts connecting at once. Iterate over it (``for``, ``async for``) to receive
    :class:`Event` objects; iteration ends when the stream ends cleanly and raises
    :class:`tidewire.StreamError` if it ended in failure. Status events (open, reconnecting, error,
    closed) are included only with ``status_events=True``.

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
        settings = _config.settings(url, transport, headers, options, config)
        self._native = _tidewire.Stream(_runtime.shared(), settings)

    def __repr__(self) -> str:
        return f"<tidewire.Stream {self.url}{' (ended)' if self._native.ended() else ''}>"

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Event]:
        return self

    def __next__(self) -> Event:
        """Waits for the next event. The GIL is released while waiting, and Ctrl-C interrupts."""
        return self._native.next(None)

    def next(self, timeout: Optional[float] = None) -> Optional[Event]:
        """The next event, or None if `timeout` seconds pass first (None waits as long as it takes).

        Like ``next(stream)``, raises StopIteration once the stream has ended cleanly and every
        event has been read, and :class:`tidewire.StreamError` if it ended in failure.
        """
        return self._native.next(timeout)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        """Waits for the next event on the running asyncio loop, through ``loop.add_reader`` on the
        stream's file descriptor: no thread per stream. One task at a time may wait on a stream."""
        while True:
            try:
                event = self._native.next(0)
            except StopIteration:
                raise StopAsyncIteration from None
            if event is not None:
                return event
            await _readable(self._native.fd())

    def send(self, message: Union[str, bytes, bytearray, memoryview]) -> None:
        """Sends a WebSocket message: str as a text message, bytes as a binary one.

        Raises :class:`tidewire.Error` on other transports (code ``TW_ERR_UNSUPPORTED``), when the
        send buffer is full (``TW_ERR_WOULD_BLOCK``, see ``ws_send_buffer_bytes``) and after the
        stream has ended (``TW_ERR_CLOSED``).
        """
        self._native.send(message)

    @property
    def url(self) -> str:
        """The stream's URL; for a webhook stream the URL really bound (with the real port)."""
        return self._native.url()

    @property
    def ended(self) -> bool:
        """True once the stream has ended (events may still be queued: iterate to read them)."""
        return self._native.ended()

    def fileno(self) -> int:
        """A file descriptor readable while events are waiting or the stream has ended
        (level-triggered; never read from it). For select/poll and event loops."""
        return self._native.fd()

    def stats(self) -> Dict[str, int]:
        """The stream's counters: messages, bytes, requests, not_modified, reconnects, errors,
        dropped, queue_depth, queue_peak, paused (see the README's Statistics section)."""
        return self._native.stats()

    def close(self) -> None:
        """Ends the stream cleanly. Events already received stay readable; then iteration ends.
        Idempotent; may be called from any thread. A stream garbage-collected unclosed is closed."""
        self._native.close()


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
