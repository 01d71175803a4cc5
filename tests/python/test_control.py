"""POST streams, end markers, comments, restart(), set_header() and auth_required, through Python."""

import asyncio
import itertools
import json
import threading
import time

import pytest

import tidewire

_keys = itertools.count()


def fresh(name):
    return f"{name}-{next(_keys)}"


def until(condition, timeout=5.0):
    """Polls a condition that has no event to wait on (the peer's request log)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


def test_post_stream_sends_method_and_json_body_and_done_ends_it_cleanly(peers):
    key = fresh("llm")
    body = {"model": "m", "stream": True}
    with tidewire.Stream(
        f"{peers.http_url}/llm/{key}?count=3",
        "sse",
        http_method="POST",
        http_body=json.dumps(body),
        sse_end_data="[DONE]",
    ) as stream:
        events = list(stream)
    assert [e.json() for e in events] == [{"i": 0}, {"i": 1}, {"i": 2}]
    assert all(e.kind == "message" and e.type == "delta" for e in events)
    [request] = peers.requests(key)
    assert request["method"] == "POST"
    assert json.loads(request["body"]) == body
    assert request["content_type"] == "application/json"


def test_bytes_body_with_nul_arrives_intact(peers):
    key = fresh("llm")
    body = b"\x00binary\x00\xff"
    with tidewire.Stream(
        f"{peers.http_url}/llm/{key}?count=1",
        "sse",
        http_method="PUT",
        http_body=body,
        sse_end_data="[DONE]",
        headers={"Content-Type": "application/octet-stream"},
    ) as stream:
        assert len(list(stream)) == 1
    [request] = peers.requests(key)
    assert request["method"] == "PUT"
    assert request["body"] == body
    assert request["content_type"] == "application/octet-stream"


def test_end_event_is_delivered_last(peers):
    key = fresh("llm")
    with tidewire.Stream(
        f"{peers.http_url}/llm/{key}?count=2&end=stop", "sse", http_method="POST", sse_end_event="message_stop"
    ) as stream:
        events = list(stream)
    assert [e.type for e in events] == ["delta", "delta", "message_stop"]


def test_post_cut_without_ids_raises_not_resumable_after_one_post(peers):
    key = fresh("llm")
    with tidewire.Stream(
        f"{peers.http_url}/llm/{key}?count=2&cut=1", "sse", http_method="POST", http_body="{}"
    ) as stream:
        received = []
        with pytest.raises(tidewire.StreamError) as raised:
            for event in stream:
                received.append(event)
    assert len(received) == 2
    assert "cut, not resumable" in str(raised.value)
    assert len(peers.requests(key)) == 1


def test_comments_are_events_only_when_asked(peers):
    for enabled in (False, True):
        key = fresh("llm")
        with tidewire.Stream(
            f"{peers.http_url}/llm/{key}?count=2", "sse", sse_comments=enabled, sse_end_data="[DONE]"
        ) as stream:
            kinds = [e.kind for e in stream]
            stats = stream.stats()
        if enabled:
            assert kinds == ["comment", "message", "comment", "message"]
            assert stats["comments"] == 2
        else:
            assert kinds == ["message", "message"]
            assert stats["comments"] == 0
        assert stats["messages"] == 2


def test_comment_data_is_the_text_after_the_colon(peers):
    with tidewire.Stream(
        f"{peers.http_url}/llm/{fresh('llm')}?count=1", "sse", sse_comments=True, sse_end_data="[DONE]"
    ) as stream:
        comment = stream.next(timeout=5)
    assert comment.kind == "comment" and comment.text == "ping"


def test_restart_resumes_with_last_event_id_and_set_header_applies(peers):
    key = fresh("auth")
    peers.set_token(key, "one")
    with tidewire.Stream(
        f"{peers.http_url}/auth/{key}?count=6",
        "sse",
        headers={"Authorization": "Bearer one"},
        reconnect_initial_ms=30000,
    ) as stream:
        assert [stream.next(timeout=5).id for _ in range(6)] == ["0", "1", "2", "3", "4", "5"]
        peers.set_token(key, "two")
        stream.set_header("Authorization", "Bearer two")
        stream.restart()
        assert until(lambda: len(peers.requests(key)) == 2)
    second = peers.requests(key)[1]
    assert second["authorization"] == "Bearer two"
    assert second["last_event_id"] == "5"


def test_auth_required_then_set_header_from_another_thread_goes_on_without_loss(peers):
    key = fresh("auth")
    peers.set_token(key, "old")

    async def main():
        with tidewire.Stream(
            f"{peers.http_url}/auth/{key}?count=6&per_connection=3",
            "sse",
            headers={"Authorization": "Bearer old"},
            reconnect_on_auth_failure="wait",
            reconnect_auth_wait_ms=30000,
        ) as stream:
            ids = []
            auth_required = []
            async for event in stream:
                if event.kind == "auth_required":
                    auth_required.append(event.status)
                    threading.Thread(target=stream.set_header, args=("Authorization", "Bearer new")).start()
                    continue
                ids.append(event.id)
                if len(ids) == 3:
                    # The token rotates on the server; the next connection is refused.
                    peers.set_token(key, "new")
                    stream.restart()
                if len(ids) == 6:
                    break
            return ids, auth_required

    ids, auth_required = asyncio.run(asyncio.wait_for(main(), 10))
    assert ids == ["0", "1", "2", "3", "4", "5"]
    assert auth_required == [401]
    log = peers.requests(key)
    assert [r["authorization"] for r in log] == ["Bearer old", "Bearer old", "Bearer new"]
    assert log[2]["last_event_id"] == "2"


def test_auth_wait_without_new_credentials_raises_the_401(peers):
    key = fresh("auth")
    peers.set_token(key, "right")
    with tidewire.Stream(
        f"{peers.http_url}/auth/{key}",
        "sse",
        headers={"Authorization": "Bearer wrong"},
        reconnect_on_auth_failure="wait",
        reconnect_auth_wait_ms=100,
    ) as stream:
        first = stream.next(timeout=5)
        assert first.kind == "auth_required" and first.status == 401
        with pytest.raises(tidewire.StreamError) as raised:
            stream.next(timeout=5)
    assert raised.value.status == 401


def test_ws_set_header_applies_on_the_next_handshake_after_restart(peers):
    with tidewire.Stream(f"{peers.ws_url}/headers", headers={"X-Test": "first"}) as stream:
        assert stream.next(timeout=5).text == "first"
        stream.set_header("X-Test", "second")
        stream.restart()
        assert stream.next(timeout=5).text == "second"
        stream.set_header("X-Test", None)
        stream.restart()
        assert stream.next(timeout=5).text == ""


def test_set_header_refuses_bad_input_without_showing_the_value(peers):
    with tidewire.Stream(f"{peers.ws_url}/headers") as stream:
        with pytest.raises(tidewire.ConfigError):
            stream.set_header("Bad Name", "x")
        with pytest.raises(tidewire.ConfigError) as raised:
            stream.set_header("Authorization", "s3cret\r\nX: y")
        assert "s3cret" not in str(raised.value)
        # A NUL reaches the core (which refuses it) rather than cutting the value short.
        with pytest.raises(tidewire.ConfigError) as raised:
            stream.set_header("Authorization", "s3cret\0tail")
        assert "header.Authorization" in str(raised.value) and "s3cret" not in str(raised.value)
        with pytest.raises(tidewire.ConfigError, match="header name"):
            stream.set_header("X-A\0B", "v")
        stream.close()
        list(stream)
        with pytest.raises(tidewire.Error) as closed:
            stream.restart()
        assert closed.value.code == "TW_ERR_CLOSED"


def test_method_and_body_are_refused_for_ws(peers):
    with pytest.raises(tidewire.ConfigError) as raised:
        tidewire.Stream(f"{peers.ws_url}/echo", http_method="POST")
    assert "http.method" in str(raised.value)
