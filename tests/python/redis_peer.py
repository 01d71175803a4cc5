"""A real redis-server (Debian's) for the Python tests: on a free loopback port, data in a temporary
directory, stopped with the test; inspected with redis-cli, independent of the code under test."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from typing import List


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="tidewire-redis-")
        # A port found free may be taken before redis-server binds it: try again on another.
        for _ in range(5):
            self.port = free_port()
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                 "--save", "", "--appendonly", "no", "--loglevel", "warning"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    if self.cli("PING") == "PONG":
                        return
                except subprocess.CalledProcessError:
                    pass
                time.sleep(0.02)
            self.process.kill()
            self.process.wait()
        raise RuntimeError("redis-server did not start")

    def url(self, query: str = "") -> str:
        return f"redis://127.0.0.1:{self.port}/0{query}"

    def cli(self, *args: str) -> str:
        out = subprocess.run(["redis-cli", "-p", str(self.port), "--no-raw", *args], check=True,
                             capture_output=True, text=True, timeout=10).stdout
        return out.strip().removeprefix("(integer) ").strip('"')

    def xadd(self, stream: str, fields: List[str]) -> str:
        return self.cli("XADD", stream, "*", *fields)

    def pending(self, stream: str, group: str) -> int:
        out = subprocess.run(["redis-cli", "-p", str(self.port), "--raw", "XPENDING", stream, group],
                             check=True, capture_output=True, text=True, timeout=10).stdout
        return int(out.split("\n")[0])

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
