"""Runs every benchmark of Tidewire and its peers side by side, writes results.json and results.md.

Started by scripts/bench.sh, which builds and installs what this needs; run it directly only with
the same arguments:

    python3 bench/run.py --build DIR --python PY --node-dir DIR --out DIR [--smoke]

Every figure is the median of several runs (min and max shown). When the machine has two CPUs, the
throughput rows (WebSocket, SSE, webhook) run the load generator (bench_server, wrk) on CPU 0 and
the client under test on CPU 1, one core each. The request/response rows (latency, polling) run a
second server on CPU 1 beside the client: a wake-up that crosses to another CPU is an
inter-processor interrupt, which in a virtual machine costs tens of microseconds, varies from run to
run, and would measure the hypervisor rather than the client.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"tidewire-bench-secret-0123456789").decode()


@dataclass
class Settings:
    smoke: bool
    runs: int
    seconds: float  # throughput window per run
    latency_samples: int
    latency_interval_us: int
    poll_seconds: float
    wrk_seconds: int
    idle_streams: int
    idle_runs: int

    @staticmethod
    def make(smoke: bool) -> Settings:
        if smoke:
            return Settings(True, 1, 0.2, 100, 1000, 0.2, 1, 200, 1)
        return Settings(False, 5, 1.0, 1000, 1000, 1.0, 3, 10000, 3)


@dataclass
class Row:
    group: str
    client: str
    command: list[str]
    kind: str  # throughput | latency | poll | idle | webhook
    size: int = 0
    runs: list[dict] = field(default_factory=list)
    error: str = ""


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.s = Settings.make(args.smoke)
        self.build = Path(args.build).resolve()
        self.python = args.python
        self.node_dir = Path(args.node_dir).resolve()
        self.out = Path(args.out).resolve()
        self.out.mkdir(parents=True, exist_ok=True)
        self.pin = (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None
        self.rows: list[Row] = []
        self.only = set(args.only.split(",")) if args.only else set()
        self.servers: list[subprocess.Popen] = []
        self.ports: dict[int, int] = {}  # by the CPU its server runs on
        self.port = 0  # the port of the server the current row uses

    # --- processes --------------------------------------------------------------------------------

    def pinned(self, cpu: int, command: list[str]) -> list[str]:
        return ["taskset", "-c", str(cpu), *command] if self.pin else command

    def start_servers(self) -> None:
        """A server on CPU 0 for the throughput rows, one on CPU 1 (the client's) for the others."""
        for cpu in (0, 1):
            server = subprocess.Popen(
                self.pinned(cpu, [str(self.build / "bench" / "bench_server")]), stdout=subprocess.PIPE, text=True
            )
            self.servers.append(server)
            self.ports[cpu] = int(server.stdout.readline().split()[1])

    def stop_servers(self) -> None:
        for server in self.servers:
            server.terminate()
            server.wait(timeout=10)

    @staticmethod
    def server_cpu(row: Row) -> int:
        return 0 if row.kind in ("throughput", "webhook") else 1

    def tw(self, *args: object) -> list[str]:
        return [str(self.build / "bench" / "tw_client"), *map(str, args)]

    def raw(self, *args: object) -> list[str]:
        return [str(self.build / "bench" / "raw_client"), *map(str, args)]

    def py(self, client: str, *args: object) -> list[str]:
        return [self.python, str(ROOT / "bench" / "python" / "peers.py"), client, *map(str, args)]

    def node(self, *args: object) -> list[str]:
        return ["node", str(self.node_dir / "peers.mjs"), *map(str, args)]

    def java(self, client: str, *args: object) -> list[str]:
        classes = self.build / "java"  # bench/java/build.sh
        cp = f"{classes / 'classes'}:{classes / 'tidewire.jar'}"
        return ["java", "-cp", cp, "Peers", client, *map(str, args)]

    # --- the benchmarks ---------------------------------------------------------------------------

    def plan(self) -> None:
        s, p = self.s, lambda: self.port  # the port is known once the server runs
        t = s.seconds
        for size in (64, 1024, 16384):
            group = f"ws-{size}"
            for client, cmd in (
                ("tidewire C", lambda sz=size: self.tw("ws", p(), sz, t)),
                ("raw socket reader", lambda sz=size: self.raw("ws", p(), sz, t)),
                ("tidewire Python (sync)", lambda sz=size: self.py("tidewire-sync", "ws", p(), sz, t)),
                ("tidewire Python (async)", lambda sz=size: self.py("tidewire-async", "ws", p(), sz, t)),
                ("Python websockets", lambda sz=size: self.py("websockets", "ws", p(), sz, t)),
                ("Python aiohttp", lambda sz=size: self.py("aiohttp", "ws", p(), sz, t)),
                ("Node ws", lambda sz=size: self.node("ws", p(), sz, t)),
                ("tidewire Node", lambda sz=size: self.node("tidewire-ws", p(), sz, t)),
                ("tidewire Java", lambda sz=size: self.java("tidewire", "ws", p(), sz, t)),
                ("JDK HttpClient WebSocket", lambda sz=size: self.java("jdk", "ws", p(), sz, t)),
            ):
                self.rows.append(Row(group, client, cmd, "throughput", size))
        for client, cmd in (
            ("tidewire C", lambda: self.tw("sse", p(), 64, t)),
            ("raw socket reader", lambda: self.raw("sse", p(), 64, t)),
            ("tidewire Python (sync)", lambda: self.py("tidewire-sync", "sse", p(), 64, t)),
            ("tidewire Python (async)", lambda: self.py("tidewire-async", "sse", p(), 64, t)),
            ("Python aiohttp (line iteration)", lambda: self.py("aiohttp", "sse", p(), 64, t)),
            ("Python httpx-sse", lambda: self.py("httpx", "sse", p(), 64, t)),
            ("Node eventsource", lambda: self.node("sse", p(), 64, t)),
        ):
            self.rows.append(Row("sse-64", client, cmd, "throughput", 64))
        us, n = s.latency_interval_us, s.latency_samples
        for client, cmd in (
            ("loopback RTT (raw, 64 B, back to back)", lambda: self.raw("rtt", p(), n)),
            ("loopback RTT (raw, 64 B, one per ms)", lambda: self.raw("rtt", p(), n, us)),
            ("raw socket reader (ws)", lambda: self.raw("ws-latency", p(), us, n)),
            ("tidewire C (ws)", lambda: self.tw("ws-latency", p(), us, n)),
            ("tidewire C (sse)", lambda: self.tw("sse-latency", p(), us, n)),
            ("tidewire Python sync (ws)", lambda: self.py("tidewire-sync", "ws-latency", p(), us, n)),
            ("tidewire Python async (ws)", lambda: self.py("tidewire-async", "ws-latency", p(), us, n)),
            ("Python websockets", lambda: self.py("websockets", "ws-latency", p(), us, n)),
            ("Node ws", lambda: self.node("ws-latency", p(), us, n)),
        ):
            self.rows.append(Row("latency", client, cmd, "latency"))
        for client, cmd in (
            ("tidewire C (poll, interval 0)", lambda: self.tw("poll", p(), s.poll_seconds)),
            ("raw keep-alive loop", lambda: self.raw("poll", p(), s.poll_seconds)),
            ("Python httpx (sync, keep-alive)", lambda: self.py("httpx", "poll", p(), s.poll_seconds)),
            ("Python aiohttp (keep-alive)", lambda: self.py("aiohttp", "poll", p(), s.poll_seconds)),
        ):
            self.rows.append(Row("poll-304", client, cmd, "poll"))
        secs = s.wrk_seconds + 30  # the receiver outlives the wrk runs; it is stopped after them
        for client, cmd in (
            ("tidewire C receiver", lambda: self.tw("webhook", WEBHOOK_SECRET, secs)),
            ("Node http + standardwebhooks", lambda: self.node("webhook", WEBHOOK_SECRET)),
            ("Python aiohttp + standardwebhooks", lambda: self.py("aiohttp", "webhook", WEBHOOK_SECRET)),
        ):
            self.rows.append(Row("webhook", client, cmd, "webhook"))
        for client, cmd in (
            ("tidewire C (ws streams, one runtime)", lambda: self.tw("idle", p(), s.idle_streams)),
            ("Python websockets", lambda: self.py("websockets", "idle", p(), s.idle_streams)),
            ("Node ws", lambda: self.node("idle", p(), s.idle_streams)),
        ):
            self.rows.append(Row("idle", client, cmd, "idle"))
        # The demo feed (examples/feed/feed.py), started per run by run_feed: over https for the
        # polls, and its JSON events over WebSocket with permessage-deflate on and off.
        polls = 100 if s.smoke else 1000
        self.rows.append(
            Row("https-poll", f"tidewire C ({polls:,} polls)", lambda: self.tw("https-poll", self.feed_url("/poll"),
                                                                              self.feed_ca(), polls), "feed", 1)
        )
        events = 200 if s.smoke else 2000
        for mode in ("on", "off"):
            self.rows.append(
                Row("ws-compression", f"tidewire C, ws.compression={mode}",
                    lambda m=mode: self.tw("ws-compression", self.feed_url("/ws"), m), "feed", events)
            )

    def run_client(self, row: Row) -> dict:
        command = row.command()
        if row.kind != "idle":
            command = self.pinned(1, command)
        timeout = 120 if row.kind == "idle" else 60
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode != 0 or not lines:
            raise RuntimeError(f"exit {done.returncode}: {done.stderr.strip()[-600:]}")
        result = json.loads(lines[-1])
        if "latencies_ns" in result:
            ns = sorted(result.pop("latencies_ns"))
            result.update(samples=len(ns), p50_us=pct(ns, 50) / 1e3, p99_us=pct(ns, 99) / 1e3)
        if "io_latencies_ns" in result:  # tidewire C: until the I/O thread had it
            result["io_p50_us"] = pct(sorted(result.pop("io_latencies_ns")), 50) / 1e3
        if "messages" in result and result.get("seconds"):
            result["rate"] = result["messages"] / result["seconds"]
            result["cpu_us_per_msg"] = result["cpu_seconds"] / max(result["messages"], 1) * 1e6
        return result

    def feed_url(self, path: str) -> str:
        scheme = {"/ws": "ws"}.get(path, "https")
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def feed_ca(self) -> str:
        return str(self.out / "feed-tls" / "cert.pem")

    def run_feed(self, row: Row) -> dict:
        """Starts the demo feed with row.size events (over TLS for https rows), runs the client, stops it."""
        tls = row.group == "https-poll"
        command = [sys.executable, str(ROOT / "examples" / "feed" / "feed.py"), "--count", str(row.size),
                   "--interval-ms", "0", "--start-ms", "0"]
        if tls:
            (self.out / "feed-tls").mkdir(exist_ok=True)
            command += ["--tls", str(self.out / "feed-tls")]
        feed = subprocess.Popen(self.pinned(0, command), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            line = feed.stdout.readline()
            if not line.startswith("PORT "):
                raise RuntimeError(f"the feed did not start: {line!r}")
            self.port = int(line.split()[1])
            return self.run_client(row)
        finally:
            feed.stdin.close()
            feed.terminate()
            try:
                feed.wait(timeout=10)
            except subprocess.TimeoutExpired:
                feed.kill()
                feed.wait()

    def run_webhook(self, row: Row) -> dict:
        """Starts a receiver on CPU 1, drives it with wrk (32 connections) on CPU 0."""
        proc = subprocess.Popen(
            self.pinned(1, row.command()), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            line = proc.stdout.readline()
            if not line.startswith("url "):
                raise RuntimeError(
                    f"receiver did not start: {line!r} {proc.stderr.read()[-400:] if proc.poll() is not None else ''}"
                )
            target = line.split()[1]
            script = self.build / "webhook.lua"
            script.write_text(wrk_script(WEBHOOK_SECRET, 64))
            # A warm-up second first, unmeasured: a server is measured warm (Node's JIT, Python's caches).
            subprocess.run(
                self.pinned(0, ["wrk", "-t1", "-c32", "-d1s", "-s", str(script), target]),
                capture_output=True,
                timeout=60,
                check=False,
            )
            cpu0 = proc_cpu_seconds(proc.pid)
            wrk = subprocess.run(
                self.pinned(
                    0, ["wrk", "-t1", "-c32", f"-d{self.s.wrk_seconds}s", "--latency", "-s", str(script), target]
                ),
                capture_output=True,
                text=True,
                timeout=self.s.wrk_seconds + 60,
                check=False,
            )
            cpu = proc_cpu_seconds(proc.pid) - cpu0
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if wrk.returncode != 0:
            raise RuntimeError(f"wrk: {wrk.stderr.strip()[-400:]}")
        return parse_wrk(wrk.stdout, cpu)

    def run(self) -> None:
        self.plan()
        if self.only:
            self.rows = [r for r in self.rows if r.group in self.only]
        self.start_servers()
        try:
            for row in self.rows:
                runs = self.s.idle_runs if row.kind == "idle" else self.s.runs
                self.port = self.ports[self.server_cpu(row)]
                for _ in range(runs):
                    load = os.getloadavg()[0]
                    try:
                        if row.kind == "webhook":
                            result = self.run_webhook(row)
                        elif row.kind == "feed":
                            result = self.run_feed(row)
                        else:
                            result = self.run_client(row)
                    except (RuntimeError, subprocess.TimeoutExpired, ValueError, KeyError) as e:
                        row.error = str(e)
                        print(f"  {row.group:9} {row.client}: FAILED: {e}", file=sys.stderr)
                        break
                    result["load"] = round(load, 2)
                    row.runs.append(result)
                if not row.error:
                    print(f"  {row.group:9} {row.client:40} {headline(row)}", flush=True)
        finally:
            self.stop_servers()

    # --- output -----------------------------------------------------------------------------------

    def write(self, command: str) -> None:
        goals = evaluate_goals(self.rows)
        doc = {
            "command": command,
            "mode": "smoke" if self.s.smoke else "full",
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": machine(),
            "versions": versions(self.python, self.node_dir),
            "settings": self.s.__dict__,
            "pinned": self.pin,
            "rows": [
                {
                    "group": r.group,
                    "client": r.client,
                    "kind": r.kind,
                    "size": r.size,
                    "summary": summary(r),
                    "runs": r.runs,
                    "error": r.error,
                }
                for r in self.rows
            ],
            "goals": goals,
        }
        (self.out / "results.json").write_text(json.dumps(doc, indent=1) + "\n")
        (self.out / "results.md").write_text(markdown(doc, self.rows))


# --- helpers -----------------------------------------------------------------------------------------


def pct(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def proc_cpu_seconds(pid: int) -> float:
    """CPU time (user + system, every thread) of a running process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def wrk_script(secret: str, count: int) -> str:
    """A wrk script cycling through `count` distinct deliveries, signed now (the receivers accept
    a timestamp within 5 minutes; a run is shorter)."""
    now = int(time.time())
    entries = []
    for i in range(count):
        msg_id = f"msg_bench{i:06d}"
        body = json.dumps(
            {
                "type": "invoice.paid",
                "timestamp": datetime.now(timezone.utc).isoformat(),
                "data": {"id": f"in_{i:08d}", "amount": 4200 + i, "currency": "eur", "customer": "cus_0123456789"},
            }
        )
        headers = {
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(now),
            "webhook-signature": sign(secret, msg_id, now, body),
        }
        lua_headers = ", ".join(f'["{k}"] = "{v}"' for k, v in headers.items())
        entries.append(f"  {{ headers = {{ {lua_headers} }}, body = [==[{body}]==] }},")
    return (
        "local deliveries = {\n" + "\n".join(entries) + "\n}\n"
        "local requests = {}\n"
        "init = function(args)\n"
        "  for i, d in ipairs(deliveries) do requests[i] = wrk.format('POST', nil, d.headers, d.body) end\n"
        "end\n"
        "local n = 0\n"
        "request = function()\n  n = n % #requests + 1\n  return requests[n]\nend\n"
    )


def parse_wrk(out: str, cpu_seconds: float) -> dict:
    def seconds(value: str) -> float:
        number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
        return float(number) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    p50 = seconds(re.search(r"\n\s+50%\s+(\S+)", out).group(1))
    p99 = seconds(re.search(r"\n\s+99%\s+(\S+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    if bad or errors:
        raise RuntimeError(f"wrk saw failures: {(bad or errors).group(0)}")
    return {
        "messages": total,
        "rate": rate,
        "p50_us": p50 * 1e6,
        "p99_us": p99 * 1e6,
        "cpu_seconds": cpu_seconds,
        "cpu_us_per_msg": cpu_seconds / max(total, 1) * 1e6,
    }


def stat(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)} if values else {}


def summary(row: Row) -> dict:
    keys = {
        "throughput": ("rate", "cpu_us_per_msg"),
        "poll": ("rate", "cpu_us_per_msg", "connections"),
        "webhook": ("rate", "p99_us", "cpu_us_per_msg"),
        "latency": ("p50_us", "p99_us", "io_p50_us"),
        "idle": ("kib_per_stream", "open_seconds", "streams"),
        "feed": ("polls", "connections", "tls_handshakes", "messages", "wire_per_payload"),
    }[row.kind]
    return {k: stat([r[k] for r in row.runs if k in r]) for k in keys}


def headline(row: Row) -> str:
    s = summary(row)
    if row.kind in ("throughput", "poll", "webhook"):
        return f"{s['rate']['median']:>12,.0f}/s  cpu {s['cpu_us_per_msg']['median']:.2f} us"
    if row.kind == "latency":
        return f"p50 {s['p50_us']['median']:.1f} us  p99 {s['p99_us']['median']:.1f} us"
    if row.kind == "feed" and row.group == "https-poll":
        return f"{s['polls']['median']:,.0f} polls, {s['connections']['median']:.0f} connection(s), " \
               f"{s['tls_handshakes']['median']:.0f} TLS handshake(s)"
    if row.kind == "feed":
        return f"{s['messages']['median']:,.0f} messages, wire/payload {s['wire_per_payload']['median']:.3f}"
    opened = f", all open in {s['open_seconds']['median']:.2f} s" if s.get("open_seconds") else ""
    return f"{s['kib_per_stream']['median']:.1f} KiB per stream{opened}"


def find(rows: list[Row], group: str, client: str) -> dict:
    for r in rows:
        if r.group == group and r.client == client and r.runs:
            return summary(r)
    return {}


def median(s: dict, key: str) -> float | None:
    return s.get(key, {}).get("median")


def evaluate_goals(rows: list[Row]) -> list[dict]:
    """The targets these benchmarks are held to, each with the measured figure and whether it was met."""
    goals = []

    def goal(name: str, measured: float | None, target: float, unit: str, higher_is_better: bool = True) -> None:
        if measured is None:
            goals.append({"goal": name, "measured": None, "target": target, "unit": unit, "met": None})
            return
        met = measured >= target if higher_is_better else measured <= target
        goals.append({"goal": name, "measured": measured, "target": target, "unit": unit, "met": met})

    def rate(group: str, client: str) -> float | None:
        return median(find(rows, group, client), "rate")

    def ratio(a: float | None, b: float | None) -> float | None:
        return a / b if a is not None and b else None

    def fastest(group: str, peers: tuple[str, ...]) -> float | None:
        return max((rate(group, p) or 0 for p in peers), default=0) or None

    sizes = ((64, "64 B"), (1024, "1 KiB"), (16384, "16 KiB"))
    for size, label in sizes:
        goal(
            f"WS receive C / Node ws, {label}",
            ratio(rate(f"ws-{size}", "tidewire C"), rate(f"ws-{size}", "Node ws")),
            1.2 if size == 16384 else 1.5,
            "x",
        )
    goal(
        "WS receive C / raw reader, 16 KiB",
        ratio(rate("ws-16384", "tidewire C"), rate("ws-16384", "raw socket reader")),
        0.5,
        "x",
    )
    for size, label in sizes:
        group = f"ws-{size}"
        for mode in ("sync", "async"):
            goal(
                f"tidewire.Stream ({mode}) / fastest Python peer, WS {label}",
                ratio(rate(group, f"tidewire Python ({mode})"), fastest(group, ("Python websockets", "Python aiohttp"))),
                2.0,
                "x",
            )
    for mode in ("sync", "async"):
        goal(
            f"tidewire.Stream ({mode}) / fastest Python peer, SSE 64 B",
            ratio(
                rate("sse-64", f"tidewire Python ({mode})"),
                fastest("sse-64", ("Python aiohttp (line iteration)", "Python httpx-sse")),
            ),
            3.0,
            "x",
        )
    poll = find(rows, "poll-304", "tidewire C (poll, interval 0)")
    goal(
        "poll 304 path / aiohttp keep-alive",
        ratio(median(poll, "rate"), rate("poll-304", "Python aiohttp (keep-alive)")),
        3.0,
        "x",
    )
    goal("poll 304 path: connections for the run", median(poll, "connections"), 1, "", higher_is_better=False)
    goal(
        "https poll: TLS handshakes per 1,000 polls",
        median(find(rows, "https-poll", "tidewire C (1,000 polls)"), "tls_handshakes"),
        1,
        "",
        higher_is_better=False,
    )
    tw_lat = median(find(rows, "latency", "tidewire C (ws)"), "p50_us")
    raw_lat = median(find(rows, "latency", "raw socket reader (ws)"), "p50_us")
    goal(
        "push latency p50, C (ws) minus the raw reader, us",
        tw_lat - raw_lat if tw_lat is not None and raw_lat is not None else None,
        8.0,
        "us",
        higher_is_better=False,
    )
    idle = find(rows, "idle", "tidewire C (ws streams, one runtime)")
    streams = median(idle, "streams")
    label = f"{streams:,.0f}" if streams else "N"
    goal(f"open {label} WS streams, s", median(idle, "open_seconds"), 5.0, "s", higher_is_better=False)
    goal("idle WS stream, KiB RSS each", median(idle, "kib_per_stream"), 8.0, "KiB", higher_is_better=False)
    goal(
        "JSON feed over WS with compression: wire bytes / payload bytes",
        median(find(rows, "ws-compression", "tidewire C, ws.compression=on"), "wire_per_payload"),
        0.3,
        "x",
        higher_is_better=False,
    )
    for size, label in sizes:
        goal(
            f"Node binding / Node ws, WS {label}",
            ratio(rate(f"ws-{size}", "tidewire Node"), rate(f"ws-{size}", "Node ws")),
            1.5,
            "x",
        )
    for size, label in sizes:
        goal(
            f"Java binding / JDK HttpClient WebSocket, WS {label}",
            ratio(rate(f"ws-{size}", "tidewire Java"), rate(f"ws-{size}", "JDK HttpClient WebSocket")),
            1.5,
            "x",
        )
    hook = find(rows, "webhook", "tidewire C receiver")
    goal(
        "webhook req/s: tidewire / Node",
        ratio(median(hook, "rate"), rate("webhook", "Node http + standardwebhooks")),
        3.0,
        "x",
    )
    return goals


def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, AttributeError):
        pass
    os_name = ""
    try:
        os_name = re.search(r'PRETTY_NAME="([^"]+)"', Path("/etc/os-release").read_text()).group(1)
    except (OSError, AttributeError):
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory": mem,
        "os": os_name,
        "kernel": platform.release(),
        "load_at_end": [round(x, 2) for x in os.getloadavg()],
    }


def versions(python: str, node_dir: Path) -> dict:
    probe = (
        "import importlib.metadata as m, json, platform\n"
        "v = {'python': platform.python_version()}\n"
        "for d in ('tidewire', 'websockets', 'aiohttp', 'httpx', 'httpx-sse', 'uvloop', 'standardwebhooks'):\n"
        "    try: v[d] = m.version(d)\n"
        "    except m.PackageNotFoundError: v[d] = None\n"
        "print(json.dumps(v))\n"
    )
    v = json.loads(subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True).stdout)
    v["node"] = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    java = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False).stderr.splitlines()
    v["java"] = java[0] if java else None
    for pkg in ("ws", "eventsource", "standardwebhooks", "bufferutil", "utf-8-validate"):
        manifest = node_dir / "node_modules" / pkg / "package.json"
        v[f"npm {pkg}"] = json.loads(manifest.read_text())["version"] if manifest.exists() else None
    dpkg = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package} ${Version}\n", "libuv1", "libssl3", "wrk"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    for line in dpkg.splitlines():
        name, _, version = line.partition(" ")
        v[name] = version
    return v


GROUP_TITLES = {
    "ws-64": "WebSocket push receive, 64 B messages",
    "ws-1024": "WebSocket push receive, 1 KiB messages",
    "ws-16384": "WebSocket push receive, 16 KiB messages",
    "sse-64": "SSE receive, 64 B events",
    "latency": "Push latency, server write → application (one 64 B message per ms)",
    "poll-304": "Polling, the 304 path (the server answers Not Modified to every request)",
    "webhook": "Webhook receiver, Standard Webhooks verified, wrk with 32 connections",
    "idle": "Idle memory, open WebSocket clients in one process",
    "https-poll": "Polling over https: connections and TLS handshakes (the demo feed over TLS)",
    "ws-compression": "The demo feed's JSON events over WebSocket: bytes on the wire per payload byte",
}


def fmt_range(s: dict, scale: float = 1.0, digits: int = 0) -> tuple[str, str]:
    if not s:
        return "—", ""
    f = f"{{:,.{digits}f}}"
    return f.format(s["median"] * scale), f"{f.format(s['min'] * scale)} – {f.format(s['max'] * scale)}"


def markdown(doc: dict, rows: list[Row]) -> str:
    m = doc["machine"]
    out = [
        (
            f"Command: `{doc['command']}` ({doc['mode']} run, {doc['settings']['runs']} runs per figure: "
            "median, then min – max). "
        ),
        (
            f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, {m['os']} (kernel {m['kernel']}); "
            "throughput: load generator on CPU 0, client on CPU 1; latency and polling: server and client on "
            f"CPU 1{'' if doc['pinned'] else ' (not pinned: one CPU)'}; "
            f"{doc['finished']}."
        ),
        "",
    ]
    for group, title in GROUP_TITLES.items():
        group_rows = [r for r in rows if r.group == group]
        if not group_rows:
            continue
        out += [f"**{title}**", ""]
        if group == "latency":
            out += [
                "| client | p50 µs | p50 min – max | p99 µs | p50 until Tidewire's I/O thread had it, µs |",
                "|---|---:|---:|---:|---:|",
            ]
        elif group == "idle":
            out += ["| client | KiB RSS per stream | min – max | seconds to open them all |", "|---|---:|---:|---:|"]
        elif group == "https-poll":
            out += ["| client | polls | connections | TLS handshakes |", "|---|---:|---:|---:|"]
        elif group == "ws-compression":
            out += ["| client | messages | wire bytes / payload bytes |", "|---|---:|---:|"]
        elif group == "webhook":
            out += [
                "| receiver | requests/s | min – max | p99 ms | receiver CPU µs/request |",
                "|---|---:|---:|---:|---:|",
            ]
        else:
            unit = "requests/s" if group == "poll-304" else "messages/s"
            per = "request" if group == "poll-304" else "message"
            out += [f"| client | {unit} | min – max | CPU µs/{per} |", "|---|---:|---:|---:|"]
        for r in group_rows:
            if r.error:
                out.append(f"| {r.client} | failed: {r.error.splitlines()[0][:80]} | | |")
                continue
            s = summary(r)
            if group == "latency":
                med, rng = fmt_range(s["p50_us"], digits=1)
                io = f"{s['io_p50_us']['median']:.1f}" if s.get("io_p50_us") else ""
                out.append(f"| {r.client} | {med} | {rng} | {s['p99_us']['median']:.1f} | {io} |")
            elif group == "idle":
                med, rng = fmt_range(s["kib_per_stream"], digits=1)
                opened = f"{s['open_seconds']['median']:.2f}" if s.get("open_seconds") else ""
                out.append(f"| {r.client} | {med} | {rng} | {opened} |")
            elif group == "https-poll":
                out.append(
                    f"| {r.client} | {s['polls']['median']:,.0f} | {s['connections']['median']:.0f} | "
                    f"{s['tls_handshakes']['median']:.0f} |"
                )
            elif group == "ws-compression":
                out.append(f"| {r.client} | {s['messages']['median']:,.0f} | {s['wire_per_payload']['median']:.3f} |")
            elif group == "webhook":
                med, rng = fmt_range(s["rate"])
                out.append(
                    f"| {r.client} | {med} | {rng} | {s['p99_us']['median'] / 1e3:.2f} | "
                    f"{s['cpu_us_per_msg']['median']:.1f} |"
                )
            else:
                med, rng = fmt_range(s["rate"])
                out.append(f"| {r.client} | {med} | {rng} | {s['cpu_us_per_msg']['median']:.2f} |")
        out.append("")
    out += ["**Goals** (the targets these figures are held to)", "",
            "| goal | measured | target | met |", "|---|---:|---:|:---:|"]
    for g in doc["goals"]:
        measured = "—" if g["measured"] is None else f"{g['measured']:,.2f}"
        met = "—" if g["met"] is None else ("yes" if g["met"] else "**no**")
        out.append(f"| {g['goal']} | {measured} | {g['target']:,.2f} | {met} |")
    loads = [run["load"] for r in rows for run in r.runs if "load" in run]
    if loads:
        out += [
            "",
            (
                f"1-minute load average during the runs: median {statistics.median(loads):.2f}, "
                f"max {max(loads):.2f} (per run in results.json)."
            ),
        ]
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", required=True)
    parser.add_argument("--python", required=True)
    parser.add_argument("--node-dir", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated groups, e.g. latency,webhook (for a quick look)")
    parser.add_argument("--command", default="./scripts/bench.sh")
    args = parser.parse_args()
    bench = Bench(args)
    bench.run()
    bench.write(args.command)
    failed = [f"{r.group}/{r.client}" for r in bench.rows if r.error]
    print(f"bench: wrote {bench.out / 'results.json'} and {bench.out / 'results.md'}")
    if failed:
        print(f"bench: {len(failed)} failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
