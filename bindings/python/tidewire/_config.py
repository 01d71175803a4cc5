"""Keyword arguments and dicts to the core's settings, passed on as they are given.

The core resolves keywords (reconnect_max_ms is its alias of reconnect.max_ms), suggests keys for
a typo, refuses a key given twice and reads values as Python prints them (True, 2.0, ['a', 'b']):
this file only turns Python objects into text, in order.
"""

from __future__ import annotations

from typing import Any, List, Mapping, Optional, Tuple, Union

from . import _tidewire

# (name, type, default, accepted, doc, alias) per key, from the core's table.
KEYS = _tidewire.config_keys()

_TEXT = (str, int, float)  # bool is an int
_BYTES = (bytes, bytearray, memoryview)


def text(key: str, value: Any) -> Union[str, bytes]:
    """A Python value as the core takes it: bytes as they are, anything else as str() prints it."""
    if isinstance(value, _BYTES):
        return bytes(value)
    if isinstance(value, (list, tuple)):
        value = list(value)  # printed as [...] whatever the sequence
    elif not isinstance(value, _TEXT):
        raise TypeError(f"{key}: a configuration value is a str, int, float, bool, list or bytes, not {type(value).__name__}")
    return str(value)


def settings(
    url: str,
    transport: Optional[str],
    headers: Optional[Mapping[str, str]],
    options: Optional[Mapping[str, Any]],
    config: Mapping[str, Any],
) -> List[Tuple[str, Union[str, bytes]]]:
    """The (key, value) pairs of a Stream(...) call, in the order they are set."""
    # The order of Node's options (keywords, then options=, then headers=): a key given twice is
    # named in the same order in both languages.
    given = [("url", url), ("transport", transport)]
    given += list(config.items()) + list((options or {}).items())
    given += [(f"header.{name}", value) for name, value in (headers or {}).items()]
    return [(key, text(key, value)) for key, value in given if value is not None]
