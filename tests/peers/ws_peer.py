#!/usr/bin/env python3
"""Scriptable WebSocket peer for Tidewire integration tests.

Run as ``python3 tests/peers/ws_peer.py``. It listens on 127.0.0.1 with an
ephemeral port and prints ``PORT <n>`` on stdout once connections are accepted.
It exits when stdin reaches EOF (so a crashed test binary never leaves it
behind), on SIGTERM and on SIGINT. Give it a pipe when running it by hand:
``sleep infinity | python3 tests/peers/ws_peer.py``.

``--tls DIR`` serves wss:// with a self-signed certificate for 127.0.0.1, written
to DIR/cert.pem (the CA file a client trusts) and DIR/key.pem, made with the
openssl CLI (as http_peer.py does).

``--pki DIR`` serves wss:// with a certificate signed by a test CA instead: it
writes DIR/ca.pem (the CA that signed the server certificate, valid for
127.0.0.1, ::1 and localhost), DIR/other-ca.pem (an unrelated CA) and the keys,
made with the Python ``cryptography`` package, before it announces its port.

``--host ADDR`` listens on ADDR instead of 127.0.0.1 (e.g. ``::1``).

``--compression`` accepts permessage-deflate when a client offers it (websockets'
defaults: window bits 12 both ways); without it the peer never compresses.

Built on the asyncio API of ``websockets`` (>= 13; written against 17).

Every route takes a ``key`` query parameter; all state (counters, connection
log) lives under that key, so tests sharing one peer never see each other's
traffic.

Routes (WebSocket unless said otherwise; "#k" below is a per-key, per-route
counter, 1-based, that continues across connections):

  /echo                 echoes every message, text as text, binary as binary
  /push                 ?count=N&size=S&binary=0|1&cork=0|1  on connect sends N
                        messages of S bytes, then holds the connection open.
                        cork=1 holds the handshake response back (TCP_CORK)
                        until the messages are written too, so that the
                        client reads the 101 and the first frames at once. Text:
                        {"i":k,"p":"xxx..."} padded to S bytes (never shorter
                        than {"i":k}); binary: k as 4 bytes big-endian, then
                        byte j = j % 251 up to S bytes. k is 1..N on every
                        connection.
  /slow-consumer        ?count=N  sends {"i":k} for k = 1..N as fast as the
                        socket takes them, then holds
  /big                  ?size=S&frag=F&binary=0|1&zeros=0|1  one message of S
                        bytes sent as fragments of F bytes (default: one
                        frame), then holds. Binary (default): byte i = i % 251,
                        or every byte 0 with zeros=1 (under --compression, a
                        zip bomb). Text: the character chr(33 + i % 94).
  /close                ?code=C&after=N&reason=R  sends N messages {"i":#k},
                        then closes with code C and reason R. code=1006 aborts
                        the TCP connection instead (no close frame).
  /drop                 ?after=N&wait_ms=W  sends N messages {"i":#k}, waits
                        until the client sent something (at most W ms, default
                        1000) and until its output is flushed, then aborts
                        the TCP connection (no close frame)
  /noping               never answers pings (counts them), sends {"i":1},
                        then holds
  /status               ?code=C&times=T  refuses the handshake with HTTP
                        status C the first T connections of this key (T
                        absent: always), then behaves like /echo
  /redirect             ?to=URL&code=C  refuses the handshake with HTTP status C
                        (default 302) and ``Location: URL`` (without ``to``: its
                        own path and query, a redirect loop)
  /subproto             selects a subprotocol among those offered, in the
                        server's order of preference chat.v2, chat.v1, and
                        sends the selected name (or "") as its first message,
                        then echoes
  /log, /_log           (plain HTTP GET, not upgraded) the connection log of
                        ``key``; /_log so that the C++ harness's peer_log()
                        works unchanged

Every other route offered subprotocols selects the client's first one, so a
client insisting on a subprotocol can still connect anywhere.

Every WebSocket connection, refused or not, also records every text message
the client sends; "first" in the log is the first of them.

Log format: one line per connection attempt, in order, current values (a
line changes while its connection lives):
``t_ms=<ms since the key's first use>;conn=<n, 1-based>;path=<path+query>;``
``status=<101, or the refusal status>;offered=<raw Sec-WebSocket-Protocol>;``
``subprotocol=<negotiated, or empty>;x-test=<X-Test header>;``
``received=<messages received>;close_code=<code of the close frame the``
`` client sent, or empty>;first=<first text message received, or empty>;``
``pings=<pings received>;ended=<0|1>;extensions=<raw Sec-WebSocket-Extensions``
``offered>;deflate=<1 if permessage-deflate is in use, else 0>``. The characters ``%``, ``;``, CR
and LF inside a value are written as ``%25``, ``%3B``, ``%0D`` and ``%0A``
(tidewire::test::parse_log undoes this).
"""

