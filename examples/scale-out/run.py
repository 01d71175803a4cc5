#!/usr/bin/env python3
"""Scale-out on Redis, end to end, on one machine:

    senders ──► receiver A ─┐                        ┌─► worker c
       (retry on 503)       ├─► Redis (dedup set +  ─┼─► worker python
            └─► receiver B ─┘    Stream "deliveries") └─► worker node

Starts redis-server (AOF, appendfsync always), two webhook receivers (receiver.py) on two ports, and
three workers (C, Python, Node) in one consumer group; a signer then sends COUNT deliveries signed
with Standard Webhooks, alternating between the receivers, 10% of them twice (the second time to the
other receiver), retrying every non-2xx as webhook senders do. Prints each worker's count and
whether each delivery was consumed exactly once.

    python3 run.py [--count 10000] [--redis-outage 5] [--kill-worker] --c-worker PATH --node-modules DIR

--redis-outage S  stops Redis for S seconds once a third of the deliveries are sent: the receivers
                  answer 503, the signer retries, and the final count is the same.
--kill-worker     runs the Python worker alone first; it stalls after COUNT/20 deliveries (it stops
                  acknowledging, with more entries read) and is killed; then the C and Node workers
                  start and claim its entries after redis.claim_idle_ms (2 s here).
Needs: redis-server and redis-cli (Debian redis-server), the tidewire Python package, node with the
tidewire package under --node-modules, and the C worker (tw_example_scale_out_worker) built.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import http.client
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from standardwebhooks.webhooks import Webhook

HERE = Path(__file__).resolve().parent
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    def __init__(self, workdir: str) -> None:
        self.dir = workdir
        self.port = free_port()
        self.process = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir, "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.cli("PING") == "PONG":
                return
            time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        self.process.terminate()  # writes its AOF and exits
        self.process.wait()

    def cli(self, *args: str) -> str:
        r = subprocess.run(["redis-cli", "-p", str(self.port), "--raw", *args], capture_output=True, text=True,
                           timeout=10)
        return r.stdout.strip()

    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


def start_receiver(redis_url: str) -> tuple[subprocess.Popen, int]:
    p = subprocess.Popen([sys.executable, str(HERE / "receiver.py"), redis_url, SECRET], stdout=subprocess.PIPE,
                         text=True)
    line = p.stdout.readline().split()
    if len(line) != 2 or line[0] != "PORT":
        raise RuntimeError("a receiver did not start")
    return p, int(line[1])


class Signer:
    """Sends deliveries like a webhook provider: signed, retried until answered 2xx."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.local = threading.local()
        self.lock = threading.Lock()
        self.refused = 0  # 503s (and connection failures) that were retried
        self.sent = 0
        self.signer = Webhook(SECRET)
        self.on_sent = lambda sent: None  # called with the count after each 2xx
        self.gate = threading.Event()  # cleared: new requests wait
        self.gate.set()

    def connection(self, port: int) -> http.client.HTTPConnection:
        conns = getattr(self.local, "conns", None)
        if conns is None:
            conns = self.local.conns = {}
        if port not in conns:
            conns[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        return conns[port]

    def deliver(self, delivery_id: str, receiver: int) -> None:
        body = f'{{"type": "order.paid", "id": "{delivery_id}"}}'
        port = self.ports[receiver]
        while True:
            self.gate.wait()
            now = datetime.datetime.now(tz=datetime.timezone.utc)
            headers = {"webhook-id": delivery_id, "webhook-timestamp": str(int(now.timestamp())),
                       "webhook-signature": self.signer.sign(delivery_id, now, body),
                       "content-type": "application/json"}
            conn = self.connection(port)
            try:
                conn.request("POST", "/hooks", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
                retry_after = float(response.getheader("retry-after") or 1)
            except (OSError, http.client.HTTPException):
                conn.close()
                status, retry_after = 0, 0.2
            if 200 <= status < 300:
                with self.lock:
                    self.sent += 1
                    sent = self.sent
                self.on_sent(sent)
                return
            with self.lock:
                self.refused += 1
            # A real sender waits Retry-After (or its own schedule); capped so the demo stays short.
            time.sleep(min(retry_after, 0.5))


def pending_entries(redis: Redis, consumer: str) -> list[str]:
    """The stream entry ids delivered to `consumer` and not acknowledged (XPENDING's extended form)."""
    pending = redis.cli("XPENDING", "deliveries", "workers", "-", "+", "100000", consumer)
    # Four lines per entry: its id (ms-seq), the consumer, the idle time, the delivery count.
    return [line for line in pending.split("\n") if line.count("-") == 1 and line[0].isdigit()]


def read_ids(path: Path) -> list[str]:
    return [line for line in path.read_text().split("\n") if line] if path.exists() else []


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--count", type=int, default=10000)
    p.add_argument("--duplicates", type=float, default=0.10)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--redis-outage", type=float, default=0)
    p.add_argument("--kill-worker", action="store_true")
    p.add_argument("--c-worker", required=True, help="the built tw_example_scale_out_worker")
    p.add_argument("--node-modules", required=True, help="a node_modules directory holding tidewire")
    p.add_argument("--timeout", type=float, default=180)
    args = p.parse_args()

    work = tempfile.mkdtemp(prefix="tidewire-scale-out-")
    procs: list[subprocess.Popen] = []
    redis = Redis(work)
    try:
        receivers = [start_receiver(redis.url()) for _ in range(2)]
        procs += [r[0] for r in receivers]
        outs = {name: Path(work) / f"{name}.ids" for name in ("c", "python", "node")}
        env = dict(os.environ, NODE_PATH=args.node_modules)
        python_worker = [sys.executable, str(HERE / "worker.py"), redis.url(), "python", str(outs["python"])]
        if args.kill_worker:
            python_worker += ["--stall-after", str(max(1, args.count // 20))]
        workers = {"python": subprocess.Popen(python_worker, stdout=subprocess.PIPE, text=True)}
        procs.append(workers["python"])

        def start_others():
            workers["c"] = subprocess.Popen([args.c_worker, redis.url(), "c", str(outs["c"])])
            workers["node"] = subprocess.Popen(["node", str(HERE / "worker.js"), redis.url(), "node",
                                                str(outs["node"])], env=env)
            procs.extend([workers["c"], workers["node"]])

        if not args.kill_worker:
            start_others()

        # The deliveries: each id once, and a tenth of them again, to the other receiver.
        ids = [f"msg_{i:06d}" for i in range(args.count)]
        sends = [(d, i % 2) for i, d in enumerate(ids)]
        again = random.Random(7).sample(range(args.count), int(args.count * args.duplicates))
        sends += [(ids[i], 1 - i % 2) for i in again]
        signer = Signer([r[1] for r in receivers])
        outage = None
        if args.redis_outage:
            def outage_run():
                time.sleep(args.redis_outage)
                redis.start()
                print("redis is back", flush=True)

            def maybe_stop(sent):
                # Stopped from the sending thread itself, at a third: the rest is sent while it is down.
                nonlocal outage
                if sent == len(sends) // 3:
                    signer.gate.clear()  # nothing more is sent until Redis is really down
                    redis.stop()
                    signer.gate.set()
                    print(f"redis stopped for {args.redis_outage:g} s after {sent} deliveries", flush=True)
                    outage = threading.Thread(target=outage_run)
                    outage.start()
            signer.on_sent = maybe_stop

        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(lambda s: signer.deliver(*s), sends))
        into_redis_s = time.monotonic() - started
        if outage:
            outage.join()

        killed_pending = None
        if args.kill_worker:
            # The Python worker was alone so far: it has taken its share and more, and stalled.
            stalled = workers["python"].stdout.readline().split()
            if not stalled or stalled[0] != "stalled":
                raise RuntimeError("the Python worker did not stall")
            # Its acknowledgments go on a connection of their own: it is killed once Redis has taken
            # every one (none of the entries it acknowledged is pending any more), within 10 s.
            acked = set(stalled[1:])
            deadline = time.monotonic() + 10
            while acked & set(pending_entries(redis, "python")):
                if time.monotonic() > deadline:
                    raise RuntimeError("the Python worker's acknowledgments did not reach Redis within 10 s")
                time.sleep(0.02)  # a Redis state, read again: there is no event to wait on
            killed_pending = len(pending_entries(redis, "python"))
            workers["python"].kill()
            workers["python"].wait()
            print(f"killed worker python with {killed_pending} unacknowledged entries", flush=True)
            start_others()

        # Done when every entry is consumed and acknowledged.
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            consumed = sum(len(read_ids(o)) for o in outs.values())
            if consumed >= args.count and redis.cli("XPENDING", "deliveries", "workers").split("\n")[0] == "0":
                break
            time.sleep(0.1)
        entries = int(redis.cli("XLEN", "deliveries"))
        counts = {name: read_ids(out) for name, out in outs.items()}
        everything = [i for got in counts.values() for i in got]
        distinct = set(everything)
        print(f"deliveries sent: {args.count} distinct + {len(again)} duplicates = {len(sends)} requests, "
              f"all answered 2xx; {signer.refused} refusals (503 or no answer) retried")
        print(f"verified deliveries into Redis: {len(sends) / into_redis_s:.0f}/s with two receivers "
              f"({len(sends)} in {into_redis_s:.2f} s, signer concurrency {args.concurrency})")
        print(f"stream entries: {entries}")
        for name, got in counts.items():
            print(f"worker {name}: {len(got)}")
        if killed_pending is not None:
            print(f"claimed from the killed worker: {killed_pending} entries (pending now: "
                  f"{redis.cli('XPENDING', 'deliveries', 'workers').split(chr(10))[0]})")
        lost = len(set(ids) - distinct)
        twice = len(everything) - len(distinct)
        print(f"consumed: {len(everything)}, distinct: {len(distinct)}, lost: {lost}, consumed twice: {twice}")
        once = entries == args.count and lost == 0 and twice == 0 and len(distinct) == args.count
        print(f"each delivery once: {'yes' if once else 'no'}")
        return 0 if once else 1
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
        redis.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
