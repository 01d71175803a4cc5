"""The mcp transport from Python: tidewire.Stream(url, "mcp") against the official MCP Python SDK's
server (tests/peers/mcp_server.py), and the example that brings its own server."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

import tidewire

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "tests" / "peers" / "mcp_server.py"


@pytest.fixture()
def mcp_url():
    """A fresh server per test (its sessions are part of what is tested)."""
    with subprocess.Popen([sys.executable, str(SERVER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          cwd=SERVER.parent, text=True) as server:
        try:
            line = server.stdout.readline()
            assert line.startswith("PORT "), line
            yield f"http://127.0.0.1:{line.split()[1]}"
        finally:
            server.stdin.close()
            server.wait(timeout=10)


def request(stream, request_id, method, params=None):
    stream.send(json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params or {}}))


def answer(stream, request_id, seen=None):
    """The answer to request_id (or the error event about it), within 10 s."""
    while True:
        event = stream.next(10)
        assert event is not None, f"no answer to {request_id}"
        if seen is not None:
            seen.append(event)
        if event.kind == "error" and event.id == str(request_id):
            return event
        if event.kind == "message" and event.json().get("id") == request_id and "method" not in event.json():
            return event


def initialize(stream):
    request(stream, 1, "initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                      "clientInfo": {"name": "pytest", "version": "1"}})
    result = answer(stream, 1).json()["result"]
    stream.send('{"jsonrpc":"2.0","method":"notifications/initialized"}')
    return result


def test_send_posts_json_rpc_and_each_message_received_is_one_event(mcp_url):
    with tidewire.Stream(mcp_url + "/mcp", "mcp") as stream:
        assert initialize(stream)["protocolVersion"] == "2025-11-25"
        request(stream, 2, "tools/call", {"name": "progress", "arguments": {"steps": 3, "delay_ms": 5},
                                          "_meta": {"progressToken": "t"}})
        seen = []
        result = answer(stream, 2, seen)
        assert result.transport == "mcp"
        assert result.json()["result"]["content"][0]["text"] == "done 3"
        progress = [e.json()["params"]["progress"] for e in seen if e.type == "notifications/progress"]
        assert progress == [1, 2, 3]


def test_send_refuses_what_is_not_a_json_rpc_message(mcp_url):
    with tidewire.Stream(mcp_url + "/mcp", "mcp") as stream:
        with pytest.raises(tidewire.Error, match="JSON-RPC") as error:
            stream.send("not json")
        assert error.value.code == "TW_ERR_INVALID_VALUE"
        with pytest.raises(tidewire.Error):
            stream.send(b'{"jsonrpc":"2.0","method":"x"}')  # binary: MCP messages are text


def test_error_answer_is_an_error_event_and_the_stream_goes_on(mcp_url):
    with tidewire.Stream(mcp_url + "/mcp", "mcp") as stream:
        request(stream, 7, "tools/list")  # before initialize: no session, the server answers 400
        refused = answer(stream, 7)
        assert (refused.kind, refused.status, refused.type) == ("error", 400, "http_status")
        assert initialize(stream)["serverInfo"]["name"] == "tidewire-test"


def test_expired_session_ends_the_stream_with_404(mcp_url):
    with tidewire.Stream(mcp_url + "/mcp", "mcp", mcp_listen=False) as stream:
        initialize(stream)
        # An answer after notifications/initialized: the server has taken it (POSTs go in order),
        # so the session is not ended while it still handles that.
        request(stream, 2, "tools/list")
        answer(stream, 2)
        urllib.request.urlopen(mcp_url + "/_expire", timeout=5).read()
        request(stream, 3, "tools/list")
        with pytest.raises(tidewire.StreamError, match="session expired") as error:
            while stream.next(10) is not None:
                pass
        assert error.value.status == 404


def test_mcp_client_example_prints_progress_as_it_arrives_then_the_result():
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "python" / "mcp_client.py")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "connected to tidewire-example (MCP 2025-11-25)"
    assert lines[1] == "tools: add_numbers, slow_count"
    assert lines[2:7] == [f"  progress {i}/5: counted {i}" for i in range(1, 6)]
    assert lines[7] == "result: counted to 5"
