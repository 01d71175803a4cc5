#!/usr/bin/env python3
"""A webhook receiver that only forwards: each verified delivery is marked seen in Redis (shared with
every other receiver) and appended to a Redis Stream before it is answered 2xx.

    python3 receiver.py REDIS_URL SECRET [PORT]

Prints "PORT <n>" once it listens (PORT 0, the default, picks a free one); SIGTERM or Ctrl-C stops it.
"""

import signal
import sys

import tidewire


def main() -> None:
    redis_url, secret = sys.argv[1], sys.argv[2]
    port = sys.argv[3] if len(sys.argv) > 3 else "0"
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    with tidewire.Stream(
        f"http://127.0.0.1:{port}/hooks",
        "webhook",
        webhook_secret=secret,
        webhook_dedup_store=redis_url,
        webhook_handoff=redis_url + "?stream=deliveries",
        webhook_local_queue=False,
        webhook_retry_after_s=1,
        redis_timeout_ms=1000,
        reconnect_initial_ms=100,
        reconnect_max_ms=1000,
    ) as stream:
        print("PORT", stream.url.split(":")[2].split("/")[0], flush=True)
        signal.sigwait({signal.SIGTERM, signal.SIGINT})


if __name__ == "__main__":
    main()
