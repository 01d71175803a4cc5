"""The Python side of the benchmarks: tidewire.Stream and the libraries a Python user would pick
instead, each used as its documentation shows. asyncio code runs on uvloop, as a user after speed
would run it.

    python peers.py CLIENT MODE ARGS...

    MODE ws|sse PORT SIZE SECONDS           throughput of /push/SIZE
    MODE ws-latency|sse-latency PORT US SAMPLES   send-to-application latency of /pace/US
    MODE poll PORT SECONDS                  GET /poll with If-None-Match in a loop (304s)
    MODE idle PORT CLIENTS                  RSS per open WebSocket client
    MODE webhook SECRET                     a Standard Webhooks receiver; prints "url URL"

CLIENT: tidewire-sync, tidewire-async, websockets, aiohttp, httpx (poll: sync client; sse:
httpx-sse). Results are one JSON line on stdout, as the C clients print them.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time


def cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)  # every thread, the I/O thread included
    return ru.ru_utime + ru.ru_stime


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def emit(result: dict) -> None:
    print(json.dumps(result), flush=True)


class Window:
    """Counts messages after the first one until `seconds` have passed."""

    def __init__(self, size: int, seconds: float) -> None:
        self.size, self.seconds = size, seconds
        self.messages = -1
        self.t0 = self.cpu0 = self.deadline = 0.0

    def add(self, length: int) -> bool:
        """Counts one message; True once the window is over."""
        if length != self.size:
            raise SystemExit(f"got {length} bytes, expected {self.size}")
        self.messages += 1
        if self.messages == 0:
            self.t0, self.cpu0 = time.monotonic(), cpu_seconds()
            self.deadline = self.t0 + self.seconds
            return False
        if (self.messages & 255) or time.monotonic() < self.deadline:
            return False
        # Taken now, so that closing the connection afterwards is not counted.
        seconds, cpu = time.monotonic() - self.t0, cpu_seconds() - self.cpu0
        self.final = {
            "messages": self.messages,
            "bytes": self.messages * self.size,
            "seconds": seconds,
            "cpu_seconds": cpu,
        }
        return True

    def result(self) -> dict:
        return self.final


class Latencies:
    def __init__(self, samples: int) -> None:
        self.samples, self.skip, self.ns = samples, 50, []

    def add(self, payload: bytes | str) -> bool:
        now = time.monotonic_ns()  # CLOCK_MONOTONIC, as the server's timestamps
        sent = int(payload[:20])
        if self.skip > 0:
            self.skip -= 1
            return False
        self.ns.append(now - sent)
        return len(self.ns) >= self.samples


def url(port: int, path: str, ws: bool) -> str:
    return f"{'ws' if ws else 'http'}://127.0.0.1:{port}{path}"


# --- tidewire --------------------------------------------------------------------------------------


def tidewire_stream(port: int, path: str, transport: str, **config):
    import tidewire

    # A benchmark whose server is gone fails at once rather than reconnecting until its timeout.
    config.setdefault("reconnect_first_connect", False)
    return tidewire.Stream(url(port, path, transport == "ws"), transport, **config)


def tidewire_sync(mode: str, args: list[str]) -> None:
    if mode in ("ws", "sse"):
        port, size, seconds = int(args[0]), int(args[1]), float(args[2])
        window = Window(size, seconds)
        with tidewire_stream(port, f"/push/{size}", mode) as stream:
            for event in stream:
                if window.add(len(event.data)):
                    break
        emit(window.result())
    elif mode in ("ws-latency", "sse-latency"):
        port, us, samples = int(args[0]), int(args[1]), int(args[2])
        lat = Latencies(samples)
        with tidewire_stream(port, f"/pace/{us}", mode.split("-")[0]) as stream:
            for event in stream:
                if lat.add(event.data):
                    break
        emit({"latencies_ns": lat.ns})
    else:
        raise SystemExit(f"tidewire-sync: no mode {mode}")


async def tidewire_async(mode: str, args: list[str]) -> None:
    if mode in ("ws", "sse"):
        port, size, seconds = int(args[0]), int(args[1]), float(args[2])
        window = Window(size, seconds)
        with tidewire_stream(port, f"/push/{size}", mode) as stream:
            async for event in stream:
                if window.add(len(event.data)):
                    break
        emit(window.result())
    elif mode in ("ws-latency", "sse-latency"):
        port, us, samples = int(args[0]), int(args[1]), int(args[2])
        lat = Latencies(samples)
        with tidewire_stream(port, f"/pace/{us}", mode.split("-")[0]) as stream:
            async for event in stream:
                if lat.add(event.data):
                    break
        emit({"latencies_ns": lat.ns})
    else:
        raise SystemExit(f"tidewire-async: no mode {mode}")


# --- websockets ------------------------------------------------------------------------------------


async def websockets_client(mode: str, args: list[str]) -> None:
    from websockets.asyncio.client import connect

    port = int(args[0])
    if mode == "ws":
        size, seconds = int(args[1]), float(args[2])
        window = Window(size, seconds)
        async with connect(url(port, f"/push/{size}", True), max_size=None) as ws:
            async for message in ws:
                if window.add(len(message)):
                    break
        emit(window.result())
    elif mode == "ws-latency":
        us, samples = int(args[1]), int(args[2])
        lat = Latencies(samples)
        async with connect(url(port, f"/pace/{us}", True)) as ws:
            async for message in ws:
                if lat.add(message):
                    break
        emit({"latencies_ns": lat.ns})
    elif mode == "idle":
        clients = int(args[1])
        first = await connect(url(port, "/idle", True))
        base = rss_kib()
        held = [first]
        for i in range(0, clients, 500):
            held += await asyncio.gather(*(connect(url(port, "/idle", True)) for _ in range(min(500, clients - i))))
        await asyncio.sleep(0.2)
        rss = rss_kib()
        emit({"streams": clients, "rss_base_kib": base, "rss_kib": rss, "kib_per_stream": (rss - base) / clients})
        for ws in held:
            ws.transport.abort()
    else:
        raise SystemExit(f"websockets: no mode {mode}")


# --- aiohttp ---------------------------------------------------------------------------------------


async def aiohttp_client(mode: str, args: list[str]) -> None:
    import aiohttp

    if mode == "webhook":
        return await aiohttp_webhook(args[0])
    port = int(args[0])
    async with aiohttp.ClientSession() as session:
        if mode == "ws":
            size, seconds = int(args[1]), float(args[2])
            window = Window(size, seconds)
            async with session.ws_connect(url(port, f"/push/{size}", True), max_msg_size=0) as ws:
                async for message in ws:
                    if window.add(len(message.data)):
                        break
            emit(window.result())
        elif mode == "sse":
            # Line iteration, the usual hand-written SSE reader: a blank line ends an event.
            size, seconds = int(args[1]), float(args[2])
            window = Window(size, seconds)
            async with session.get(url(port, f"/push/{size}", False)) as resp:
                data = []
                async for line in resp.content:
                    if line.startswith(b"data:"):
                        data.append(line[6:-1] if line[5:6] == b" " else line[5:-1])
                    elif line == b"\n" and data:
                        if window.add(len(b"\n".join(data))):
                            break
                        data = []
            emit(window.result())
        elif mode == "poll":
            seconds = float(args[1])
            target = url(port, "/poll", False)
            async with session.get(target) as resp:
                etag = resp.headers["ETag"]
                await resp.read()
            count, t0, cpu0 = 0, time.monotonic(), cpu_seconds()
            while time.monotonic() - t0 < seconds:
                async with session.get(target, headers={"If-None-Match": etag}) as resp:
                    await resp.read()
                    if resp.status != 304:
                        raise SystemExit(f"aiohttp: expected 304, got {resp.status}")
                count += 1
            emit({"messages": count, "seconds": time.monotonic() - t0, "cpu_seconds": cpu_seconds() - cpu0})
        else:
            raise SystemExit(f"aiohttp: no mode {mode}")


async def aiohttp_webhook(secret: str) -> None:
    from aiohttp import web
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    wh = Webhook(secret)

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            wh.verify(body, request.headers)
        except WebhookVerificationError:
            return web.Response(status=401)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hooks", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    print(f"url http://127.0.0.1:{port}/hooks", flush=True)
    await asyncio.Event().wait()


# --- httpx -----------------------------------------------------------------------------------------


def httpx_client(mode: str, args: list[str]) -> None:
    import httpx

    port = int(args[0])
    with httpx.Client() as client:
        if mode == "sse":
            from httpx_sse import connect_sse

            size, seconds = int(args[1]), float(args[2])
            window = Window(size, seconds)
            with connect_sse(client, "GET", url(port, f"/push/{size}", False)) as source:
                for sse in source.iter_sse():
                    if window.add(len(sse.data)):
                        break
            emit(window.result())
        elif mode == "poll":
            seconds = float(args[1])
            target = url(port, "/poll", False)
            etag = client.get(target).headers["ETag"]
            count, t0, cpu0 = 0, time.monotonic(), cpu_seconds()
            while time.monotonic() - t0 < seconds:
                resp = client.get(target, headers={"If-None-Match": etag})
                if resp.status_code != 304:
                    raise SystemExit(f"httpx: expected 304, got {resp.status_code}")
                count += 1
            emit({"messages": count, "seconds": time.monotonic() - t0, "cpu_seconds": cpu_seconds() - cpu0})
        else:
            raise SystemExit(f"httpx: no mode {mode}")


def run_async(coro) -> None:
    import uvloop

    uvloop.run(coro)


def main() -> None:
    client, mode, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if client == "tidewire-sync":
        tidewire_sync(mode, args)
    elif client == "tidewire-async":
        run_async(tidewire_async(mode, args))
    elif client == "websockets":
        run_async(websockets_client(mode, args))
    elif client == "aiohttp":
        run_async(aiohttp_client(mode, args))
    elif client == "httpx":
        httpx_client(mode, args)
    else:
        raise SystemExit(f"no client {client}")


if __name__ == "__main__":
    main()
