"""The redis transport from Python: events carry the entry id, type, data and fields, and
ack() acknowledges an entry with redis_ack="manual"."""

from __future__ import annotations

import time

import pytest
import tidewire

from redis_peer import RedisServer


@pytest.fixture
def redis():
    server = RedisServer()
    yield server
    server.stop()


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_worker_reads_entries_and_acknowledges_them_by_hand(redis):
    entry = redis.xadd("jobs", ["id", "src-1", "type", "job", "data", "payload-1"])
    redis.xadd("jobs", ["type", "job", "data", "payload-2"])
    with tidewire.Stream(redis.url("?stream=jobs&group=workers&consumer=py"), redis_ack="manual") as stream:
        first = stream.next(timeout=5)
        second = stream.next(timeout=5)
        assert (first.id, first.type, first.data, first.transport) == (entry, "job", b"payload-1", "redis")
        assert first.headers["id"] == "src-1"
        assert second.data == b"payload-2"
        assert redis.pending("jobs", "workers") == 2
        stream.ack(first)
        assert wait_for(lambda: redis.pending("jobs", "workers") == 1)
        stream.ack(second)
        assert wait_for(lambda: redis.pending("jobs", "workers") == 0)
        with pytest.raises(TypeError):
            stream.ack("not an event")


def test_ack_on_another_transport_is_refused(redis):
    redis.xadd("jobs", ["data", "x"])
    with tidewire.Stream(redis.url("?stream=jobs&group=workers")) as worker:
        event = worker.next(timeout=5)
    with tidewire.Stream("http://127.0.0.1:0/hooks", "webhook", webhook_scheme="none") as hook:
        with pytest.raises(tidewire.Error) as error:
            hook.ack(event)
        assert error.value.code == "TW_ERR_UNSUPPORTED"
