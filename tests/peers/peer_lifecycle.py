"""What every test peer shares: its listening socket, the ``PORT <n>`` announcement, the optional
``--tls DIR`` certificate, the ``/_log`` value escaping, and the rule that it stops on SIGTERM,
SIGINT or EOF on stdin (so it never outlives the test that started it).
"""

import asyncio
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading


def escape_log_value(value):
    """Escapes the characters the ``/_log`` line format uses (tidewire::test::parse_log undoes it)."""
    return (str(value).replace("%", "%25").replace(";", "%3B")
            .replace("\r", "%0D").replace("\n", "%0A"))


def listening_socket():
    """A socket bound to 127.0.0.1 on an ephemeral port, listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def announce(sock):
    sys.stdout.write(f"PORT {sock.getsockname()[1]}\n")
    sys.stdout.flush()


def tls_context_from_args():
    """``--tls DIR``: serve TLS with a self-signed certificate for 127.0.0.1, written to
    DIR/cert.pem (the CA file a client trusts) and DIR/key.pem by the openssl CLI."""
    if "--tls" not in sys.argv:
        return None
    directory = sys.argv[sys.argv.index("--tls") + 1]
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    if not os.path.exists(cert):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def _watch_stdin(loop, stop):
    # os.read rather than sys.stdin: a daemon thread parked inside a buffered reader can deadlock
    # interpreter shutdown on the reader's lock.
    try:
        while os.read(0, 4096):
            pass
    except OSError:
        pass
    loop.call_soon_threadsafe(stop.set)


def stop_event():
    """An asyncio.Event set on SIGTERM, SIGINT or stdin EOF. Call from inside the running loop."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    threading.Thread(target=_watch_stdin, args=(loop, stop), daemon=True).start()
    return stop


async def close_within(closing, timeout=2):
    """Awaits a server's shutdown for at most ``timeout`` s, ignoring its errors: a peer whose test
    is gone has nothing worth finishing, so exiting matters more than a clean close."""
    try:
        await asyncio.wait_for(closing, timeout=timeout)
    except Exception:  # including the timeout
        pass
