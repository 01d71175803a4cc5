#!/usr/bin/env python3
"""A raw HTTP/1.1 keep-alive peer for the connection-layer tests: it counts the connections it
accepts, so a test can tell one reused connection from two fresh ones.

Prints ``PORT <n>`` once listening; exits on stdin EOF or SIGTERM. ``--tls DIR`` serves TLS with the
self-signed certificate for 127.0.0.1 of peer_lifecycle (DIR/cert.pem is the CA file), offering
ALPN http/1.1. Requests (any method, no request body):

  /bytes?n=N        200 with N bytes of body: byte i is ord('a') + i % 26. Keep-alive.
  /bytes?n=N&close=1  the same, then the peer closes the connection.
  /later_close?ms=M 200 "ok" (keep-alive), then the peer closes the connection M ms later.
  /_accepts         the number of connections that carried any other request so far (itself
                    not counted, so a test may ask it on a connection of its own).
"""

import asyncio
import urllib.parse

from peer_lifecycle import announce, listening_socket, stop_event, tls_context_from_args

counted = 0


def body_of(n):
    pattern = bytes(ord("a") + i for i in range(26))
    return (pattern * (n // 26 + 1))[:n]


async def handle(reader, writer):
    global counted
    seen = False
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, asyncio.CancelledError):
                return
            target = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")[1]
            parts = urllib.parse.urlsplit(target)
            query = dict(urllib.parse.parse_qsl(parts.query))
            if parts.path == "/_accepts":
                body = str(counted).encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
                await writer.drain()
                continue
            if not seen:
                seen = True
                counted += 1
            if parts.path == "/bytes":
                body = body_of(int(query.get("n", "0")))
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body))
                writer.write(body)
                await writer.drain()
                if query.get("close") == "1":
                    return
            elif parts.path == "/later_close":
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
                await asyncio.sleep(int(query.get("ms", "0")) / 1000)
                return
            else:
                writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass  # the client left, or the peer is stopping
    finally:
        writer.close()


async def main():
    stop = stop_event()
    sock = listening_socket()
    tls = tls_context_from_args()
    if tls is not None:
        tls.set_alpn_protocols(["http/1.1"])
    server = await asyncio.start_server(handle, sock=sock, ssl=tls)
    announce(sock)
    await stop.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
