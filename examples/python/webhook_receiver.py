#!/usr/bin/env python3
"""Receives Standard Webhooks deliveries: the signature over the raw body is checked before
anything parses it; forged or stale deliveries are refused (401) and never become events.

    TIDEWIRE_FEED_WEBHOOK_SECRET=whsec_... python examples/python/webhook_receiver.py [PORT]

Prints the URL it listens on. To have the demo feed deliver to it, in another terminal:

    TIDEWIRE_FEED_WEBHOOK_SECRET=<the same secret> python examples/feed/feed.py --webhook-url <that URL>

Without the variable, a secret is made up and printed.
"""

import base64
import os
import secrets
import sys

import tidewire

secret = os.environ.get("TIDEWIRE_FEED_WEBHOOK_SECRET")
if not secret:
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    print(f"secret: {secret}")
port = sys.argv[1] if len(sys.argv) > 1 else "0"

with tidewire.Stream(f"http://127.0.0.1:{port}/webhook", "webhook", webhook_secret=secret) as stream:
    print(f"listening on {stream.url}", flush=True)
    try:
        for event in stream:
            print(f"{event.id} ({event.type}): {event.json()}", flush=True)
    except KeyboardInterrupt:
        pass
    stats = stream.stats()
    print(f"{stats['messages']} deliveries accepted, {stats['errors']} refused")
