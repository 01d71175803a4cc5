#!/usr/bin/env python3
"""Streams a chat completion from an OpenAI-compatible API and prints the tokens as they arrive.

    python3 examples/python/llm_stream.py [PROMPT] [--error-after N]
    python3 examples/python/llm_stream.py [PROMPT] --base-url https://api.openai.com/v1 --model gpt-4o-mini

Without --base-url it starts a local stand-in (examples/llm/fake_openai.py) and talks to it;
--error-after N has that server fail after N tokens with an ``event: error``, shown as an error
line (exit status 1). With --base-url the key comes from $OPENAI_API_KEY.

The request is a POST with a JSON body: a stream that may not be sent twice. If the connection is
cut, the stream ends with an error instead of posting the prompt again; ``data: [DONE]`` ends it
cleanly (sse_end_data) and is never delivered.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import tidewire

FAKE_SERVER = Path(__file__).resolve().parent.parent / "llm" / "fake_openai.py"


def complete(base_url, api_key, model, prompt):
    """Prints the reply token by token; returns the exit status."""
    body = json.dumps({"model": model, "stream": True, "messages": [{"role": "user", "content": prompt}]})
    with tidewire.Stream(
        f"{base_url}/chat/completions",
        "sse",
        http_method="POST",
        http_body=body,
        headers={"Authorization": f"Bearer {api_key}"},
        sse_end_data="[DONE]",
        read_timeout_ms=30000,  # a model silent this long has stalled: end (a POST is not re-sent)
    ) as stream:
        for event in stream:
            if event.type == "error":
                error = event.json().get("error", {})
                print(f"\nerror: {error.get('message', event.text)}", file=sys.stderr)
                return 1
            for choice in event.json()["choices"]:
                # The first chunk carries only the role, the last only finish_reason.
                print(choice["delta"].get("content") or "", end="", flush=True)
    print()
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("prompt", nargs="?", default="Stream me a reply")
    parser.add_argument("--base-url", help="an OpenAI-compatible API (default: start the local stand-in)")
    parser.add_argument("--model", default="gpt-4o-mini")
    parser.add_argument("--error-after", type=int, metavar="N", help="the stand-in fails after N tokens")
    args = parser.parse_args()
    try:
        if args.base_url:
            api_key = os.environ.get("OPENAI_API_KEY", "")
            return complete(args.base_url.rstrip("/"), api_key, args.model, args.prompt)
        command = [sys.executable, str(FAKE_SERVER)]
        if args.error_after is not None:
            command += ["--error-after", str(args.error_after)]
        # The server exits when its stdin closes, so it never outlives this script.
        with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as server:
            try:
                line = server.stdout.readline()
                if not line.startswith("PORT "):
                    print(f"{FAKE_SERVER.name} did not start", file=sys.stderr)
                    return 1
                return complete(f"http://127.0.0.1:{line.split()[1]}/v1", "sk-local", args.model, args.prompt)
            finally:
                server.stdin.close()
    except tidewire.StreamError as error:  # .status: e.g. 401 for a wrong key
        print(f"\nthe stream failed: {error}", file=sys.stderr)
        return 1


sys.exit(main())
