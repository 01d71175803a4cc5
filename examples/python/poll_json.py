#!/usr/bin/env python3
"""Polls a JSON endpoint with conditional requests: only a change is an event (a 304 is not).

    python examples/python/poll_json.py http://127.0.0.1:PORT/poll [INTERVAL_MS]

Against the demo feed (python examples/feed/feed.py prints its PORT): the latest tick, every poll.
"""

import sys

import tidewire

url = sys.argv[1]
interval_ms = int(sys.argv[2]) if len(sys.argv) > 2 else 1000

with tidewire.Stream(url, "poll", poll_interval_ms=interval_ms) as stream:
    try:
        for event in stream:
            print(f"ETag {event.id}: {event.json()}")
    except KeyboardInterrupt:
        pass
    stats = stream.stats()
    print(f"{stats['requests']} requests, {stats['not_modified']} answered 304 Not Modified")
