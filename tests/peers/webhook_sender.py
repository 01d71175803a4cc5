#!/usr/bin/env python3
"""Signs webhook deliveries and POSTs them to a receiver, for the webhook integration tests.

Signing uses the real `standardwebhooks` package (Standard Webhooks) or Python's hmac by GitHub's
documented recipe, so the receiver is checked against independent signers. Prints one JSON line
per delivery, in order:

    {"i": 0, "id": "msg_0", "status": 204, "retry_after": null, "allow": null, "body": "",
     "conn": 40312, "interim": null}

`conn` is the local port of the connection that carried the request (equal ports: one
keep-alive connection); `interim` is the 1xx status received before the body was sent (expect
mode). A request that got no answer has status 0 and the error in `error`.

Modes:
  sequential  one connection per delivery
  keepalive   one connection for every delivery, one after the other
  chunked     keepalive, bodies sent with Transfer-Encoding: chunked (in 7-byte chunks)
  pipelined   one connection, every request written at once, then every answer read
  expect      one connection per delivery, Expect: 100-continue; the body is sent only after
              100 Continue (a final answer instead means the body is never sent)
  concurrent  aiohttp with --concurrency connections in parallel
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import socket
import sys
import time
import urllib.parse
from datetime import datetime, timezone

from standardwebhooks.webhooks import Webhook

FORGED_STANDARD_SECRET = "whsec_" + base64.b64encode(b"not the receiver's secret").decode()


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("url")
    p.add_argument("--scheme", choices=["standard", "github", "none"], default="standard")
    p.add_argument("--secret", default="")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--id-prefix", default="msg_")
    p.add_argument("--ids", help="comma-separated delivery ids (overrides --count)")
    p.add_argument("--type", default="test.event", help="event type, in the payload (or X-GitHub-Event)")
    p.add_argument("--body-bytes", type=int, help="send a body of this many bytes instead of the JSON payload")
    p.add_argument("--timestamp-offset", type=int, default=0, help="seconds added to the signed timestamp")
    p.add_argument("--forge", action="store_true", help="sign every delivery with a wrong secret")
    p.add_argument("--forge-at", default="", help="comma-separated indexes of deliveries signed wrongly")
    p.add_argument("--omit", action="append", default=[], help="a header not to send")
    p.add_argument("--method", default="POST")
    p.add_argument("--path", help="request path (default: the URL's)")
    p.add_argument("--pad-header-bytes", type=int, default=0, help="add an X-Padding header this long")
    p.add_argument("--mode", default="sequential",
                   choices=["sequential", "keepalive", "chunked", "pipelined", "expect", "concurrent"])
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--timeout", type=float, default=30.0, help="deadline for the whole run, in seconds")
    return p.parse_args()


def payload(args, i, delivery_id):
    if args.body_bytes is not None:
        return b"x" * args.body_bytes
    return json.dumps({"type": args.type, "id": delivery_id, "n": i}).encode()


def signed_headers(args, i, delivery_id, body):
    """The headers of one delivery, signed as the scheme's senders do."""
    forge = args.forge or str(i) in args.forge_at.split(",")
    headers = {"Content-Type": "application/json", "User-Agent": "tidewire-webhook-sender"}
    if args.scheme == "standard":
        secret = FORGED_STANDARD_SECRET if forge else args.secret
        ts = datetime.fromtimestamp(time.time() + args.timestamp_offset, tz=timezone.utc)
        headers["webhook-id"] = delivery_id
        headers["webhook-timestamp"] = str(int(ts.timestamp()))
        headers["webhook-signature"] = Webhook(secret).sign(delivery_id, ts, body.decode())
    elif args.scheme == "github":
        secret = (args.secret + "-forged") if forge else args.secret
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Hub-Signature-256"] = "sha256=" + digest
        headers["X-GitHub-Delivery"] = delivery_id
        headers["X-GitHub-Event"] = args.type
    if args.pad_header_bytes:
        headers["X-Padding"] = "p" * args.pad_header_bytes
    omit = {h.lower() for h in args.omit}
    return {k: v for k, v in headers.items() if k.lower() not in omit}


def deliveries(args):
    ids = args.ids.split(",") if args.ids else [f"{args.id_prefix}{i}" for i in range(args.count)]
    out = []
    for i, delivery_id in enumerate(ids):
        body = payload(args, i, delivery_id)
        out.append((i, delivery_id, body, signed_headers(args, i, delivery_id, body)))
    return out


