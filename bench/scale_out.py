#!/usr/bin/env python3
"""Verified webhook deliveries per second into Redis, with two receivers.

    build-python/venv/bin/python bench/scale_out.py [--seconds 10] [--appendfsync everysec|always]

Starts redis-server (AOF on, the given appendfsync) and two Tidewire webhook receivers that only
forward (webhook.handoff to a Redis Stream, webhook.local_queue=false; each delivery is verified,
then XADDed, then answered 204), and drives each with its own wrk (16 connections) replaying 64
Standard Webhooks deliveries signed as bench/run.py signs them. The figure is the stream's growth
over the run divided by its length: entries Redis really holds, not requests answered. The
in-process dedup is off (webhook.dedup_window_s=0), or the replayed ids would be duplicates and
never reach Redis; a shared dedup store adds one SET NX per delivery to the same round trip.

Compare with the single-process receiver of bench/results (tidewire C receiver, wrk, 32
connections). On a shared 2-core machine Redis, both receivers and both wrk processes compete for
the same cores: the figure is a floor.
"""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import WEBHOOK_SECRET, wrk_script  # noqa: E402

RECEIVER = """
import signal, sys, tidewire
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
with tidewire.Stream("http://127.0.0.1:0/hooks", "webhook", webhook_secret=sys.argv[1],
                     webhook_handoff=sys.argv[2] + "?stream=bench", webhook_local_queue=False,
                     webhook_dedup_window_s=0) as s:
    print("url", s.url, flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(port: int, *args: str) -> str:
    return subprocess.run(["redis-cli", "-p", str(port), "--raw", *args], capture_output=True, text=True,
                          timeout=10).stdout.strip()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--appendfsync", choices=["everysec", "always", "no"], default="everysec")
    p.add_argument("--connections", type=int, default=16, help="per receiver")
    args = p.parse_args()
    work = tempfile.mkdtemp(prefix="tidewire-bench-scale-out-")
    port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", work, "--save", "",
                              "--appendonly", "yes", "--appendfsync", args.appendfsync],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs = [redis]
    try:
        deadline = time.monotonic() + 10
        while cli(port, "PING") != "PONG":
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.02)
        urls = []
        for _ in range(2):
            r = subprocess.Popen([sys.executable, "-c", RECEIVER, WEBHOOK_SECRET, f"redis://127.0.0.1:{port}/0"],
                                 stdout=subprocess.PIPE, text=True)
            procs.append(r)
            urls.append(r.stdout.readline().split()[1])
        script = Path(work) / "webhook.lua"
        script.write_text(wrk_script(WEBHOOK_SECRET, 64))
        for url in urls:  # warm-up, unmeasured
            subprocess.run(["wrk", "-t1", "-c4", "-d1s", "-s", str(script), url], capture_output=True, check=False)
        before = int(cli(port, "XLEN", "bench"))
        started = time.monotonic()
        wrks = [subprocess.Popen(["wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds}s", "-s", str(script), url],
                                 stdout=subprocess.PIPE, text=True) for url in urls]
        outputs = [w.communicate()[0] for w in wrks]
        elapsed = time.monotonic() - started
        added = int(cli(port, "XLEN", "bench")) - before
        answered = sum(float(re.search(r"Requests/sec:\s+([\d.]+)", o).group(1)) for o in outputs)
        non_2xx = sum(int(m.group(1)) for o in outputs for m in [re.search(r"Non-2xx or 3xx responses: (\d+)", o)] if m)
        print(f"verified deliveries into Redis: {added / elapsed:,.0f}/s with two receivers "
              f"({added} entries in {elapsed:.1f} s; appendfsync {args.appendfsync}; "
              f"wrk: {answered:,.0f} requests/s answered, {non_2xx} not 2xx)")
        return 0
    finally:
        for proc in reversed(procs):  # the receivers first: Redis going away is not the news
            proc.terminate()
            proc.wait()
        subprocess.run(["rm", "-rf", work], check=False)


if __name__ == "__main__":
    sys.exit(main())
