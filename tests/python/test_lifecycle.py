"""Waiting, closing, collecting: next(timeout), close from another thread, GC, many streams."""

import asyncio
import gc
import threading
import time
import weakref

import pytest

import tidewire


def test_next_returns_none_when_the_timeout_passes(peers):
    with tidewire.Stream(f"{peers.sse_url}/events?count=0", "sse") as stream:
        start = time.monotonic()
        assert stream.next(timeout=0.3) is None
        waited = time.monotonic() - start
        assert stream.next(timeout=0) is None
    assert 0.25 <= waited < 3


def test_close_from_another_thread_ends_a_blocked_iteration(peers):
    stream = tidewire.Stream(f"{peers.sse_url}/events?count=2", "sse")
    received, outcome = [], []

    def consume():
        try:
            for event in stream:
                received.append(event.id)
            outcome.append("ended")
        except BaseException as error:  # reported to the test below
            outcome.append(error)

    thread = threading.Thread(target=consume)
    thread.start()
    deadline = time.monotonic() + 5
    while len(received) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # the consumer is now blocked: the server holds the response open
    assert thread.is_alive()
    stream.close()
    thread.join(5)
    assert not thread.is_alive()
    assert outcome == ["ended"] and received == ["0", "1"]
    stream.close()  # idempotent


def test_close_from_another_thread_ends_async_iteration(peers):
    async def main():
        stream = tidewire.Stream(f"{peers.sse_url}/events?count=1", "sse")
        threading.Timer(0.3, stream.close).start()
        return [event.id async for event in stream]

    assert asyncio.run(asyncio.wait_for(main(), 10)) == ["0"]


def test_queued_events_stay_readable_after_close(peers):
    stream = tidewire.Stream(f"{peers.sse_url}/events?count=3", "sse")
    deadline = time.monotonic() + 5
    while stream.stats()["queue_depth"] < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    stream.close()
    assert [event.id for event in stream] == ["0", "1", "2"]
    assert stream.ended


def test_a_collected_stream_is_closed(peers):
    def connections(n):
        deadline = time.monotonic() + 5
        while peers.ws_connections != n and time.monotonic() < deadline:
            time.sleep(0.01)
        return peers.ws_connections

    before = connections(0)
    stream = tidewire.Stream(f"{peers.ws_url}/echo")
    stream.send("x")
    assert stream.next(timeout=5).text == "x"
    assert connections(before + 1) == before + 1
    ref = weakref.ref(stream)
    del stream
    gc.collect()
    assert ref() is None
    assert connections(before) == before


@pytest.mark.timeout(60)
def test_a_hundred_streams_in_one_asyncio_loop(peers):
    async def consume(stream, n):
        ids = []
        async for event in stream:
            ids.append(event.id)
            if len(ids) == n:
                return ids

    async def main():
        threads_before = threading.active_count()
        streams = [tidewire.Stream(f"{peers.sse_url}/events?count=5&interval_ms=10", "sse") for _ in range(100)]
        try:
            results = await asyncio.gather(*(consume(s, 5) for s in streams))
        finally:
            for s in streams:
                s.close()
        # no thread per stream: at most the shared runtime's I/O thread was added
        return results, threading.active_count() - threads_before

    results, new_threads = asyncio.run(asyncio.wait_for(main(), 45))
    assert results == [["0", "1", "2", "3", "4"]] * 100
    assert new_threads <= 1
