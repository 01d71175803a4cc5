#!/usr/bin/env python3
"""A webhook sender that retries, for the hostile-peer tests.

    python3 tests/peers/hostile_sender.py URL --secret whsec_... --count N [--body-bytes B]
                                          [--give-up-ms G] [--timeout S]

Delivers N deliveries ``msg_0`` .. ``msg_<N-1>`` (one after the other, or --concurrency at a
time), signed by the real
``standardwebhooks`` package, each on a fresh connection (``Connection: close``), and retries a
delivery (same webhook-id, freshly signed) until it is answered 2xx: a refused or cut
connection, a missing or partial answer and any other status all count as "not delivered".
With --give-up-ms, a delivery not acknowledged for that long ends the run early (exit code 3):
the receiver is gone.

Prints one JSON object when done:
    {"count": N, "acked": [ids answered 2xx, in the order of the answers], "attempts": A, "failures": F}
"""

import argparse
import json
import socket
import sys
import threading
import time
import urllib.parse

from standardwebhooks.webhooks import Webhook


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--secret", required=True)
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--body-bytes", type=int, default=2048)
    p.add_argument("--give-up-ms", type=int, default=0)
    p.add_argument("--concurrency", type=int, default=1,
                   help="deliveries in flight at once (worker w sends msg_w, msg_{w+C}, ...)")
    p.add_argument("--timeout", type=float, default=60.0, help="deadline for the whole run, in seconds")
    return p.parse_args()


def attempt(host, port, path, delivery_id, n, args, wh):
    """One POST on a fresh connection; the status, or 0 if no complete status line came back."""
    body = json.dumps({"id": delivery_id, "n": n, "pad": "p" * args.body_bytes}).encode()
    ts = time.time()
    from datetime import datetime, timezone
    signature = wh.sign(delivery_id, datetime.fromtimestamp(ts, tz=timezone.utc), body.decode())
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"webhook-id: {delivery_id}\r\nwebhook-timestamp: {int(ts)}\r\n"
            f"webhook-signature: {signature}\r\n\r\n").encode()
    try:
        with socket.create_connection((host, port), timeout=5) as s:
            s.sendall(head + body)
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    return 0
                data += chunk
            line = data.split(b"\r\n", 1)[0].decode("latin-1")
            parts = line.split(" ")
            return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else 0
    except OSError:
        return 0


def main():
    args = parse_args()
    u = urllib.parse.urlsplit(args.url)
    wh = Webhook(args.secret)
    deadline = time.monotonic() + args.timeout
    lock = threading.Lock()
    acked, totals, failed = [], {"attempts": 0, "failures": 0}, threading.Event()

    def worker(w):
        for n in range(w, args.count, args.concurrency):
            delivery_id = f"msg_{n}"
            first_try = time.monotonic()
            while not failed.is_set():
                status = attempt(u.hostname, u.port, u.path or "/", delivery_id, n, args, wh)
                with lock:
                    totals["attempts"] += 1
                    if 200 <= status < 300:
                        acked.append(delivery_id)
                        break
                    totals["failures"] += 1
                now = time.monotonic()
                if now > deadline or (args.give_up_ms and (now - first_try) * 1000 > args.give_up_ms):
                    failed.set()
                    return
                time.sleep(0.002)
            if failed.is_set():
                return

    workers = [threading.Thread(target=worker, args=(w,)) for w in range(args.concurrency)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    print(json.dumps({"count": args.count, "acked": acked, "attempts": totals["attempts"],
                      "failures": totals["failures"]}))
    sys.stdout.flush()
    return 3 if failed.is_set() else 0


if __name__ == "__main__":
    sys.exit(main())
