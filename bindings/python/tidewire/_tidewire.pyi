"""Types of the native module tidewire._tidewire (the C ABI as Python objects)."""

from typing import Any, AsyncIterator, Awaitable, Coroutine, Dict, Generator, Iterator, List, Optional, Tuple, Union

def version() -> str:
    """The core's version string (tw_version_str)."""

def config_keys() -> List[Tuple[str, str, str, str, str, Optional[str]]]:
    """The configuration key table: (name, type, default, accepted, doc, alias) per key."""

class Event:
    """One event of a stream: a message, or a status event (status_events=True)."""

    @property
    def kind(self) -> str:
        """ "message"; "comment" (an SSE comment, sse_comments=True); "auth_required" (a 401/403 while
        reconnect_on_auth_failure="wait": call set_header() or restart()); with status_events=True
        "open", "reconnecting", "error", "closed"."""
    @property
    def id(self) -> str:
        """SSE id, poll ETag (or Last-Modified), long-poll cursor, webhook id; "" when none."""
    @property
    def type(self) -> str:
        """SSE event name ("message" by default), "change" for poll and long-poll, "text" or
        "binary" for WebSocket, the webhook's event type."""
    @property
    def data(self) -> bytes:
        """The payload, byte for byte as received."""
    @property
    def text(self) -> str:
        """The payload decoded as UTF-8 (invalid bytes replaced)."""
    def json(self) -> Any:
        """The payload parsed as JSON."""
    @property
    def headers(self) -> Dict[str, str]:
        """Response (poll, long-poll) or request (webhook) headers, lower-case names."""
    @property
    def transport(self) -> str:
        """The transport that delivered it: "poll", "longpoll", "sse", "ws", "webhook", "mcp" or "redis"."""
    @property
    def received_at(self) -> float:
        """When the I/O thread received it, in seconds on the time.monotonic() clock."""
    @property
    def error(self) -> Optional[str]:
        """For error and reconnecting events: the error code's name; None otherwise."""
    @property
    def status(self) -> int:
        """For error and reconnecting events: the HTTP status behind it, 0 if none."""
    @property
    def close_code(self) -> int:
        """The WebSocket close code behind an error, reconnecting or closed event, 0 if none."""
    @property
    def retry_in(self) -> float:
        """For reconnecting events: seconds until the next attempt; 0 otherwise."""

class Runtime:
    """An I/O thread serving streams."""

    def __init__(self) -> None: ...
    def close(self) -> None:
        """Ends every stream and stops the I/O thread (bounded in time)."""
    def abandon(self) -> None:
        """Forgets the handle without destroying it (in a fork child)."""
    def log_enable(self, level: int, capacity: int) -> None:
        """Queues the I/O thread's log records at `level` (tw_log_level) or more severe, at most `capacity`."""
    def log_next(self, timeout_ms: int) -> Optional[List[Tuple[int, str, int]]]:
        """Queued log records as (level, message, time_ns), waiting without the GIL: [] on timeout,
        None once the runtime is closing."""
    def log_dropped(self) -> int:
        """Log records dropped because the queue was full."""

class Ready(Coroutine[Any, Any, Event]):
    """A coroutine already done: what Stream.__anext__ returns when an event is at hand."""

    def __await__(self) -> Generator[Any, None, Event]: ...
    def send(self, value: Any) -> Any: ...
    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any: ...
    def close(self) -> None: ...

class Stream:
    """A stream handle, iterable with for and async for. Subclasses provide _next_when_ready(), the
    coroutine __anext__ returns when no event is at hand."""

    def __init__(self, runtime: Runtime, settings: List[Tuple[str, Union[str, bytes], int, str]]) -> None: ...
    def __iter__(self) -> Iterator[Event]: ...
    def __next__(self) -> Event: ...
    def __aiter__(self) -> AsyncIterator[Event]: ...
    def __anext__(self) -> Awaitable[Event]: ...
    def next(self, timeout: Optional[float] = None) -> Optional[Event]:
        """The next event, or None if `timeout` seconds pass first (None waits as long as it takes).

        Like ``next(stream)``, raises StopIteration once the stream has ended cleanly and every
        event has been read, and :class:`tidewire.StreamError` if it ended in failure. The GIL is
        released while waiting, and Ctrl-C interrupts."""
    def send(self, message: Union[str, bytes, bytearray, memoryview]) -> None:
        """Sends a WebSocket message: str as a text message, bytes as a binary one. On an mcp
        stream: one JSON-RPC message (or batch) as str, POSTed in the order sent.

        Raises :class:`tidewire.Error` on other transports (code ``TW_ERR_UNSUPPORTED``), when the
        send buffer is full (``TW_ERR_WOULD_BLOCK``, see ``ws_send_buffer_bytes``) and after the
        stream has ended (``TW_ERR_CLOSED``)."""
    def restart(self) -> None:
        """Drops the connection and connects again at once, without backoff, resuming where the
        stream was (SSE Last-Event-ID, poll ETag, long-poll cursor). The request is sent again even
        when ``http_replay_body`` would not. A stream waiting for credentials (an ``auth_required``
        event) tries again now. Any thread.

        Raises :class:`tidewire.Error` for webhook streams (``TW_ERR_UNSUPPORTED``) and after the
        stream has ended (``TW_ERR_CLOSED``)."""
    def ack(self, event: Event) -> None:
        """Acknowledges a message of a redis stream opened with ``redis_ack="manual"``: its entry
        leaves the consumer group's pending list, so no other worker will claim it. Does nothing
        with ``redis_ack="auto"``. Any thread.

        Raises :class:`tidewire.Error` for other transports (``TW_ERR_UNSUPPORTED``) and after the
        stream has ended (``TW_ERR_CLOSED``; the entry stays pending and another worker claims it)."""
    def set_header(self, name: str, value: Optional[str]) -> None:
        """Sets request header `name` to `value` (None removes it) from the next request or
        WebSocket handshake on; call restart() to apply it at once. A stream waiting for
        credentials (an ``auth_required`` event) tries again now. Any thread.

        Raises :class:`tidewire.ConfigError` for a bad name or value (the value is never shown),
        :class:`tidewire.Error` for webhook streams and after the end."""
    def fileno(self) -> int:
        """A file descriptor readable while events are waiting in the core or the stream has ended
        (level-triggered; never read from it). Events the stream has already taken in do not make
        it readable, so try next(0) before waiting on it."""
    def stats(self) -> Dict[str, Union[int, str]]:
        """The stream's counters (see docs/STATISTICS.md), plus ``state`` ("connecting", "open",
        "backoff", "paused", "ended") and ``last_error`` (the last failed attempt's text, "" if
        none). Events the stream has taken in but not handed out yet are no longer counted in
        queue_depth."""
    def close(self) -> None:
        """Ends the stream cleanly. Events already received stay readable; then iteration ends.
        Idempotent; may be called from any thread. A stream garbage-collected unclosed is closed."""
    @property
    def url(self) -> str:
        """The stream's URL; for a webhook stream the URL really bound (with the real port)."""
    @property
    def ended(self) -> bool:
        """True once the stream has ended (events may still be queued: iterate to read them)."""
