"""The core's log in logging.getLogger("tidewire"), and a stream that says why it cannot connect."""

import logging
import socket
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import tidewire
from tidewire import _log, _tidewire
from conftest import child_env


class Collect(logging.Handler):
    """Keeps the records of the tidewire logger; wait_for() blocks until one matches."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []
        self.changed = threading.Condition()

    def emit(self, record):
        with self.changed:
            self.records.append(record)
            self.changed.notify_all()

    def wait_for(self, text, timeout=10.0):
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for record in self.records:
                    if text in record.getMessage():
                        return record
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.changed.wait(left)


@pytest.fixture
def collected():
    handler = Collect()
    logger = logging.getLogger("tidewire")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def refusing_port():
    """A loopback port bound but never listening: connections to it are refused."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


def test_unreachable_host_is_a_warning_in_the_tidewire_logger(collected):
    url = "http://no-such-host.invalid/sse"
    with tidewire.Stream(url, "sse", reconnect_initial_ms=20, reconnect_max_ms=80) as stream:
        assert stream.next(timeout=0.05) is None
        record = collected.wait_for("(attempt 2)")
        assert record is not None
        assert record.levelno == logging.WARNING
        assert record.name == "tidewire"
        cause = f"{url}: could not resolve host no-such-host.invalid ("
        assert record.getMessage().startswith(cause)
        stats = stream.stats()
        assert stats["state"] in ("backoff", "connecting")
        assert stats["last_error"].startswith(cause)
        assert stats["attempts"] >= 1


def test_refused_port_names_the_address_once(collected):
    sock = refusing_port()
    port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/sse"
    with tidewire.Stream(url, "sse", reconnect_initial_ms=10000) as stream:
        text = f"{url}: could not connect to 127.0.0.1:{port}: connection refused"
        record = collected.wait_for(text + "; retrying in ")
        assert record is not None and record.levelno == logging.WARNING
        stats = stream.stats()
        assert (stats["state"], stats["last_error"], stats["attempts"]) == ("backoff", text, 1)
    sock.close()


def test_not_found_is_raised_once_with_the_status_said_once(peers, collected):
    url = f"{peers.http_url}/no-such-route"
    stream = tidewire.Stream(url, "sse")
    with pytest.raises(tidewire.StreamError) as raised:
        for _ in stream:
            pass
    text = f"{url} answered HTTP 404 Not Found"
    assert text in str(raised.value)
    assert collected.wait_for(text) is not None
    assert [r.getMessage() for r in collected.records if text in r.getMessage()] == [f"stream ended: {text}"]
    stats = stream.stats()
    assert (stats["state"], stats["last_error"], stats["attempts"]) == ("ended", text, 1)


def test_open_stream_is_open(peers):
    with tidewire.Stream(f"{peers.sse_url}/events?count=1", "sse") as stream:
        next(stream)
        stats = stream.stats()
        assert (stats["state"], stats["last_error"], stats["attempts"]) == ("open", "", 0)


def run_child(script):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=60,
    )


CHILD = """
    import logging, socket, sys, time, tidewire
    {setup}
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = "http://127.0.0.1:%d/sse" % sock.getsockname()[1]
    seen = []
    class Seen(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())
    logging.getLogger("tidewire").addHandler(Seen()) if {observe} else None
    with tidewire.Stream(url, "sse", reconnect_initial_ms=10000) as stream:
        deadline = time.monotonic() + 10
        while stream.stats()["attempts"] < 1 and time.monotonic() < deadline:
            stream.next(timeout=0.02)
        # The record follows the failure on the log thread: wait for it where a handler can see it.
        while {observe} and not seen and time.monotonic() < deadline:
            time.sleep(0.01)
    tidewire._runtime.shutdown()
    print("attempts", stream.stats()["attempts"])
"""


def test_nothing_reaches_stderr_when_logging_is_configured():
    child = run_child(CHILD.format(setup="logging.basicConfig(stream=sys.stdout, level=logging.INFO)", observe=True))
    assert child.returncode == 0, child.stderr
    assert child.stderr == ""
    assert "WARNING:tidewire:http://127.0.0.1:" in child.stdout
    assert ": connection refused; retrying in " in child.stdout


def test_unconfigured_logging_prints_the_warning_once_to_stderr():
    # Python's last resort handler: warnings reach stderr only because nothing is configured.
    child = run_child(CHILD.format(setup="", observe=False))
    assert child.returncode == 0, child.stderr
    lines = [line for line in child.stderr.splitlines() if "connection refused" in line]
    assert len(lines) == 1, child.stderr
    assert lines[0].startswith("http://127.0.0.1:")


def test_a_full_log_queue_drops_and_counts(collected):
    runtime = _tidewire.Runtime()
    try:
        runtime.log_enable(2, 1)  # TW_LOG_INFO, one record
        sock = refusing_port()
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/x"
        settings = [("transport", "poll"), ("url", url), ("reconnect.initial_ms", "1"), ("reconnect.max_ms", "2")]
        stream = _tidewire.Stream(runtime, [(key, value, 0, "str") for key, value in settings])  # TW_VALUE_TEXT
        deadline = time.monotonic() + 10
        while runtime.log_dropped() < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        dropped = runtime.log_dropped()
        assert dropped >= 3
        stream.close()
        records = []
        while not any("log records dropped" in r[1] for r in records) and len(records) < 4:
            records += runtime.log_next(0)
        # The oldest record is kept (the first failure); the count of those lost follows, once.
        level, message, time_ns = records[0]
        assert level == 1 and "(attempt 2)" in message and time_ns > 0
        assert len(records) <= 3, records  # at most one record found room after the first was read
        assert records[-1][0] == 1
        assert records[-1][1].endswith(" log records dropped: the log queue (1 records) was full")
        _log.emit(records)
        report = collected.wait_for("log records dropped: the log queue (1 records) was full")
        assert report is not None and report.levelno == logging.WARNING
        assert int(report.getMessage().split()[0]) >= dropped
        sock.close()
    finally:
        runtime.close()
    assert runtime.log_next(0) is None
