"""Events taken from the core in batches: order, content and the end of a stream survive the buffer."""

import asyncio
import gc
import os
import threading
import time
import weakref

import pytest
from conftest import SECRET, deliver

import tidewire


def queued(stream, n, timeout=10):
    """Waits (bounded) until the core's queue holds at least n events; the core reports no event for it."""
    deadline = time.monotonic() + timeout
    while stream.stats()["queue_depth"] < n:
        assert time.monotonic() < deadline, f"{stream.stats()['queue_depth']} of {n} events queued"
        time.sleep(0.01)


def test_one_batch_carries_many_events_in_order(peers):
    with tidewire.Stream(f"{peers.sse_url}/events?count=300", "sse") as stream:
        queued(stream, 300)
        first = stream.next(timeout=5)
        assert stream.stats()["queue_depth"] < 299  # more than one event left the core's queue at once
        events = [first] + [stream.next(timeout=5) for _ in range(299)]
    assert [e.id for e in events] == [str(i) for i in range(300)]
    assert {(e.type, e.kind, e.transport) for e in events} == {("tick", "message", "sse")}
    assert [e.json() for e in events] == [{"i": i} for i in range(300)]


def test_text_and_binary_messages_keep_their_type_and_bytes(peers):
    payloads = [os.urandom(i % 700) if i % 2 else f"text {i} \u00e9\u20ac" for i in range(400)]
    payloads[1] = bytes(range(256))
    payloads[3] = b""
    with tidewire.Stream(f"{peers.ws_url}/echo") as stream:
        for payload in payloads:
            stream.send(payload)
        queued(stream, len(payloads))
        events = [stream.next(timeout=5) for _ in payloads]
    for payload, event in zip(payloads, events):
        if isinstance(payload, bytes):
            assert (event.type, event.data) == ("binary", payload)
        else:
            assert (event.type, event.text, event.data) == ("text", payload, payload.encode())
        assert type(event.data) is bytes and event.data is event.data  # made once, then kept


def test_status_events_and_messages_stay_interleaved(peers):
    with tidewire.Stream(f"{peers.ws_url}/push?count=100", status_events=True) as stream:
        queued(stream, 101)
        stream.close()
        events = list(stream)
    assert [e.kind for e in events] == ["open"] + ["message"] * 100 + ["closed"]
    assert [e.json()["i"] for e in events[1:-1]] == list(range(100))
    assert events[0].error is None and events[0].status == 0


def test_headers_and_ids_of_queued_webhook_deliveries():
    with tidewire.Stream("http://127.0.0.1:0/hooks", "webhook", webhook_secret=SECRET) as stream:
        for n in range(20):
            assert deliver(stream.url, f"msg_{n}", {"type": f"kind.{n % 3}", "n": n})[0] == 204
        events = [stream.next(timeout=5) for _ in range(20)]
    assert [e.id for e in events] == [f"msg_{n}" for n in range(20)]
    assert [e.type for e in events] == [f"kind.{n % 3}" for n in range(20)]
    assert [e.headers["webhook-id"] for e in events] == [f"msg_{n}" for n in range(20)]
    assert all(e.headers["content-type"] == "application/json" for e in events)


def test_close_with_events_buffered_delivers_each_once(peers):
    stream = tidewire.Stream(f"{peers.sse_url}/events?count=200", "sse")
    queued(stream, 200)
    first = stream.next(timeout=5)
    stream.close()
    rest = list(stream)
    assert [first.id] + [e.id for e in rest] == [str(i) for i in range(200)]
    with pytest.raises(StopIteration):
        stream.next(timeout=1)
    assert stream.ended


def test_close_with_events_buffered_delivers_each_once_async(peers):
    async def main():
        stream = tidewire.Stream(f"{peers.sse_url}/events?count=200", "sse")
        queued(stream, 200)
        ids = []
        async for event in stream:
            ids.append(event.id)
            if len(ids) == 1:
                stream.close()
        return ids

    assert asyncio.run(asyncio.wait_for(main(), 10)) == [str(i) for i in range(200)]


