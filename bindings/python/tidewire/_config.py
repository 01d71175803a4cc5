"""Keyword arguments and dicts to the core's string keys, by the core's own key table.

A keyword is a key with "." written as "_": reconnect_max_ms is reconnect.max_ms. Keys may hold
"_" themselves, so the mapping is looked up in the table (tw_config_key_info), never guessed.
"""

from __future__ import annotations

import difflib
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from . import _tidewire
from ._errors import ConfigError

KEYS: Dict[str, Tuple[str, str, str, str]] = {
    name: (type_, default, accepted, doc) for name, type_, default, accepted, doc in _tidewire.config_keys()
}
# Map-type keys ("header.<Name>") take a name of the caller's: they come through headers= / options=.
KEYWORDS: Dict[str, str] = {name.replace(".", "_"): name for name, (type_, *_rest) in KEYS.items() if type_ != "map"}


def text(key: str, value: Any) -> Union[str, bytes]:
    """A Python value as the string the core expects for `key` (http.body may also be bytes)."""
    if key == "http.body" and isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return ",".join(value)
    raise ConfigError(
        f"invalid value for {key}: give a str, int, bool or a list of str (bytes for http.body), "
        f"not {type(value).__name__} "
        f"(accepted: {KEYS.get(key, ('', '', 'see docs/CONFIGURATION.md'))[2]})",
        "TW_ERR_INVALID_VALUE",
    )


def key_of(keyword: str) -> str:
    """The config key a keyword argument stands for; ConfigError (with suggestions) if none."""
    try:
        return KEYWORDS[keyword]
    except KeyError:
        pass
    close = difflib.get_close_matches(keyword, KEYWORDS, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ConfigError(
        f"unknown configuration key {keyword!r} (keywords are keys with '.' written as '_', "
        f"e.g. reconnect_max_ms for reconnect.max_ms){hint}",
        "TW_ERR_UNKNOWN_KEY",
    )


def settings(
    url: str,
    transport: Optional[str],
    headers: Optional[Mapping[str, str]],
    options: Optional[Mapping[str, Any]],
    config: Mapping[str, Any],
) -> List[Tuple[str, Union[str, bytes]]]:
    """The (key, value) pairs of a Stream(...) call, in the order they are set."""
    pairs: Dict[str, Tuple[Union[str, bytes], str]] = {}  # key -> (value, where it came from)

    def put(key: str, value: Any, origin: str) -> None:
        if value is None:
            return
        if key in pairs:
            raise ConfigError(f"{key} is given twice ({pairs[key][1]} and {origin})", "TW_ERR_INVALID_VALUE")
        pairs[key] = (text(key, value), origin)

    put("url", url, "url")
    put("transport", transport, "transport")
    for key, value in (options or {}).items():
        put(key, value, f"options[{key!r}]")
    for keyword, value in config.items():
        put(key_of(keyword), value, keyword)
    for name, value in (headers or {}).items():
        put(f"header.{name}", value, f"headers[{name!r}]")
    return [(key, value) for key, (value, _origin) in pairs.items()]
