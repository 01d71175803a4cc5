#!/usr/bin/env python3
"""A worker in the consumer group: takes deliveries from the Redis Stream, handles each (here: writes
its delivery id to OUT), then acknowledges it.

    python3 worker.py REDIS_URL CONSUMER OUT [--stall-after N]

--stall-after N: after N deliveries, stop acknowledging, print "stalled" and the stream entry ids it
acknowledged (one line), and hang (to be killed: its unacknowledged entries are then claimed by the
other workers after redis.claim_idle_ms).
"""

import argparse
import signal
import sys
import time

import tidewire


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("redis_url")
    p.add_argument("consumer")
    p.add_argument("out")
    p.add_argument("--stall-after", type=int, default=0)
    p.add_argument("--claim-idle-ms", type=int, default=2000)
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    url = f"{args.redis_url}?stream=deliveries&group=workers&consumer={args.consumer}"
    acked = []  # stream entry ids
    with open(args.out, "a") as out, tidewire.Stream(
        url, redis_ack="manual", redis_claim_idle_ms=args.claim_idle_ms, reconnect_max_ms=1000
    ) as stream:
        for event in stream:
            if args.stall_after and len(acked) >= args.stall_after:
                print("stalled", *acked, flush=True)
                while True:
                    time.sleep(60)
            out.write(event.headers["id"] + "\n")
            out.flush()
            stream.ack(event)
            acked.append(event.id)


if __name__ == "__main__":
    main()