def test_async_for_reads_a_fast_stream_completely(peers):
    async def main():
        with tidewire.Stream(f"{peers.ws_url}/push?count=2000") as stream:
            values = []
            async for event in stream:
                values.append(event.json()["i"])
                if len(values) == 2000:
                    return values

    assert asyncio.run(asyncio.wait_for(main(), 20)) == list(range(2000))


def test_anext_is_a_coroutine_for_asyncio_whether_an_event_is_at_hand_or_not(peers):
    async def main():
        with tidewire.Stream(f"{peers.sse_url}/events?count=3&interval_ms=300", "sse") as stream:
            waited = await asyncio.create_task(stream.__anext__())  # nothing there yet: it waits
            queued(stream, 1)
            ready = await asyncio.create_task(stream.__anext__())  # queued: done at once
            last = await asyncio.wait_for(stream.__anext__(), 5)
            return [waited.id, ready.id, last.id]

    assert asyncio.run(asyncio.wait_for(main(), 10)) == ["0", "1", "2"]


def test_an_anext_never_awaited_takes_no_event(peers):
    async def main():
        with tidewire.Stream(f"{peers.sse_url}/events?count=4", "sse") as stream:
            queued(stream, 4)
            stream.__anext__().close()
            dropped = stream.__anext__()
            del dropped
            cancelled = asyncio.ensure_future(stream.__anext__())
            cancelled.cancel()
            with pytest.raises(asyncio.CancelledError):
                await cancelled
            return [(await stream.__anext__()).id for _ in range(4)]

    assert asyncio.run(asyncio.wait_for(main(), 10)) == ["0", "1", "2", "3"]


def test_sync_and_async_reads_share_the_buffer(peers):
    async def take(stream, n):
        events = []
        async for event in stream:
            events.append(event)
            if len(events) == n:
                return events

    with tidewire.Stream(f"{peers.sse_url}/events?count=150", "sse") as stream:
        queued(stream, 150)
        head = [stream.next(timeout=5) for _ in range(10)]
        middle = asyncio.run(asyncio.wait_for(take(stream, 100), 10))
        tail = [stream.next(timeout=5) for _ in range(40)]
        assert stream.next(timeout=0) is None
    assert [e.id for e in head + middle + tail] == [str(i) for i in range(150)]


def test_threads_iterating_one_stream_get_each_event_once(peers):
    stream = tidewire.Stream(f"{peers.ws_url}/push?count=3000")
    got = [[], []]

    def consume(into):
        for event in stream:
            into.append(event.json()["i"])
            if len(got[0]) + len(got[1]) >= 3000:
                stream.close()

    threads = [threading.Thread(target=consume, args=(into,)) for into in got]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert not any(thread.is_alive() for thread in threads)
    assert sorted(got[0] + got[1]) == list(range(3000))


def test_events_outlive_their_stream(peers):
    with tidewire.Stream(f"{peers.sse_url}/events?count=3", "sse") as stream:
        events = [stream.next(timeout=5) for _ in range(3)]
    del stream
    gc.collect()
    assert [(e.id, e.type, e.text) for e in events] == [(str(i), "tick", f'{{"i": {i}}}') for i in range(3)]
    assert "tidewire.Event message sse id='0'" in repr(events[0])
    ref = weakref.ref(events[0])
    del events
    gc.collect()
    assert ref() is None


def test_an_endless_timeout_waits_without_a_deadline(peers):
    with tidewire.Stream(f"{peers.sse_url}/events?count=2", "sse") as stream:
        assert [stream.next(timeout=t).id for t in (float("inf"), 1e300)] == ["0", "1"]


def test_events_are_made_by_streams_only():
    with pytest.raises(TypeError):
        tidewire.Event()
    assert isinstance(tidewire.Stream, type) and issubclass(tidewire.Stream, tidewire._tidewire.Stream)
