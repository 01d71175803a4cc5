#!/usr/bin/env python3
"""Push versus pull, measured: one event sequence consumed over five transports at once.

    python examples/demo/demo.py [--events N] [--interval-ms MS] [--poll-interval-ms MS]

Starts the demo feed (examples/feed/feed.py), which publishes N events (default 40, one every
150 ms) over poll, long-poll, SSE and WebSocket, and POSTs each one as a Standard Webhooks-signed
delivery to the webhook endpoint this script opens first. Tidewire consumes all five at once, in
one asyncio loop (one task per stream, no thread per stream), while a progress line runs. Then a
table per transport: events received, delivery latency publish → application (p50, p99), HTTP
requests, 304 answers, payload bytes, reconnects — the push-vs-pull trade-off in numbers.

Exits 0 when every push transport and long-poll received every event and the poller received at
least one; 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import secrets
import sys
import time
from pathlib import Path

import tidewire

FEED = Path(__file__).resolve().parent.parent / "feed" / "feed.py"
TRANSPORTS = ("poll", "longpoll", "sse", "ws", "webhook")
PUSH = ("sse", "ws", "webhook")


class Consumer:
    """One stream of the demo, and what the application measured on it."""

    def __init__(self, name: str, stream: tidewire.Stream) -> None:
        self.name = name
        self.stream = stream
        self.seqs: list[int] = []
        self.arrivals: list[tuple[int, float]] = []  # (seq, unix time the application got it)
        self.stats: dict = {}
        self.error = ""

    async def run(self, last_seq: int, published_at: dict) -> None:
        try:
            async for event in self.stream:
                now = time.time()
                tick = event.json()
                published_at[tick["seq"]] = tick["published_at"]
                self.arrivals.append((tick["seq"], now))
                self.seqs.append(tick["seq"])
                if tick["seq"] == last_seq:
                    break
        except tidewire.StreamError as error:
            self.error = str(error)

    def latencies_ms(self, published_at: dict) -> list[float]:
        """Per published event: how long until the application knew it, i.e. received it or a
        newer one (a poller that skips an event learns its news, late, from the next state)."""
        out = []
        for seq, published in published_at.items():
            seen = [t for s, t in self.arrivals if s >= seq]
            if seen:
                out.append((min(seen) - published) * 1000)
        return out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


async def start_feed(args, webhook_url: str, secret: str):
    env = dict(os.environ, TIDEWIRE_FEED_WEBHOOK_SECRET=secret)
    feed = await asyncio.create_subprocess_exec(
        sys.executable,
        str(FEED),
        "--count",
        str(args.events),
        "--interval-ms",
        str(args.interval_ms),
        "--start-ms",
        "1000",
        "--webhook-url",
        webhook_url,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env=env,
    )
    line = await asyncio.wait_for(feed.stdout.readline(), 15)
    if not line.startswith(b"PORT "):
        raise SystemExit(f"demo: the feed did not start (said {line!r})")
    return feed, int(line.split()[1])


async def progress(consumers: list[Consumer], total: int, done: asyncio.Event) -> None:
    tty = sys.stdout.isatty()
    start = time.monotonic()
    last_print = 0.0
    while not done.is_set():
        now = time.monotonic() - start
        line = f"  {now:4.1f} s  " + "  ".join(f"{c.name} {len(c.seqs):>3}/{total}" for c in consumers)
        if tty:
            print("\r" + line, end="", flush=True)
        elif now - last_print >= 2:
            print(line, flush=True)
            last_print = now
        try:
            await asyncio.wait_for(done.wait(), 0.1)
        except asyncio.TimeoutError:
            pass
    if tty:
        print()


def table(consumers: list[Consumer], args, published_at: dict) -> str:
    header = ("transport", "events", "latency p50", "p99 (ms)", "requests", "304s", "bytes", "reconnects")
    rows = []
    for c in consumers:
        lat = c.latencies_ms(published_at)
        rows.append(
            (
                c.name,
                f"{len(c.seqs)}/{args.events}",
                f"{percentile(lat, 50):.1f}" if lat else "-",
                f"{percentile(lat, 99):.1f}" if lat else "-",
                str(c.stats.get("requests", 0)),
                str(c.stats.get("not_modified", 0)),
                str(c.stats.get("bytes", 0)),
                str(c.stats.get("reconnects", 0)),
            )
        )
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    lines = ["  " + "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths)))]
    for r in rows:
        lines.append("  " + "  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(r, widths))))
    return "\n".join(lines)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=40, help="events the feed publishes (default 40)")
    parser.add_argument("--interval-ms", type=int, default=150, help="time between events (default 150)")
    parser.add_argument("--poll-interval-ms", type=int, default=500, help="the poller's interval (default 500)")
    parser.add_argument(
        "--quiet-s",
        type=float,
        default=2,
        help="streams stay open this long after the last "
        "event, to show what each costs while nothing happens (default 2)",
    )
    parser.add_argument("--timeout-s", type=float, default=40, help="stop waiting after this long (default 40)")
    args = parser.parse_args()

    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    # The webhook endpoint comes first: the feed needs its URL (port 0: any free port).
    webhook = tidewire.Stream("http://127.0.0.1:0/webhook", "webhook", webhook_secret=secret)
    feed, port = await start_feed(args, webhook.url, secret)
    base = f"http://127.0.0.1:{port}"
    print(
        f"demo: tidewire {tidewire.__version__}; feed on {base} publishes {args.events} events, one every "
        f"{args.interval_ms} ms, and POSTs each to {webhook.url}"
    )
    print(f"demo: poll every {args.poll_interval_ms} ms, long-poll, SSE, WebSocket and webhook, all at once\n")

    streams = {
        "poll": tidewire.Stream(f"{base}/poll", "poll", poll_interval_ms=args.poll_interval_ms),
        "longpoll": tidewire.Stream(
            f"{base}/longpoll", "longpoll", longpoll_cursor_header="X-Cursor", longpoll_cursor_param="cursor"
        ),
        "sse": tidewire.Stream(f"{base}/sse", "sse"),
        "ws": tidewire.Stream(f"ws://127.0.0.1:{port}/ws"),
        "webhook": webhook,
    }
    consumers = [Consumer(name, streams[name]) for name in TRANSPORTS]
    done = asyncio.Event()
    shown = asyncio.create_task(progress(consumers, args.events, done))
    start = time.monotonic()
    published_at: dict = {}
    try:
        runs = [asyncio.create_task(c.run(args.events - 1, published_at)) for c in consumers]
        _, late = await asyncio.wait(runs, timeout=args.timeout_s)
        for c, run in zip(consumers, runs):
            if run in late:
                c.error = f"stopped by the demo after {args.timeout_s:.0f} s"
                run.cancel()
        await asyncio.sleep(args.quiet_s)
        for c in consumers:
            c.stats = c.stream.stats()
    finally:
        done.set()
        await shown
        for stream in streams.values():
            stream.close()
        feed.stdin.close()  # EOF: the feed exits
        try:
            await asyncio.wait_for(feed.wait(), 5)
        except asyncio.TimeoutError:
            feed.kill()
    elapsed = time.monotonic() - start

    print(
        f"\n{args.events} events published, {elapsed:.1f} s from the first stream to the end "
        f"({args.quiet_s:.0f} s of it quiet, after the last event):\n"
    )
    print(table(consumers, args, published_at))
    poll = consumers[0]
    push = [percentile(c.latencies_ms(published_at), 50) for c in consumers if c.name in PUSH and c.arrivals]
    poll_lat = poll.latencies_ms(published_at)
    poll_p50 = percentile(poll_lat, 50) if poll_lat else 0
    print(f"""
  Push (SSE, WebSocket, webhook) hands over every event within ~{max(push or [0]):.0f} ms (p50); the poller saw
  {len(poll.seqs)} of {args.events} and learnt of an event {poll_p50:.0f} ms after it happened (p50; poll interval \
{args.poll_interval_ms} ms).
  While nothing happens, the poller still pays a request per interval (the 304s); long-poll pays a
  request per event, webhooks a POST per event.
  latency: publish -> application, until the application had the event or a newer state. bytes: payloads.
  The SSE reconnect is the feed ending its response after the last event (then 204: stream over).""")

    failed = [c for c in consumers if c.error or (c.name != "poll" and len(c.seqs) != args.events) or not c.seqs]
    for c in failed:
        print(f"demo: {c.name}: {c.error or f'received {len(c.seqs)} of {args.events} events'}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
