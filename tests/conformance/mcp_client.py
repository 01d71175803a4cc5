#!/usr/bin/env python3
"""An MCP client over ``tidewire.Stream(url, transport="mcp")`` for the client scenarios of the MCP
conformance suite (``@modelcontextprotocol/conformance``): it initializes, lists the tools and
calls each one (``add_numbers`` with a=2, b=3, the others with no arguments), then closes the
session. The runner appends the server's URL as the last argument:

    npx conformance client --command "python tests/conformance/mcp_client.py" --scenario sse-retry

Everything the transport does (session id, MCP-Protocol-Version, the GET stream, resuming a cut
stream by GET + Last-Event-ID after the server's ``retry:``) is the core's; this file only speaks
JSON-RPC. Exits 0 when every answer came, 1 otherwise (the reason on stderr).
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from typing import Any, Dict

import tidewire

# The whole run is bounded: a scenario that never answers fails the client, it does not hang it.
DEADLINE_S = 30.0
PROTOCOL_VERSION = "2025-11-25"


class Client:
    def __init__(self, url: str) -> None:
        self.stream = tidewire.Stream(url, "mcp", connect_timeout_ms=5000)
        self.ids = itertools.count(1)
        self.deadline = time.monotonic() + DEADLINE_S

    def notify(self, method: str, params: Dict[str, Any] | None = None) -> None:
        message: Dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.stream.send(json.dumps(message))

    def request(self, method: str, params: Dict[str, Any]) -> Dict[str, Any]:
        """Sends a request and returns its result; raises on an error answer or a lost request."""
        request_id = next(self.ids)
        self.stream.send(json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}))
        while True:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"no answer to {method} (id {request_id}) in time")
            event = self.stream.next(left)
            if event is None:
                continue
            if event.kind == "error" and event.id == str(request_id):
                raise RuntimeError(f"{method} failed: HTTP {event.status} {event.type}: {event.text}")
            if event.kind != "message":
                continue
            message = json.loads(event.data)
            if message.get("id") != request_id or "method" in message:
                continue  # a notification, or a request from the server
            if "error" in message:
                raise RuntimeError(f"{method} answered with an error: {message['error']}")
            return message["result"]

    def close(self) -> None:
        self.stream.close()


def main() -> int:
    url = sys.argv[-1]
    client = Client(url)
    try:
        result = client.request("initialize", {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "tidewire-conformance-client", "version": tidewire.__version__},
        })
        print(f"initialized: server {result.get('serverInfo')}, protocol {result.get('protocolVersion')}")
        client.notify("notifications/initialized")
        tools = client.request("tools/list", {}).get("tools", [])
        print(f"tools: {[tool['name'] for tool in tools]}")
        for tool in tools:
            arguments = {"a": 2, "b": 3} if tool["name"] == "add_numbers" else {}
            answer = client.request("tools/call", {"name": tool["name"], "arguments": arguments})
            print(f"{tool['name']}: {json.dumps(answer.get('content'))}")
        return 0
    except (RuntimeError, tidewire.Error) as error:
        print(f"mcp_client: {error}", file=sys.stderr)
        return 1
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