import asyncio
import http
import logging
import os
import socket
import ssl
import struct
import sys
import time
import urllib.parse

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import Opcode
from websockets.server import ServerProtocol

from peer_lifecycle import announce, close_within, escape_log_value, listening_socket, stop_event, tls_context_from_args

START = time.monotonic()


class PeerProtocol(ServerProtocol):
    """ServerProtocol that counts pings and can be told not to answer them.

    websockets answers pings inside the Sans-I/O protocol (recv_frame), before
    any application code sees them, and has no option to turn that off. The
    connection factory below switches each connection's protocol object to this
    subclass; /noping then sets ``answer_pings = False`` on its connection.
    """

    pings = 0
    answer_pings = True

    def recv_frame(self, frame):
        if frame.opcode is Opcode.PING:
            self.pings += 1
            if not self.answer_pings:
                return
        super().recv_frame(frame)


class PeerConnection(ServerConnection):
    def __init__(self, protocol, *args, **kwargs):
        protocol.__class__ = PeerProtocol
        super().__init__(protocol, *args, **kwargs)
        self.record = None  # the Conn logged for this connection


class KeyState:
    __slots__ = ("t0", "conns", "counters")

    def __init__(self):
        self.t0 = time.monotonic()
        self.conns = []
        self.counters = {}

    def next_value(self, counter):
        n = self.counters.get(counter, 0) + 1
        self.counters[counter] = n
        return n


STATES = {}


def state_for(key):
    st = STATES.get(key)
    if st is None:
        st = STATES[key] = KeyState()
    return st


class Conn:
    """One connection attempt as the log shows it."""

    def __init__(self, state, n, path, headers):
        self.t_ms = (time.monotonic() - state.t0) * 1000.0
        self.n = n
        self.path = path
        self.status = 101
        self.offered = ", ".join(headers.get_all("Sec-WebSocket-Protocol"))
        self.subprotocol = ""
        self.x_test = headers.get("X-Test", "")
        self.extensions = ", ".join(headers.get_all("Sec-WebSocket-Extensions"))
        self.received = 0
        self.first = None
        self.ended = False
        self.proto = None  # the connection's PeerProtocol, read live by line()
        self.got_message = asyncio.Event()

    def line(self):
        rcvd = self.proto.close_rcvd if self.proto is not None else None
        fields = [
            ("t_ms", f"{self.t_ms:.1f}"),
            ("conn", self.n),
            ("path", self.path),
            ("status", self.status),
            ("offered", self.offered),
            ("subprotocol", self.subprotocol),
            ("x-test", self.x_test),
            ("received", self.received),
            ("close_code", "" if rcvd is None else rcvd.code),
            ("first", "" if self.first is None else self.first),
            ("pings", self.proto.pings if self.proto is not None else 0),
            ("ended", 1 if self.ended else 0),
            ("extensions", self.extensions),
            ("deflate", 1 if self.proto is not None and self.proto.extensions else 0),
        ]
        return ";".join(f"{k}={escape_log_value(v)}" for k, v in fields)


def set_cork(connection, on):
    sock = connection.transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1 if on else 0)


def split_path(path):
    parts = urllib.parse.urlsplit(path)
    query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    return parts.path, query


def int_param(query, name, default):
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    return int(raw)


ROUTES = {}


def route(path):
    def register(fn):
        ROUTES[path] = fn
        return fn
    return register


