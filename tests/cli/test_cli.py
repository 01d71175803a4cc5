"""The tidewire command against real peers: what it prints, what it sends, how it exits.

Every peer listens on 127.0.0.1 on a port the system picks; every run of the program is bounded
(subprocess timeouts, queue waits), and nothing sleeps to wait for an event.
"""

from __future__ import annotations

import base64
import contextlib
import json
import queue
import signal
import socket
import subprocess
import threading
from typing import List, Optional

import pytest
from websockets.sync.server import serve as ws_serve

from peers import signed_delivery  # tests/python, on the path by conftest.py

SECRET = "whsec_" + base64.b64encode(b"tidewire cli tests secret key!!!").decode()
WRONG_SECRET = "whsec_" + base64.b64encode(b"a secret the receiver never saw").decode()
TIMEOUT_S = 20


def run(tidewire: str, *args: str, stdin: Optional[str] = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [tidewire, *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


def json_lines(stdout: str) -> List[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


@contextlib.contextmanager
def refusing_port():
    """A loopback port that refuses connections: bound and held, never listening, so no parallel
    test's server can take it while the test runs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


class Running:
    """A tidewire process whose output lines are read by threads, so a test can wait for one."""

    def __init__(self, tidewire: str, *args: str) -> None:
        self.proc = subprocess.Popen(
            [tidewire, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.stdout: "queue.Queue[str]" = queue.Queue()
        self.stderr: "queue.Queue[str]" = queue.Queue()
        self.stderr_lines: List[str] = []
        self.readers = [
            threading.Thread(target=self._pump, args=(stream, into), daemon=True)
            for stream, into in ((self.proc.stdout, self.stdout), (self.proc.stderr, self.stderr))
        ]
        for reader in self.readers:
            reader.start()

    @staticmethod
    def _pump(stream, into) -> None:
        for line in stream:
            into.put(line.rstrip("\n"))

    def line(self, which: str = "stdout") -> str:
        got = (self.stdout if which == "stdout" else self.stderr).get(timeout=TIMEOUT_S)
        if which == "stderr":
            self.stderr_lines.append(got)
        return got

    def stderr_until(self, prefix: str) -> str:
        while True:
            line = self.line("stderr")
            if line.startswith(prefix):
                return line

    def stop(self, sig: int) -> int:
        self.proc.send_signal(sig)
        status = self.proc.wait(TIMEOUT_S)
        # The process has exited, but its last lines may still be in the pipes: each reader ends at
        # the pipe's end, and only then has it queued everything.
        for reader in self.readers:
            reader.join(TIMEOUT_S)
            assert not reader.is_alive(), "the output pipes of the exited process did not close"
        while not self.stderr.empty():
            self.stderr_lines.append(self.stderr.get_nowait())
        return status

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(TIMEOUT_S)


@pytest.fixture
def running(tidewire):
    started: List[Running] = []

    def start(*args: str) -> Running:
        started.append(Running(tidewire, *args))
        return started[-1]

    yield start
    for process in started:
        process.close()


# --- the manual and usage errors ------------------------------------------------------------------
def test_help_is_a_manual_page_with_the_exit_statuses(tidewire):
    result = run(tidewire, "--help")
    assert result.returncode == 0
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "EXAMPLES"):
        assert f"\n{section}\n" in "\n" + result.stdout
    assert "130" in result.stdout


def test_version_is_the_librarys(tidewire):
    result = run(tidewire, "--version")
    assert result.returncode == 0
    assert result.stdout.startswith("tidewire 0.")


@pytest.mark.parametrize(
    "args, says",
    [
        ((), "no command"),
        (("sse",), "needs a URL"),
        (("carrier-pigeon", "http://127.0.0.1/"), 'unknown command "carrier-pigeon"'),
        (("--colour", "sse", "http://127.0.0.1/"), 'unknown option "--colour"'),
        (("--format=xml", "sse", "http://127.0.0.1/"), "--format takes json or text"),
        (("sse", "http://127.0.0.1/", "reconnect.max_ms"), 'expected KEY=VALUE, got "reconnect.max_ms"'),
        (("webhook", "--secret", SECRET), "webhook needs --listen"),
        ((f"--secrets={SECRET}", "webhook"), 'unknown option "--secrets"'),
    ],
)
def test_usage_errors_exit_1_and_say_what_is_wrong(tidewire, args, says):
    result = run(tidewire, *args)
    assert result.returncode == 1
    assert says in result.stderr
    assert "tidewire --help" in result.stderr
    assert SECRET not in result.stderr


def test_a_key_the_library_refuses_exits_2_naming_the_key(tidewire):
    result = run(tidewire, "sse", "http://127.0.0.1:1/", "reconnect.max_ms=soon")
    assert result.returncode == 2
    assert "reconnect.max_ms" in result.stderr


def test_a_refused_secret_exits_2_and_is_never_printed(tidewire, tmp_path):
    secret = "whsec_not-base64-at-all-but-still-a-secret"
    secret_file = tmp_path / "secret"
    secret_file.write_text(secret + "\n")
    result = run(tidewire, "webhook", "--listen", "127.0.0.1:0", "--secret-file", str(secret_file))
    assert result.returncode == 2
    assert "webhook.secret" in result.stderr
    assert secret not in result.stderr + result.stdout


# --- pull transports ------------------------------------------------------------------------------
def test_sse_prints_one_json_line_per_event(tidewire, peers):
    result = run(tidewire, "--count=3", "sse", f"{peers.sse_url}/events?count=3")
    assert result.returncode == 0, result.stderr
    events = json_lines(result.stdout)
    assert [(e["kind"], e["transport"], e["id"], e["type"]) for e in events] == [
        ("message", "sse", str(i), "tick") for i in range(3)
    ]
    assert [json.loads(e["data"]) for e in events] == [{"i": i} for i in range(3)]


def test_sse_204_is_a_clean_end(tidewire, peers):
    result = run(tidewire, "--status", "sse", f"{peers.http_url}/status/204")
    assert result.returncode == 0, result.stderr
    assert [e["kind"] for e in json_lines(result.stdout)] == ["closed"]


def test_text_format_prints_the_payloads_as_they_are(tidewire, peers):
    result = run(tidewire, "--format=text", "--count=2", "sse", f"{peers.sse_url}/events?count=2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ['{"i": 0}', '{"i": 1}']


def test_poll_prints_the_response_and_its_headers(tidewire, peers):
    peers.publish("cli-poll", {"state": "ready"})
    result = run(tidewire, "--count=1", "--headers", "poll", f"{peers.http_url}/poll/cli-poll")
    assert result.returncode == 0, result.stderr
    (event,) = json_lines(result.stdout)
    assert (event["transport"], event["type"], json.loads(event["data"])) == ("poll", "change", {"state": "ready"})
    assert ["etag", event["id"]] in event["headers"]


def test_longpoll_carries_its_cursor(tidewire, peers):
    peers.publish("cli-longpoll", {"v": 0})
    peers.publish("cli-longpoll", {"v": 1})
    result = run(
        tidewire,
        "--count=1",
        "longpoll",
        f"{peers.http_url}/longpoll/cli-longpoll",
        "longpoll.cursor_header=X-Cursor",
        "longpoll.cursor_param=cursor",
        "longpoll.cursor=0",
    )
    assert result.returncode == 0, result.stderr
    (event,) = json_lines(result.stdout)
    assert (event["transport"], event["id"], json.loads(event["data"])) == ("longpoll", "1", {"v": 1})


def test_stats_are_printed_at_the_end(tidewire, peers):
    result = run(tidewire, "--stats", "--count=2", "sse", f"{peers.sse_url}/events?count=2")
    assert result.returncode == 0, result.stderr
    stats = dict(line.split() for line in result.stderr.splitlines()[1:] if len(line.split()) == 2)
    assert result.stderr.splitlines()[0].split() == ["statistic", "value"]
    assert stats["messages"] == "2"
    assert int(stats["bytes"]) == len('{"i": 0}') * 2


# --- how a stream ends: the exit status -----------------------------------------------------------
@pytest.mark.parametrize("code, status", [(401, 4), (403, 4), (404, 5), (410, 5)])
def test_a_fatal_http_status_sets_the_exit_status(tidewire, peers, code, status):
    token = "Bearer sk-live-never-printed"
    result = run(tidewire, "sse", f"{peers.http_url}/status/{code}", f"header.Authorization={token}")
    assert result.returncode == status
    assert str(code) in result.stderr
    assert "sk-live-never-printed" not in result.stderr + result.stdout


def test_an_unreachable_source_exits_3_once_the_attempts_run_out(tidewire):
    with refusing_port() as port:
        url = f"http://127.0.0.1:{port}/events"
        settings = ("reconnect.max_attempts=2", "reconnect.initial_ms=1", "reconnect.max_ms=5")
        result = run(tidewire, "sse", url, *settings)
        quiet = run(tidewire, "-q", "sse", url, *settings)
    assert result.returncode == 3
    # Said once: the library's warning, not a second line of the command's.
    assert result.stderr.count("gave up after reconnect.max_attempts=2") == 1
    assert "tidewire warn: stream ended: gave up" in result.stderr
    assert quiet.returncode == 3
    assert quiet.stderr.splitlines() == [
        f"tidewire: gave up after reconnect.max_attempts=2 failed attempts; last: {url}: could not connect to "
        f"127.0.0.1:{port}: connection refused (TW_ERR_GAVE_UP)"
    ]


def test_a_reader_that_leaves_is_a_clean_end(tidewire, peers):
    """As with `tidewire sse URL | head -n 1`: the next write fails, and the command ends."""
    proc = subprocess.Popen(
        [tidewire, "sse", f"{peers.sse_url}/events?count=100&interval_ms=20"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert json.loads(proc.stdout.readline())["id"] == "0"
        proc.stdout.close()
        assert proc.wait(TIMEOUT_S) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(TIMEOUT_S)


def test_sigint_closes_the_stream_and_exits_130(running, peers):
    cli = running("--stats", "sse", f"{peers.sse_url}/events?count=1")
    assert json.loads(cli.line())["id"] == "0"
    assert cli.stop(signal.SIGINT) == 130
    assert any(line.split() == ["messages", "1"] for line in cli.stderr_lines)


def test_sigterm_exits_143(running, peers):
    cli = running("sse", f"{peers.sse_url}/events?count=1")
    assert json.loads(cli.line())["id"] == "0"
    assert cli.stop(signal.SIGTERM) == 143


# --- WebSocket ------------------------------------------------------------------------------------
def test_ws_sends_each_line_of_stdin_and_prints_the_replies(tidewire, peers):
    result = run(tidewire, "--count=3", "ws", f"{peers.ws_url}/echo", stdin='hello\n{"a": "wörld"}\r\nlast')
    assert result.returncode == 0, result.stderr
    events = json_lines(result.stdout)
    assert [(e["transport"], e["type"], e["data"]) for e in events] == [
        ("ws", "text", "hello"),
        ("ws", "text", '{"a": "wörld"}'),
        ("ws", "text", "last"),
    ]


@pytest.mark.parametrize("code, status", [(1000, 0), (1008, 5)])
def test_the_servers_close_code_sets_the_exit_status(tidewire, peers, code, status):
    result = run(tidewire, "--status", "ws", f"{peers.ws_url}/close?code={code}")
    assert result.returncode == status, result.stderr
    last = json_lines(result.stdout)[-1]
    assert (last["kind"], last.get("close_code")) == ("closed" if code == 1000 else "error", code)


@pytest.fixture
def binary_ws_server():
    """A WebSocket server that sends one binary message and one text message with control bytes."""

    def handler(connection) -> None:
        connection.send(bytes([0, 255, 1, 128]))
        connection.send('tab\there "quoted" \\ \x01 end')
        connection.recv()  # held until the client leaves

    with ws_serve(handler, "127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"ws://127.0.0.1:{server.socket.getsockname()[1]}/"
        server.shutdown()
        thread.join(TIMEOUT_S)


def test_binary_data_is_base64_and_text_is_escaped(tidewire, binary_ws_server):
    result = run(tidewire, "--count=2", "ws", binary_ws_server)
    assert result.returncode == 0, result.stderr
    binary, text = json_lines(result.stdout)
    assert binary["type"] == "binary" and "data" not in binary
    assert base64.b64decode(binary["data_base64"]) == bytes([0, 255, 1, 128])
    assert text["data"] == 'tab\there "quoted" \\ \x01 end'
    assert "\\u0001" in result.stdout.splitlines()[1]


# --- webhook --------------------------------------------------------------------------------------
def deliver(url: str, msg_id: str, payload: dict, secret: str) -> int:
    """The status a receiver answers a delivery signed with `secret`."""
    return signed_delivery(url, msg_id, payload, secret)[0]


def test_webhook_prints_verified_deliveries_only(running, tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    cli = running("webhook", "--listen", "127.0.0.1:0", "--path", "/hooks", "--secret-file", str(secret_file))
    url = cli.stderr_until("tidewire: listening on ").split()[-1]
    assert url.startswith("http://127.0.0.1:") and url.endswith("/hooks")

    assert deliver(url, "msg_forged", {"n": 0}, WRONG_SECRET) == 401
    assert deliver(url, "msg_1", {"n": 1}, SECRET) in (200, 204)
    event = json.loads(cli.line())
    assert (event["transport"], event["id"], json.loads(event["data"])) == ("webhook", "msg_1", {"n": 1})

    assert cli.stop(signal.SIGINT) == 130
    assert cli.stdout.empty()  # the forged delivery was never printed
    assert SECRET not in "\n".join(cli.stderr_lines)


def test_webhook_secret_from_the_environment_and_scheme_option(tidewire):
    secret = "It's a Secret to Everybody"
    env_cli = subprocess.Popen(
        [tidewire, "webhook", "--listen", "127.0.0.1:0", "--scheme", "github"],
        env={"TIDEWIRE_WEBHOOK_SECRET": secret, "PATH": "/usr/bin:/bin"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = env_cli.stderr.readline()
        assert line.startswith("tidewire: listening on http://127.0.0.1:")
        env_cli.send_signal(signal.SIGTERM)
        out, err = env_cli.communicate(timeout=TIMEOUT_S)
        assert env_cli.returncode == 143
        assert secret not in line + out + err
    finally:
        if env_cli.poll() is None:
            env_cli.kill()
            env_cli.wait(TIMEOUT_S)


def test_a_port_in_use_exits_3(tidewire):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run(tidewire, "webhook", "--listen", f"127.0.0.1:{port}", "--secret", SECRET)
    assert result.returncode == 3
    assert SECRET not in result.stderr


def test_a_secret_given_as_an_argument_is_blanked_in_the_process_listing(running):
    cli = running("webhook", "--listen", "127.0.0.1:0", "--secret", SECRET)
    url = cli.stderr_until("tidewire: listening on ").split()[-1]
    with open(f"/proc/{cli.proc.pid}/cmdline", "rb") as cmdline:
        shown = cmdline.read().decode()
    assert SECRET not in shown
    assert "--secret" in shown
    # The endpoint still verifies with the secret it was given.
    assert deliver(url, "msg_argv", {"n": 2}, SECRET) in (200, 204)
    assert json.loads(cli.line())["id"] == "msg_argv"
    assert cli.stop(signal.SIGTERM) == 143
