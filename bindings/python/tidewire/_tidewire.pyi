"""Types of the native module tidewire._tidewire (the C ABI as Python objects)."""

from typing import Any, Dict, List, Optional, Tuple, Union

def version() -> str:
    """The core's version string (tw_version_str)."""

def config_keys() -> List[Tuple[str, str, str, str, str]]:
    """The configuration key table: (name, type, default, accepted, doc) per key."""

class Event:
    """One event of a stream: a message, or a status event (status_events=True)."""

    @property
    def kind(self) -> str:
        """ "message", or with status_events=True "open", "reconnecting", "error", "closed"."""
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
        """The transport that delivered it: "poll", "longpoll", "sse", "ws" or "webhook"."""
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

class Stream:
    """A stream handle."""

    def __init__(self, runtime: Runtime, settings: List[Tuple[str, str]]) -> None: ...
    def next(self, timeout: Optional[float]) -> Optional[Event]: ...
    def close(self) -> None: ...
    def fd(self) -> int: ...
    def send(self, message: Union[str, bytes, bytearray, memoryview]) -> None: ...
    def url(self) -> str: ...
    def stats(self) -> Dict[str, int]: ...
    def ended(self) -> bool: ...
