"""Tidewire: one client for pull and push.

Open a :class:`Stream` on a source and read one kind of :class:`Event` from it, whatever the
transport underneath: ``poll``, ``longpoll``, ``sse``, ``ws``, ``webhook`` or ``mcp``.

    import tidewire

    with tidewire.Stream("http://127.0.0.1:8000/sse", "sse", reconnect_max_ms=2000) as stream:
        for event in stream:
            print(event.id, event.type, event.text)

Reconnection, backoff, resume, server hints, signature checks and backpressure are done by the
C++ core this package wraps. Every stream of a process is served by one shared I/O thread,
started with the first stream and stopped at interpreter exit.
"""

from ._errors import ConfigError, Error, StreamError
from ._stream import Event, Stream
from ._tidewire import version as _core_version

__version__: str = _core_version()
"""The core's version (tw_version_str)."""

__all__ = ["Stream", "Event", "Error", "ConfigError", "StreamError", "config_keys", "__version__"]


def config_keys() -> dict:
    """Every configuration key: ``{key: {"type", "default", "accepted", "doc", "keyword"}}``.

    ``keyword`` is the name to pass as a keyword argument of :class:`Stream` (the core's alias;
    None for ``header.<Name>``, which goes through ``headers=``).
    """
    from . import _config

    return {
        key: {"type": t, "default": d, "accepted": a, "doc": doc, "keyword": alias}
        for key, t, d, a, doc, alias in _config.KEYS
    }
