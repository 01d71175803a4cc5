"""The package itself: version, configuration keywords, ConfigError messages, errors."""

import re

import pytest

import tidewire
from tidewire import _tidewire


def test_version_is_the_cores():
    assert tidewire.__version__ == _tidewire.version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", tidewire.__version__)


def test_every_key_has_one_keyword_and_keywords_are_unique():
    keys = tidewire.config_keys()
    keywords = [info["keyword"] for info in keys.values() if info["keyword"] is not None]
    assert len(keywords) == len(set(keywords))
    assert keys["reconnect.max_ms"]["keyword"] == "reconnect_max_ms"
    assert keys["header.<Name>"]["keyword"] is None
    for key, info in keys.items():
        if info["type"] != "map":
            assert info["keyword"] == key.replace(".", "_")


def test_keywords_are_the_cores_aliases():
    # reconnect.max_ms holds "_" itself: the core's table, not a guess, tells it from "reconnect_max.ms".
    with tidewire.Stream("http://127.0.0.1:1/", "sse", reconnect_max_ms=10, read_timeout_ms=5, ws_ping_interval_ms=0):
        pass


def test_unknown_keyword_is_a_config_error_with_the_cores_suggestion():
    with pytest.raises(tidewire.ConfigError) as info:
        tidewire.Stream("http://127.0.0.1:1/", "sse", reconect_max_ms=10)
    assert str(info.value) == "unknown key 'reconect_max_ms'; did you mean 'reconnect_max_ms'?"
    assert info.value.code == "TW_ERR_UNKNOWN_KEY"
    assert info.value.category == "config"
    assert isinstance(info.value, tidewire.Error)
    assert isinstance(info.value, ValueError)


def test_unknown_raw_option_gets_a_suggestion_not_a_list_of_every_key():
    with pytest.raises(tidewire.ConfigError) as info:
        tidewire.Stream("http://127.0.0.1:1/", "sse", options={"reconect.max_ms": 10})
    assert str(info.value) == "unknown key 'reconect.max_ms'; did you mean 'reconnect.max_ms'?"


def test_refused_value_names_the_key_and_what_it_accepts():
    with pytest.raises(tidewire.ConfigError) as info:
        tidewire.Stream("http://127.0.0.1:1/", "poll", poll_interval_ms=-5)
    assert "poll.interval_ms" in str(info.value)
    assert "0..86400000" in str(info.value)
    assert info.value.code == "TW_ERR_INVALID_VALUE"


def test_transport_that_cannot_be_inferred_is_a_config_error():
    with pytest.raises(tidewire.ConfigError) as info:
        tidewire.Stream("http://127.0.0.1:1/")
    assert "transport" in str(info.value)


def test_bad_enum_value_lists_the_accepted_ones():
    with pytest.raises(tidewire.ConfigError) as info:
        tidewire.Stream("http://127.0.0.1:1/", "carrier-pigeon")
    assert "carrier-pigeon" in str(info.value) and "longpoll" in str(info.value)


def test_a_key_given_twice_is_refused_by_the_core_naming_both_spellings():
    with pytest.raises(tidewire.ConfigError) as info:
        tidewire.Stream("http://127.0.0.1:1/", "sse", options={"reconnect.max_ms": 5}, reconnect_max_ms=5)
    assert str(info.value) == "key 'reconnect.max_ms' given twice (as reconnect_max_ms and reconnect.max_ms)"
    assert info.value.code == "TW_ERR_INVALID_VALUE"
    with pytest.raises(tidewire.ConfigError, match="key 'header.x-a' given twice"):
        tidewire.Stream("http://127.0.0.1:1/", "sse", headers={"X-A": "1"}, options={"header.x-a": "2"})


def test_values_are_passed_as_python_prints_them_and_read_by_the_core():
    from tidewire import _config

    pairs = dict(
        (key, value)
        for key, value, _kind, _type in _config.settings(
            "ws://h/",
            None,
            {"X-Token": "t"},
            {"reconnect.max_ms": 2000.0, "http.body": b"\x00\x01"},
            {"status_events": True, "ws_subprotocols": ("a", "b"), "webhook_tolerance_s": "5m"},
        )
    )
    assert list(pairs.items()) == [
        ("url", "ws://h/"),
        ("status_events", "True"),
        ("ws_subprotocols", "['a', 'b']"),
        ("webhook_tolerance_s", "5m"),
        ("reconnect.max_ms", "2000.0"),
        ("http.body", b"\x00\x01"),
        ("header.X-Token", "t"),
    ]
    # The core takes them as they are: a stream opens with each.
    with tidewire.Stream(
        "ws://127.0.0.1:1/", reconnect_max_ms=2000.0, status_events=True, ws_subprotocols=["a", "b"], ws_ping_interval_ms="20s"
    ):
        pass
    with pytest.raises(tidewire.ConfigError, match="poll.interval_ms"):
        tidewire.Stream("http://h/", "poll", poll_interval_ms=1.5)
    with pytest.raises(tidewire.ConfigError, match="ws.subscribe_message: a value of type dict is not accepted"):
        tidewire.Stream("ws://h/", ws_subscribe_message={"op": "subscribe"})