def process_request(connection, request):
    path, query = split_path(request.path)
    if path in ("/log", "/_log"):
        st = STATES.get(query.get("key", ""))
        text = "".join(c.line() + "\n" for c in st.conns) if st else ""
        return connection.respond(http.HTTPStatus.OK, text)
    if path not in ROUTES:
        return connection.respond(http.HTTPStatus.NOT_FOUND, f"no route {path}\n")
    st = state_for(query.get("key", ""))
    conn = Conn(st, len(st.conns) + 1, request.path, request.headers)
    st.conns.append(conn)
    connection.record = conn
    conn.proto = connection.protocol
    if query.get("cork") == "1":
        set_cork(connection, True)
    if path == "/redirect":
        code = int_param(query, "code", 302)
        conn.status = code
        conn.ended = True
        location = query.get("to", request.path)
        response = connection.respond(code, f"moved to {location}\n")
        response.headers["Location"] = location
        return response
    if path == "/status":
        times = int_param(query, "times", None)
        refused = st.next_value("/status")
        if times is None or refused <= times:
            code = int_param(query, "code", 503)
            conn.status = code
            conn.ended = True
            return connection.respond(code, f"refused with {code}\n")
    return None


def select_subprotocol(connection, offered):
    path, _ = split_path(connection.request.path)
    if path == "/subproto":
        for candidate in ("chat.v2", "chat.v1"):
            if candidate in offered:
                return candidate
        return None
    return offered[0] if offered else None


async def reader(ws, conn, inbox):
    """Reads every message of the connection, records it, hands it on."""
    try:
        async for message in ws:
            conn.received += 1
            if isinstance(message, str) and conn.first is None:
                conn.first = message
            conn.got_message.set()
            if inbox is not None:
                inbox.put_nowait(message)
    except ConnectionClosed:
        pass
    finally:
        if inbox is not None:
            inbox.put_nowait(None)


async def echo(ws, inbox):
    while True:
        message = await inbox.get()
        if message is None:
            return
        await ws.send(message)


async def flush_output(ws, limit_s=5.0):
    # Messages still in the transport's buffer would be lost by abort().
    deadline = time.monotonic() + limit_s
    while ws.transport.get_write_buffer_size() > 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.005)


async def hold(ws):
    await ws.wait_closed()


def text_message(k, size):
    base = '{"i":%d}' % k
    if size <= len(base):
        return base
    padded = '{"i":%d,"p":""}' % k
    pad = max(0, size - len(padded))
    return '{"i":%d,"p":"%s"}' % (k, "x" * pad)


def binary_message(k, size):
    head = struct.pack(">I", k & 0xFFFFFFFF)
    return head + bytes(j % 251 for j in range(len(head), max(size, len(head))))


@route("/echo")
async def route_echo(ws, st, query, inbox):
    await echo(ws, inbox)


@route("/push")
async def route_push(ws, st, query, inbox):
    count = int_param(query, "count", 1)
    size = int_param(query, "size", 0)
    binary = query.get("binary", "0") == "1"
    for k in range(1, count + 1):
        await ws.send(binary_message(k, size) if binary else text_message(k, size))
    if query.get("cork") == "1":
        set_cork(ws, False)
    await hold(ws)


@route("/slow-consumer")
async def route_slow_consumer(ws, st, query, inbox):
    count = int_param(query, "count", 1)
    for k in range(1, count + 1):
        await ws.send('{"i":%d}' % k)
    await hold(ws)


PATTERN = bytes(i % 251 for i in range(251))


def pattern_bytes(start, end):
    # byte i = i % 251, for i in [start, end)
    out = bytearray()
    i = start
    while i < end:
        off = i % 251
        take = min(251 - off, end - i)
        out += PATTERN[off:off + take]
        i += take
    return bytes(out)


def pattern_text(start, end):
    return "".join(chr(33 + i % 94) for i in range(start, end))


@route("/big")
async def route_big(ws, st, query, inbox):
    size = int_param(query, "size", 1024)
    frag = int_param(query, "frag", 0) or max(size, 1)
    binary = query.get("binary", "1") != "0"
    make = pattern_bytes if binary else pattern_text
    if query.get("zeros") == "1":
        make = lambda start, end: bytes(end - start)  # noqa: E731
    if frag >= size:
        await ws.send(make(0, size))
    else:
        await ws.send(make(i, min(i + frag, size)) for i in range(0, size, frag))
    await hold(ws)


