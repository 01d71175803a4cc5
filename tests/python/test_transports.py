"""Every transport, consumed synchronously and with asyncio, against real servers."""

import asyncio
import itertools

import pytest
from conftest import SECRET, WRONG_SECRET, deliver

import tidewire

_keys = itertools.count()


def fresh(name):
    """A key of the peers' state that no other test uses."""
    return f"{name}-{next(_keys)}"


async def take(stream, n):
    events = []
    async for event in stream:
        events.append(event)
        if len(events) == n:
            break
    return events


# --- poll ------------------------------------------------------------------------------------------
def test_poll_sees_each_change_once_and_counts_304s(peers):
    key = fresh("poll")
    peers.publish(key, {"v": 0})
    with tidewire.Stream(f"{peers.http_url}/poll/{key}", "poll", poll_interval_ms=20) as stream:
        first = stream.next(timeout=5)
        assert first.kind == "message" and first.transport == "poll" and first.type == "change"
        assert first.json() == {"v": 0}
        assert first.id == '"0"' and first.headers["etag"] == '"0"'
        assert stream.next(timeout=0.3) is None  # unchanged: 304s, no event
        peers.publish(key, {"v": 1})
        assert stream.next(timeout=5).json() == {"v": 1}
        stats = stream.stats()
    assert stats["messages"] == 2 and stats["not_modified"] >= 1 and stats["requests"] >= 3


def test_poll_async(peers):
    key = fresh("poll")
    peers.publish(key, {"v": "a"})

    async def main():
        with tidewire.Stream(f"{peers.http_url}/poll/{key}", "poll", poll_interval_ms=20) as stream:
            [event] = await take(stream, 1)
            assert event.json() == {"v": "a"}
            peers.publish(key, {"v": "b"})
            [event] = await take(stream, 1)
            assert event.json() == {"v": "b"}

    asyncio.run(asyncio.wait_for(main(), 10))


# --- long-poll -------------------------------------------------------------------------------------
LONGPOLL = {"longpoll_cursor_header": "X-Cursor", "longpoll_cursor_param": "cursor"}


def test_longpoll_carries_the_cursor_and_misses_nothing(peers):
    key = fresh("longpoll")
    peers.publish(key, {"n": 0})
    with tidewire.Stream(f"{peers.http_url}/longpoll/{key}", "longpoll", **LONGPOLL) as stream:
        assert stream.next(timeout=5).json() == {"n": 0}
        for n in (1, 2, 3):
            peers.publish(key, {"n": n})
        got = [stream.next(timeout=5) for _ in range(3)]
    assert [e.json()["n"] for e in got] == [1, 2, 3]
    assert [e.id for e in got] == ["1", "2", "3"]
    assert all(e.transport == "longpoll" for e in got)


def test_longpoll_async(peers):
    key = fresh("longpoll")

    async def main():
        with tidewire.Stream(f"{peers.http_url}/longpoll/{key}", "longpoll", **LONGPOLL) as stream:
            reader = asyncio.ensure_future(take(stream, 2))
            await asyncio.sleep(0.2)
            peers.publish(key, {"n": 0})
            peers.publish(key, {"n": 1})
            return await reader

    events = asyncio.run(asyncio.wait_for(main(), 10))
    assert [e.json()["n"] for e in events] == [0, 1]


# --- SSE -------------------------------------------------------------------------------------------
def test_sse_events_in_order(peers):
    with tidewire.Stream(f"{peers.sse_url}/events?count=5", "sse") as stream:
        events = [stream.next(timeout=5) for _ in range(5)]
    assert [e.id for e in events] == ["0", "1", "2", "3", "4"]
    assert {e.type for e in events} == {"tick"}
    assert [e.json()["i"] for e in events] == [0, 1, 2, 3, 4]
    assert all(e.transport == "sse" and e.kind == "message" for e in events)


def test_sse_async(peers):
    async def main():
        with tidewire.Stream(f"{peers.sse_url}/events?count=3&interval_ms=20", "sse") as stream:
            return await take(stream, 3)

    events = asyncio.run(asyncio.wait_for(main(), 10))
    assert [e.text for e in events] == ['{"i": 0}', '{"i": 1}', '{"i": 2}']


def test_fatal_status_ends_iteration_with_stream_error(peers):
    with tidewire.Stream(f"{peers.http_url}/status/404", "sse") as stream:
        with pytest.raises(tidewire.StreamError) as info:
            for _ in stream:
                pass
    assert info.value.status == 404
    assert info.value.code == "TW_ERR_HTTP_STATUS"
    assert info.value.category == "http"
    # The core's one text of a failure: the reason, then what it does not say already, each once.
    assert str(info.value).startswith(info.value.reason + " (TW_ERR_HTTP_STATUS")
    assert str(info.value).count("HTTP 404") == 1


