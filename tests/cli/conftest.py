"""Fixtures of the tidewire command's tests: the built program and real peers on 127.0.0.1."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from peers import Peers  # noqa: E402


def pytest_addoption(parser):
    parser.addoption("--tidewire", help="the tidewire program to test (ctest passes the built one)")


@pytest.fixture(scope="session")
def tidewire(request) -> str:
    path = request.config.getoption("--tidewire") or os.environ.get("TIDEWIRE_CLI")
    if not path or not os.access(path, os.X_OK):
        pytest.fail("no tidewire program: pass --tidewire=PATH (ctest does) or set TIDEWIRE_CLI")
    return path


@pytest.fixture(scope="session")
def peers():
    servers = Peers()
    yield servers
    servers.stop()
