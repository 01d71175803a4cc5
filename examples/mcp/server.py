#!/usr/bin/env python3
"""A local MCP server for the mcp_client examples, made with the official MCP Python SDK
(``pip install mcp``): Streamable HTTP at http://127.0.0.1:<port>/mcp, port chosen by the system
and printed as ``PORT <n>``. Exits when its stdin closes, so it never outlives the example that
started it.

Tools:
  add_numbers(a, b)        the sum
  slow_count(to, delay_ms) counts to `to`, one progress notification per step, then answers
"""

import asyncio
import logging
import os
import socket
import sys
import threading
import warnings

import uvicorn
from mcp.server import MCPServer
from mcp.server.mcpserver import Context

server = MCPServer("tidewire-example")


@server.tool()
def add_numbers(a: float, b: float) -> float:
    """Adds two numbers."""
    return a + b


@server.tool()
async def slow_count(ctx: Context, to: int = 5, delay_ms: int = 200) -> str:
    """Counts to `to`, reporting progress at each step."""
    for i in range(1, to + 1):
        await asyncio.sleep(delay_ms / 1000)
        await ctx.report_progress(i, to, f"counted {i}")
    return f"counted to {to}"


def watch_stdin(stop):
    while os.read(0, 4096):
        pass
    stop()


async def main():
    logging.getLogger("mcp").setLevel(logging.WARNING)
    warnings.simplefilter("ignore")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    app = server.streamable_http_app()
    uv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=1))
    loop = asyncio.get_running_loop()
    threading.Thread(target=watch_stdin, args=(lambda: loop.call_soon_threadsafe(setattr, uv, "should_exit", True),),
                     daemon=True).start()
    serving = asyncio.ensure_future(uv.serve(sockets=[sock]))
    while not uv.started and not serving.done():
        await asyncio.sleep(0.01)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    await serving


if __name__ == "__main__":
    asyncio.run(main())