def test_fatal_status_ends_async_iteration_with_stream_error(peers):
    async def main():
        with tidewire.Stream(f"{peers.http_url}/status/401", "poll") as stream:
            async for _ in stream:
                pass

    with pytest.raises(tidewire.StreamError) as info:
        asyncio.run(asyncio.wait_for(main(), 10))
    assert info.value.status == 401


def test_status_events_only_when_asked(peers):
    with tidewire.Stream(f"{peers.sse_url}/events?count=1", "sse") as stream:
        assert stream.next(timeout=5).kind == "message"
    with tidewire.Stream(f"{peers.sse_url}/events?count=1", "sse", status_events=True) as stream:
        assert stream.next(timeout=5).kind == "open"
        assert stream.next(timeout=5).kind == "message"
        stream.close()
        kinds = [event.kind for event in stream]
    assert kinds == ["closed"]


def test_status_events_report_the_error_then_iteration_raises(peers):
    with tidewire.Stream(f"{peers.http_url}/status/403", "poll", status_events=True) as stream:
        event = stream.next(timeout=5)
        assert (event.kind, event.status, event.error) == ("error", 403, "TW_ERR_HTTP_STATUS")
        with pytest.raises(tidewire.StreamError):
            stream.next(timeout=5)


# --- WebSocket -------------------------------------------------------------------------------------
def test_ws_receives_and_transport_is_inferred(peers):
    with tidewire.Stream(f"{peers.ws_url}/push?count=4") as stream:
        events = [stream.next(timeout=5) for _ in range(4)]
    assert [e.json() for e in events] == [{"i": i} for i in range(4)]
    assert {(e.transport, e.type) for e in events} == {("ws", "text")}


def test_ws_send_text_and_bytes(peers):
    with tidewire.Stream(f"{peers.ws_url}/echo", "ws") as stream:
        stream.send("hello")
        stream.send(b"\x00\x01\xff")
        stream.send(bytearray(b"ba"))
        echoes = [stream.next(timeout=5) for _ in range(3)]
    assert [(e.type, e.data) for e in echoes] == [("text", b"hello"), ("binary", b"\x00\x01\xff"), ("binary", b"ba")]


def test_ws_async_send_and_receive(peers):
    async def main():
        with tidewire.Stream(f"{peers.ws_url}/echo") as stream:
            for i in range(10):
                stream.send(f"m{i}")
            return await take(stream, 10)

    events = asyncio.run(asyncio.wait_for(main(), 10))
    assert [e.text for e in events] == [f"m{i}" for i in range(10)]


def test_ws_refused_close_code_is_a_stream_error(peers):
    with tidewire.Stream(f"{peers.ws_url}/close?code=1008") as stream:
        with pytest.raises(tidewire.StreamError) as info:
            list(stream)
    assert info.value.close_code == 1008


def test_ws_normal_close_ends_iteration_cleanly(peers):
    with tidewire.Stream(f"{peers.ws_url}/close?code=1000") as stream:
        assert list(stream) == []
        with pytest.raises(StopIteration):
            stream.next(timeout=1)


# --- webhook ---------------------------------------------------------------------------------------
def webhook(**config):
    return tidewire.Stream("http://127.0.0.1:0/hooks", "webhook", webhook_secret=SECRET, **config)


def test_webhook_url_has_the_real_port():
    with webhook() as stream:
        assert stream.url.startswith("http://127.0.0.1:") and stream.url.endswith("/hooks")
        assert not stream.url.startswith("http://127.0.0.1:0/")


def test_webhook_signed_delivery_is_an_event_and_a_forged_one_is_refused():
    with webhook() as stream:
        assert deliver(stream.url, "msg_good", {"type": "order.paid", "n": 1})[0] == 204
        status, body = deliver(stream.url, "msg_forged", {"type": "order.paid", "n": 2}, secret=WRONG_SECRET)
        assert status == 401, body
        event = stream.next(timeout=5)
        assert stream.next(timeout=0.3) is None  # the forged delivery was never queued
    assert (event.transport, event.id, event.type) == ("webhook", "msg_good", "order.paid")
    assert event.json() == {"type": "order.paid", "n": 1}
    assert event.headers["webhook-id"] == "msg_good"


def test_webhook_async():
    async def main():
        with webhook() as stream:
            loop = asyncio.get_running_loop()
            reader = asyncio.ensure_future(take(stream, 3))
            for n in range(3):
                status, _ = await loop.run_in_executor(None, deliver, stream.url, f"msg_{n}", {"type": "t", "n": n})
                assert status == 204
            return await reader

    events = asyncio.run(asyncio.wait_for(main(), 10))
    assert [e.id for e in events] == ["msg_0", "msg_1", "msg_2"]
