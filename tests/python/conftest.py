"""Fixtures of the Python tests: real peers on 127.0.0.1 (see peers.py) and a webhook sender."""

from __future__ import annotations

import base64
import os
import sys
from typing import Optional, Tuple

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from peers import Peers, signed_delivery  # noqa: E402

SECRET = "whsec_" + base64.b64encode(b"tidewire python tests secret!!!!").decode()
WRONG_SECRET = "whsec_" + base64.b64encode(b"a secret the receiver never saw").decode()


@pytest.fixture(scope="session")
def peers():
    servers = Peers()
    yield servers
    servers.stop()


def deliver(url: str, msg_id: str, payload: dict, secret: str = SECRET) -> Tuple[int, str]:
    """POSTs `payload` to `url` signed with `secret` (the tests' own by default); (status, body)."""
    return signed_delivery(url, msg_id, payload, secret)


def child_env(extra: Optional[dict] = None) -> dict:
    """The environment for a child python running a test script."""
    env = dict(os.environ)
    env.update(extra or {})
    return env
