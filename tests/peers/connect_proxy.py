#!/usr/bin/env python3
"""A minimal HTTP CONNECT proxy for tests: tunnels bytes both ways and counts tunnels.

Prints ``PORT <n>`` once listening on 127.0.0.1; exits on stdin EOF or SIGTERM.
``GET /_count`` (a plain request, not CONNECT) answers the number of tunnels opened so far and
the targets, one per line after the count.
"""

import asyncio

from peer_lifecycle import announce, listening_socket, stop_event

tunnels = []


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def handle(reader, writer):
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        writer.close()
        return
    method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
    if method == "GET" and target == "/_count":
        body = "\n".join([str(len(tunnels))] + tunnels).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        await writer.drain()
        writer.close()
        return
    if method != "CONNECT":
        writer.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        writer.close()
        return
    host, port = target.rsplit(":", 1)
    try:
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
    except OSError:
        writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
        writer.close()
        return
    tunnels.append(target)
    writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
    await writer.drain()
    await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def main():
    stop = stop_event()
    sock = listening_socket()
    server = await asyncio.start_server(handle, sock=sock)
    announce(sock)
    await stop.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