def result(i, delivery_id, status, headers=None, body=b"", conn=None, interim=None, error=None):
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    r = {"i": i, "id": delivery_id, "status": status, "retry_after": headers.get("retry-after"),
         "allow": headers.get("allow"), "body": body.decode(errors="replace"), "conn": conn, "interim": interim}
    if error:
        r["error"] = error
    return r


def request_head(args, target, host, headers, body_len, extra=()):
    lines = [f"{args.method} {target} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body_len is not None:
        lines.append(f"Content-Length: {body_len}")
    lines += list(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Reader:
    """Reads HTTP/1.1 responses off a socket, one after the other."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed by the receiver")
        self.buf += chunk

    def response(self):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = 0 if status in (100, 204) else int(headers.get("content-length", "0"))
        while len(self.buf) < length:
            self._fill()
        body, self.buf = self.buf[:length], self.buf[length:]
        return status, headers, body


def connect(url, deadline):
    sock = socket.create_connection((url.hostname, url.port), timeout=max(0.1, deadline - time.monotonic()))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def run_sockets(args, url, target, host, items, deadline):
    """sequential, keepalive, chunked, pipelined and expect: plain sockets, every byte visible."""
    results = []
    sock = None

    def open_sock():
        s = connect(url, deadline)
        return s, Reader(s), s.getsockname()[1]

    if args.mode == "pipelined":
        sock, reader, conn = open_sock()
        sock.sendall(b"".join(request_head(args, target, host, h, len(b)) + b for _, _, b, h in items))
        for i, delivery_id, _, _ in items:
            status, headers, body = reader.response()
            results.append(result(i, delivery_id, status, headers, body, conn))
        sock.close()
        return results

    for i, delivery_id, body, headers in items:
        try:
            if sock is None or args.mode in ("sequential", "expect"):
                if sock:
                    sock.close()
                sock, reader, conn = open_sock()
            interim = None
            if args.mode == "chunked":
                chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[k:k + 7]), body[k:k + 7]) for k in range(0, len(body), 7))
                sock.sendall(request_head(args, target, host, headers, None, ["Transfer-Encoding: chunked"]))
                sock.sendall(chunks + b"0\r\n\r\n")
                status, rh, rb = reader.response()
            elif args.mode == "expect":
                sock.sendall(request_head(args, target, host, headers, len(body), ["Expect: 100-continue"]))
                status, rh, rb = reader.response()
                if status == 100:
                    interim = 100
                    sock.sendall(body)
                    status, rh, rb = reader.response()
            else:
                close = ["Connection: close"] if args.mode == "sequential" else []
                sock.sendall(request_head(args, target, host, headers, len(body), close) + body)
                status, rh, rb = reader.response()
            results.append(result(i, delivery_id, status, rh, rb, conn, interim))
            if rh.get("connection", "").lower() == "close":
                sock.close()
                sock = None
        except (OSError, ConnectionError, ValueError) as e:
            results.append(result(i, delivery_id, 0, error=f"{type(e).__name__}: {e}"))
            if sock:
                sock.close()
            sock = None
    if sock:
        sock.close()
    return results


async def run_concurrent(args, url, items):
    import aiohttp

    target_url = urllib.parse.urlunsplit((url.scheme, url.netloc, args.path or url.path, url.query, ""))
    connector = aiohttp.TCPConnector(limit=args.concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=args.timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one(i, delivery_id, body, headers):
            try:
                async with session.request(args.method, target_url, data=body, headers=headers) as r:
                    text = await r.read()
                    return result(i, delivery_id, r.status, dict(r.headers), text)
            except (aiohttp.ClientError, asyncio.TimeoutError) as e:
                return result(i, delivery_id, 0, error=f"{type(e).__name__}: {e}")

        return await asyncio.gather(*(one(*item) for item in items))


def main():
    args = parse_args()
    deadline = time.monotonic() + args.timeout
    url = urllib.parse.urlsplit(args.url)
    path = args.path or url.path or "/"
    target = path + ("?" + url.query if url.query else "")
    host = url.netloc
    items = deliveries(args)
    if args.mode == "concurrent":
        results = asyncio.run(run_concurrent(args, url, items))
    else:
        socket.setdefaulttimeout(args.timeout)
        results = run_sockets(args, url, target, host, items, deadline)
    for r in results:
        print(json.dumps(r), flush=True)


if __name__ == "__main__":
    sys.exit(main())
