"""Keyword arguments and dicts to the core's settings, passed on as they are given.

The core resolves keywords (reconnect_max_ms is its alias of reconnect.max_ms), suggests keys for
a typo, refuses a key given twice, reads values as Python prints them (True, 2.0, ['a', 'b']) and
refuses a list for a key that is no list, or a dict: this file only turns Python objects into text
and says which kind of object each was, in order.
"""

from __future__ import annotations

from typing import Any, List, Mapping, Optional, Tuple, Union

from . import _tidewire

# (name, type, default, accepted, doc, alias) per key, from the core's table.
KEYS = _tidewire.config_keys()

_TEXT = (str, int, float)  # bool is an int
_BYTES = (bytes, bytearray, memoryview)
# tw_value_kind: the core decides which keys take which kind, and words the refusal.
_KIND_TEXT, _KIND_LIST, _KIND_OTHER = _tidewire.VALUE_TEXT, _tidewire.VALUE_LIST, _tidewire.VALUE_OTHER


def text(value: Any) -> Tuple[Union[str, bytes], int, str]:
    """A Python value as the core takes it: (bytes as they are or the text str() prints, its kind, its type name)."""
    name = type(value).__name__
    if isinstance(value, _BYTES):
        return bytes(value), _KIND_TEXT, name
    if isinstance(value, (list, tuple)):
        return str(list(value)), _KIND_LIST, name  # printed as [...] whatever the sequence
    if isinstance(value, _TEXT):
        return str(value), _KIND_TEXT, name
    return "", _KIND_OTHER, name


def settings(
    url: str,
    transport: Optional[str],
    headers: Optional[Mapping[str, str]],
    options: Optional[Mapping[str, Any]],
    config: Mapping[str, Any],
) -> List[Tuple[str, Union[str, bytes], int, str]]:
    """The (key, value) pairs of a Stream(...) call, in the order they are set."""
    # The order of Node's options (keywords, then options=, then headers=): a key given twice is
    # named in the same order in both languages.
    given = [("url", url), ("transport", transport)]
    given += list(config.items()) + list((options or {}).items())
    given += [(f"header.{name}", value) for name, value in (headers or {}).items()]
    return [(key, *text(value)) for key, value in given if value is not None]
