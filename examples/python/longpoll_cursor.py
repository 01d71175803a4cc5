#!/usr/bin/env python3
"""Long-polls with a cursor: each answer's X-Cursor header is sent back as ?cursor=, so nothing is
missed and nothing is seen twice.

    python examples/python/longpoll_cursor.py http://127.0.0.1:PORT/longpoll

Against the demo feed (python examples/feed/feed.py prints its PORT).
"""

import sys

import tidewire

stream = tidewire.Stream(sys.argv[1], "longpoll", longpoll_cursor_header="X-Cursor", longpoll_cursor_param="cursor")
with stream:
    try:
        for event in stream:
            print(f"cursor {event.id}: {event.text}")
    except KeyboardInterrupt:
        pass
