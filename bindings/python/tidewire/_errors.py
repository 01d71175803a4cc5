"""The exceptions of tidewire. The native module raises these; it imports this file at load.

The core makes every text and classifies every code (tw_err_category): ``config`` errors are
ConfigError, a stream's failure is StreamError, anything else Error.
"""

from __future__ import annotations

from typing import Optional


class Error(Exception):
    """Any error that Tidewire reports.

    ``code`` is the name of the core's error code (``"TW_ERR_UNSUPPORTED"``), ``category`` its
    class (``"config"``, ``"network"``, ``"http"``, ``"tls"``, ``"usage"``, ``"closed"``, ... see
    docs/errors.md), ``message`` the core's text.
    """

    def __init__(self, message: str, code: Optional[str] = None, category: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.category = category


class ConfigError(Error, ValueError):
    """A configuration the core refuses: an unknown key (with the closest keys suggested), a key
    given twice, or a value the key does not accept. The message names the key."""


class StreamError(Error):
    """The stream ended with a fatal error (e.g. HTTP 401, a refused WebSocket close code).

    The message is the core's text of the failure (``"<reason> (TW_ERR_HTTP_STATUS, HTTP 401)"``);
    ``reason`` is the reason alone, ``status`` the HTTP status behind it (0 if none),
    ``close_code`` the WebSocket close code (0 if none).
    """

    def __init__(
        self,
        message: str,
        code: Optional[str] = None,
        category: Optional[str] = None,
        reason: str = "",
        status: int = 0,
        close_code: int = 0,
    ) -> None:
        super().__init__(message, code, category)
        self.reason = reason
        self.status = status
        self.close_code = close_code
