"""Fixtures of the Python tests: real peers on 127.0.0.1 (see peers.py) and a webhook sender."""

from __future__ import annotations

import base64
import datetime
import json
import os
import sys
import urllib.error
import urllib.request
from typing import Optional, Tuple

import pytest
from standardwebhooks.webhooks import Webhook

sys.path.insert(0, os.path.dirname(__file__))
from peers import Peers  # noqa: E402

SECRET = "whsec_" + base64.b64encode(b"tidewire python tests secret!!!!").decode()
WRONG_SECRET = "whsec_" + base64.b64encode(b"a secret the receiver never saw").decode()


@pytest.fixture(scope="session")
def peers():
    servers = Peers()
    yield servers
    servers.stop()


def deliver(url: str, msg_id: str, payload: dict, secret: str = SECRET) -> Tuple[int, str]:
    """POSTs `payload` to `url` signed by standardwebhooks with `secret`; returns (status, body)."""
    body = json.dumps(payload)
    now = datetime.datetime.now(tz=datetime.timezone.utc)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, now, body),
        "content-type": "application/json",
    }
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def child_env(extra: Optional[dict] = None) -> dict:
    """The environment for a child python running a test script."""
    env = dict(os.environ)
    env.update(extra or {})
    return env