@route("/close")
async def route_close(ws, st, query, inbox):
    code = int_param(query, "code", 1000)
    after = int_param(query, "after", 0)
    reason = query.get("reason", "")
    for _ in range(after):
        await ws.send('{"i":%d}' % st.next_value("/close"))
    if code == 1006:
        await flush_output(ws)
        ws.transport.abort()
    else:
        await ws.close(code, reason)


@route("/drop")
async def route_drop(ws, st, query, inbox):
    after = int_param(query, "after", 1)
    wait_ms = int_param(query, "wait_ms", 1000)
    for _ in range(after):
        await ws.send('{"i":%d}' % st.next_value("/drop"))
    try:
        await asyncio.wait_for(ws.record.got_message.wait(), wait_ms / 1000.0)
    except asyncio.TimeoutError:
        pass
    await flush_output(ws)
    ws.transport.abort()


@route("/noping")
async def route_noping(ws, st, query, inbox):
    ws.protocol.answer_pings = False
    await ws.send('{"i":1}')
    await hold(ws)


@route("/status")
async def route_status(ws, st, query, inbox):
    await echo(ws, inbox)


@route("/redirect")
async def route_redirect(ws, st, query, inbox):
    await echo(ws, inbox)  # never reached: process_request refuses every handshake


@route("/subproto")
async def route_subproto(ws, st, query, inbox):
    await ws.send(ws.subprotocol or "")
    await echo(ws, inbox)


async def handler(ws):
    conn = ws.record
    conn.subprotocol = ws.subprotocol or ""
    path, query = split_path(ws.request.path)
    st = state_for(query.get("key", ""))
    inbox = asyncio.Queue()
    read_task = asyncio.create_task(reader(ws, conn, inbox))
    try:
        await ROUTES[path](ws, st, query, inbox)
    except ConnectionClosed:
        pass
    finally:
        # Let the closing handshake (if any) finish before reading the code
        # the client sent; abort()ed connections end at once.
        try:
            await asyncio.wait_for(ws.wait_closed(), 5)
        except asyncio.TimeoutError:
            ws.transport.abort()
        read_task.cancel()
        conn.ended = True


def arg_value(name):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else None


def write_pki(directory):
    """A test CA, a server certificate it signs (127.0.0.1, ::1, localhost) and an unrelated CA."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=2)

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def pem_key(key):
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    def make_ca(cn):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(name(cn))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(start).not_valid_after(end)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                             key_encipherment=False, data_encipherment=False,
                                             key_agreement=False, key_cert_sign=True, crl_sign=True,
                                             encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256()))
        return key, cert

    ca_key, ca_cert = make_ca("Tidewire test CA")
    _, other_cert = make_ca("Tidewire unrelated test CA")
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name("tidewire test peer")).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.IPAddress(ipaddress.ip_address("::1")),
                x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    files = {
        "ca.pem": ca_cert.public_bytes(serialization.Encoding.PEM),
        "other-ca.pem": other_cert.public_bytes(serialization.Encoding.PEM),
        "server.pem": cert.public_bytes(serialization.Encoding.PEM),
        "server.key": pem_key(key),
    }
    for file, data in files.items():
        with open(os.path.join(directory, file), "wb") as f:
            f.write(data)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(os.path.join(directory, "server.pem"), os.path.join(directory, "server.key"))
    return context


def server_socket():
    host = arg_value("--host")
    if host is None:
        return listening_socket()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.bind((host, 0))
    sock.listen(128)
    return sock


async def main():
    logging.basicConfig(level=logging.CRITICAL if not os.environ.get("WS_PEER_DEBUG")
                        else logging.DEBUG)
    stop = stop_event()

    sock = server_socket()
    pki = arg_value("--pki")
    tls = write_pki(pki) if pki else tls_context_from_args()
    server = await serve(
        handler,
        sock=sock,
        process_request=process_request,
        select_subprotocol=select_subprotocol,
        create_connection=PeerConnection,
        ping_interval=None,     # the peer never pings; clients ping it
        close_timeout=2,
        max_size=64 * 1024 * 1024,
        compression="deflate" if "--compression" in sys.argv else None,
        ssl=tls,
    )
    announce(sock)

    await stop.wait()
    server.close()
    await close_within(server.wait_closed())


if __name__ == "__main__":
    asyncio.run(main())
