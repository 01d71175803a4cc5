#!/usr/bin/env python3
"""A WebSocket chat client: lines typed are sent, messages received are printed.

    python examples/python/ws_chat.py ws://127.0.0.1:PORT/chat

Against the demo feed's chat room (python examples/feed/feed.py prints its PORT); run two of them.
The stream reconnects by itself if the connection drops. send() may be called from any thread:
here a thread reads the keyboard while the main thread prints what arrives.
"""

import sys
import threading

import tidewire


def type_lines(stream):
    for line in sys.stdin:
        stream.send(line.rstrip("\n"))
    stream.close()  # end of input: leave the room


with tidewire.Stream(sys.argv[1]) as stream:  # ws:// implies transport="ws"
    threading.Thread(target=type_lines, args=(stream,), daemon=True).start()
    try:
        for event in stream:
            message = event.json()
            print(f"#{message['from']}: {message['text']}")
    except KeyboardInterrupt:
        pass
