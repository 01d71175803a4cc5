#!/usr/bin/env python3
"""A local stand-in for an OpenAI-compatible API, for the request-stream examples.

    python3 examples/llm/fake_openai.py [--api-key KEY] [--interval-ms MS] [--error-after N]
                                        [--events N] [--token-events N]

Listens on 127.0.0.1 with an ephemeral port and prints ``PORT <n>`` once it accepts connections.
It exits when stdin reaches EOF (so it never outlives the program that started it; give it a pipe),
on SIGINT and on SIGTERM.

  POST /v1/chat/completions  Needs ``Authorization: Bearer KEY`` (--api-key, default sk-local) and
                             a JSON body with ``"stream": true`` and ``messages``. Answers
                             text/event-stream: one ``data:`` chunk per token of a reply that quotes
                             the last message, ``{"choices": [{"delta": {"content": "..."}}]}`` as
                             OpenAI sends them, --interval-ms apart (default 30), then
                             ``data: [DONE]``. With --error-after N, after N tokens it sends
                             ``event: error`` (data ``{"error": {"message": ..., "type": ...}}``)
                             and ends the response without [DONE], as a failing model server does.
  POST /v1/tokens            Issues a bearer token: ``{"access_token": ..., "token_type": "Bearer"}``.
  GET  /v1/events            Needs a token from /v1/tokens. An SSE stream of --events events
                             (default 12), ``id: <seq>``, ``data: {"seq": <seq>}``, seq from 0,
                             resumed after Last-Event-ID. With --token-events N a token expires once
                             N events were sent under it: the response ends there, and the token is
                             answered 401 from then on. After the last event the response ends; a
                             client that already has it gets 204, which ends an SSE client cleanly.
"""

import argparse
import asyncio
import itertools
import json
import os
import re
import secrets
import signal
import socket
import threading
import time

from aiohttp import web

UNAUTHORIZED = {"error": {"message": "invalid or expired token", "type": "invalid_request_error"}}


def sse(data, event=None, id_=None):
    lines = [f"id: {id_}"] if id_ is not None else []
    if event:
        lines.append(f"event: {event}")
    lines.append(f"data: {data}")
    return ("\n".join(lines) + "\n\n").encode()


def bearer(request):
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token if scheme == "Bearer" else ""


def reply_tokens(prompt):
    # Leading spaces stay with their word, as real tokenizers split text.
    return re.findall(r"\s*\S+", f'You said: "{prompt}". This reply streams one token at a time.')


async def chat_completions(request):
    args = request.app["args"]
    if bearer(request) != args.api_key:
        return web.json_response(UNAUTHORIZED, status=401)
    try:
        body = await request.json()
        prompt = body["messages"][-1]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        return web.json_response({"error": {"message": "expected a JSON body with messages"}}, status=400)
    if body.get("stream") is not True:
        return web.json_response({"error": {"message": "this server only streams"}}, status=400)

    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    chunk_id, created, model = f"chatcmpl-{secrets.token_hex(6)}", int(time.time()), body.get("model", "fake")

    def chunk(delta, finish_reason=None):
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
        return json.dumps({"id": chunk_id, "object": "chat.completion.chunk", "created": created,
                           "model": model, "choices": [choice]})

    await response.write(sse(chunk({"role": "assistant", "content": ""})))
    for count, token in enumerate(reply_tokens(prompt)):
        if count == args.error_after:
            error = {"error": {"message": "the model is overloaded, try again later", "type": "server_error"}}
            await response.write(sse(json.dumps(error), event="error"))
            return response
        await asyncio.sleep(args.interval_ms / 1000)
        await response.write(sse(chunk({"content": token})))
    await response.write(sse(chunk({}, "stop")))
    await response.write(sse("[DONE]"))
    return response


async def issue_token(request):
    token = f"tok-{next(request.app['token_numbers'])}-{secrets.token_hex(4)}"
    request.app["tokens"][token] = request.app["args"].token_events or None  # None: never expires
    return web.json_response({"access_token": token, "token_type": "Bearer"})


async def events(request):
    args, tokens = request.app["args"], request.app["tokens"]
    token = bearer(request)
    if token not in tokens or tokens[token] == 0:
        challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        return web.json_response(UNAUTHORIZED, status=401, headers=challenge)
    last = request.headers.get("Last-Event-ID", "")
    first = int(last) + 1 if last.isdigit() else 0
    if first >= args.events:
        return web.Response(status=204)

    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    for seq in range(first, args.events):
        await asyncio.sleep(args.interval_ms / 1000)
        await response.write(sse(json.dumps({"seq": seq}), id_=seq))
        if tokens[token] is not None:
            tokens[token] -= 1
            if tokens[token] == 0:
                break  # expired: the client must come back with a new token
    return response


def watch_stdin(loop, stop):
    # os.read rather than sys.stdin: a daemon thread parked in a buffered reader can deadlock
    # interpreter shutdown on the reader's lock.
    try:
        while os.read(0, 4096):
            pass
    except OSError:
        pass
    loop.call_soon_threadsafe(stop.set)


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--api-key", default="sk-local", help="the chat endpoint's key (default sk-local)")
    parser.add_argument("--interval-ms", type=int, default=30, help="between chunks, events (default 30)")
    parser.add_argument("--error-after", type=int, metavar="N", help="send event: error after N tokens")
    parser.add_argument("--events", type=int, default=12, help="events of /v1/events (default 12)")
    parser.add_argument("--token-events", type=int, default=0, metavar="N",
                        help="a token expires after N events (default 0: never)")
    args = parser.parse_args()

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    threading.Thread(target=watch_stdin, args=(loop, stop), daemon=True).start()

    app = web.Application()
    app["args"] = args
    app["tokens"] = {}  # token -> events it may still receive (None: unlimited)
    app["token_numbers"] = itertools.count(1)
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/v1/tokens", issue_token)
    app.router.add_get("/v1/events", events)
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    await web.SockSite(runner, sock).start()
    print(f"PORT {sock.getsockname()[1]}", flush=True)

    await stop.wait()
    try:
        await asyncio.wait_for(runner.cleanup(), timeout=2)
    except Exception:  # including the timeout: exiting matters more
        pass


if __name__ == "__main__":
    asyncio.run(main())