@pytest.mark.parametrize(
    "given, type_name",
    [(["a", "b"], "list"), (("a",), "tuple"), ({"op": "subscribe"}, "dict"), ({"a"}, "set"), (object(), "object")],
)
def test_a_list_or_dict_for_a_key_that_is_no_list_is_refused_naming_the_key_and_type(given, type_name):
    # Stored, str(value) would be a string nobody wrote ("['a', 'b']" as the end-of-stream data).
    for options in ({"options": {"sse.end_data": given}}, {"sse_end_data": given}):
        with pytest.raises(tidewire.ConfigError) as info:
            tidewire.Stream("http://127.0.0.1:1/", "sse", **options)
        assert info.value.code == "TW_ERR_INVALID_VALUE"
        assert str(info.value) == (
            f"invalid value for sse.end_data: a value of type {type_name} is not accepted; "
            "expected any text without CR or LF (empty = none)"
        )
    # Numbers, booleans and headers refuse them too; the value itself is never shown.
    for key, value in (("reconnect_max_ms", given), ("status_events", given), ("webhook_secret", given)):
        with pytest.raises(tidewire.ConfigError, match=f"a value of type {type_name} is not accepted") as info:
            tidewire.Stream("http://127.0.0.1:1/", "sse", **{key: value})
        assert "subscribe" not in str(info.value) and "'a'" not in str(info.value)
    with pytest.raises(tidewire.ConfigError, match=f"header.X-Token: a value of type {type_name}"):
        tidewire.Stream("http://127.0.0.1:1/", "sse", headers={"X-Token": given})


def test_a_list_key_takes_a_list_but_not_a_dict_and_an_unknown_key_is_named_first():
    with tidewire.Stream("ws://127.0.0.1:1/", ws_subprotocols=["a", "b"], reconnect_initial_ms=60000) as stream:
        assert stream is not None
    with pytest.raises(tidewire.ConfigError, match="ws.subprotocols: a value of type dict is not accepted; expected comma"):
        tidewire.Stream("ws://127.0.0.1:1/", ws_subprotocols={"a": 1})
    with pytest.raises(tidewire.ConfigError, match="unknown key 'ws_subprotocol'; did you mean"):
        tidewire.Stream("ws://127.0.0.1:1/", ws_subprotocol=["a"])


def test_send_on_a_pull_stream_is_a_clear_error(peers):
    with tidewire.Stream(f"{peers.http_url}/poll/send", "poll") as stream:
        with pytest.raises(tidewire.Error) as info:
            stream.send("hello")
    assert info.value.code == "TW_ERR_UNSUPPORTED"
    assert "only ws and mcp streams" in str(info.value)
    with pytest.raises(TypeError):
        tidewire.Stream(f"{peers.ws_url}/echo").send(42)


def test_stats_has_the_cores_names(peers):
    with tidewire.Stream(f"{peers.http_url}/poll/stats", "poll") as stream:
        assert set(stream.stats()) == {
            "messages",
            "bytes",
            "requests",
            "not_modified",
            "reconnects",
            "errors",
            "dropped",
            "queue_depth",
            "queue_peak",
            "paused",
            "connections",
            "tls_handshakes",
            "wire_bytes",
            "payload_bytes",
            "comments",
            "attempts",
            "state",
            "last_error",
        }


@pytest.mark.parametrize(
    "kwargs",
    [
        {"headers": {"Authorization": "Bearer tok\0en"}},
        {"webhook_secret": "whsec_abc\0def"},
        {"options": {"reconnect.max_ms": "10\0"}},
    ],
)
def test_a_value_with_a_nul_is_refused_naming_the_key_not_truncated(kwargs):
    with pytest.raises(ValueError) as info:
        tidewire.Stream("http://127.0.0.1:1/", "sse", **kwargs)
    message = str(info.value)
    assert "NUL" in message
    assert any(key in message for key in ("header.Authorization", "webhook.secret", "reconnect.max_ms"))
    assert "tok" not in message and "whsec_abc" not in message  # the value (maybe a secret) is not quoted


def test_the_native_layer_refuses_a_nul_too():
    with pytest.raises(ValueError, match="url.*NUL"):
        from tidewire import _runtime

        _tidewire.Stream(_runtime.shared(), [("url", "http://127.0.0.1:1/\0x", 0, "str"), ("transport", "sse", 0, "str")])
