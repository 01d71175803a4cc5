#!/usr/bin/env python3
"""An MCP client over tidewire: initializes a session, lists the tools, then calls one that reports
progress and prints each notification as it arrives, before the result.

    python3 examples/python/mcp_client.py [--url http://host:port/mcp]

Without --url it starts a local server (examples/mcp/server.py, the official MCP Python SDK) and
talks to it. The transport does the protocol's plumbing: the session id and the negotiated
MCP-Protocol-Version on every request, the GET stream for server-initiated messages, resuming a cut
answer by GET + Last-Event-ID, DELETE of the session on close. The application speaks JSON-RPC:
send() posts a message, every message received is one event.
"""

import argparse
import itertools
import json
import subprocess
import sys
from pathlib import Path

import tidewire

SERVER = Path(__file__).resolve().parent.parent / "mcp" / "server.py"


class Session:
    def __init__(self, stream):
        self.stream = stream
        self.ids = itertools.count(1)

    def request(self, method, params, on_notification=None):
        """Sends a request and returns its result; notifications that come first go to on_notification."""
        request_id = next(self.ids)
        self.stream.send(json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}))
        for event in self.stream:
            if event.kind == "error" and event.id == str(request_id):
                raise RuntimeError(f"{method}: {event.text}")
            message = event.json()
            if "method" in message and "id" not in message:
                if on_notification:
                    on_notification(message)
            elif message.get("id") == request_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']['message']}")
                return message["result"]
        raise RuntimeError(f"{method}: the stream ended before the answer")

    def notify(self, method):
        self.stream.send(json.dumps({"jsonrpc": "2.0", "method": method}))


def run(url):
    with tidewire.Stream(url, "mcp", read_timeout_ms=60000) as stream:
        mcp = Session(stream)
        init = mcp.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                          "clientInfo": {"name": "tidewire-example", "version": tidewire.__version__}})
        mcp.notify("notifications/initialized")
        print(f"connected to {init['serverInfo']['name']} (MCP {init['protocolVersion']})")
        tools = mcp.request("tools/list", {})["tools"]
        print("tools:", ", ".join(tool["name"] for tool in tools))

        def progress(message):
            if message["method"] == "notifications/progress":
                p = message["params"]
                print(f"  progress {p['progress']:g}/{p.get('total', 0):g}: {p.get('message', '')}", flush=True)

        result = mcp.request("tools/call", {"name": "slow_count", "arguments": {"to": 5},
                                            "_meta": {"progressToken": "count"}}, progress)
        print("result:", result["content"][0]["text"])
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an MCP server's Streamable HTTP endpoint (default: start the local one)")
    args = parser.parse_args()
    try:
        if args.url:
            return run(args.url)
        # The server exits when its stdin closes, so it never outlives this script.
        with subprocess.Popen([sys.executable, str(SERVER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True) as server:
            try:
                line = server.stdout.readline()
                if not line.startswith("PORT "):
                    print(f"{SERVER.name} did not start", file=sys.stderr)
                    return 1
                return run(f"http://127.0.0.1:{line.split()[1]}/mcp")
            finally:
                server.stdin.close()
    except (RuntimeError, tidewire.StreamError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
