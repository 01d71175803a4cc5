"""The exceptions of tidewire. The native module raises these; it imports this file at load."""

from __future__ import annotations

from typing import Optional


class Error(Exception):
    """Any error that Tidewire reports.

    ``code`` is the name of the core's error code (``"TW_ERR_UNSUPPORTED"``), ``message`` the detail.
    """

    def __init__(self, message: str, code: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class ConfigError(Error, ValueError):
    """A configuration the core refuses: an unknown key, or a value the key does not accept.

    The message names the key and what it accepts.
    """


class StreamError(Error):
    """The stream ended with a fatal error (e.g. HTTP 401, a refused WebSocket close code).

    ``status`` is the HTTP status behind it (0 if none), ``close_code`` the WebSocket close code
    (0 if none), ``reason`` the core's description.
    """

    def __init__(self, reason: str, code: Optional[str] = None, status: int = 0, close_code: int = 0) -> None:
        detail = [code] if code else []
        if status:
            detail.append(f"HTTP {status}")
        if close_code:
            detail.append(f"close code {close_code}")
        super().__init__(f"{reason} ({', '.join(detail)})" if detail else reason, code)
        self.reason = reason
        self.status = status
        self.close_code = close_code
