"""What needs a process of its own: Ctrl-C during a blocked iteration, interpreter exit."""

import signal
import subprocess
import sys
import textwrap
import time

from conftest import child_env


# A process started with SIGINT ignored (a background job of a non-interactive shell, say) passes
# that on, and Python then installs no KeyboardInterrupt handler: the child asks for Python's own.
RESTORE_SIGINT = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"


def start(script, *args):
    return subprocess.Popen(
        [sys.executable, "-c", RESTORE_SIGINT + textwrap.dedent(script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )


def test_ctrl_c_interrupts_a_blocked_iteration(peers):
    child = start(
        """
        import sys, tidewire
        stream = tidewire.Stream(sys.argv[1], "sse")
        print("waiting", flush=True)
        try:
            for event in stream:
                pass
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(3)
        """,
        f"{peers.sse_url}/events?count=0",
    )
    try:
        assert child.stdout.readline().strip() == "waiting"
        time.sleep(0.3)  # blocked in the iteration by now
        start_s = time.monotonic()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=10)
    finally:
        child.kill()
    assert child.returncode == 3, err
    assert "interrupted" in out
    assert time.monotonic() - start_s < 5


def test_ctrl_c_interrupts_next_with_a_timeout(peers):
    child = start(
        """
        import sys, tidewire
        stream = tidewire.Stream(sys.argv[1], "sse")
        print("waiting", flush=True)
        stream.next(timeout=60)
        """,
        f"{peers.sse_url}/events?count=0",
    )
    try:
        assert child.stdout.readline().strip() == "waiting"
        time.sleep(0.3)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=10)
    finally:
        child.kill()
    assert "KeyboardInterrupt" in err


def test_interpreter_exit_with_open_streams_does_not_hang(peers):
    # Open streams of every transport; one non-daemon and one daemon thread blocked iterating;
    # then the main thread ends. Exit must be prompt and clean.
    child = start(
        """
        import sys, threading, tidewire
        sse, ws, http = sys.argv[1:4]
        streams = [
            tidewire.Stream(sse + "/events?count=0", "sse"),
            tidewire.Stream(ws + "/echo"),
            tidewire.Stream(http + "/longpoll/exit-test?wait_s=60", "longpoll"),
            tidewire.Stream(http + "/poll/exit-test", "poll"),
            tidewire.Stream("http://127.0.0.1:0/hook", "webhook", webhook_scheme="none"),
        ]
        def iterate(stream):
            for event in stream:
                pass
        threading.Thread(target=iterate, args=(streams[0],)).start()
        threading.Thread(target=iterate, args=(streams[1],), daemon=True).start()
        streams[1].send("hello")
        print("open", flush=True)
        """,
        peers.sse_url,
        peers.ws_url,
        peers.http_url,
    )
    try:
        assert child.stdout.readline().strip() == "open"
        start_s = time.monotonic()
        out, err = child.communicate(timeout=15)
    finally:
        child.kill()
    assert child.returncode == 0, err
    assert time.monotonic() - start_s < 10
    assert "Fatal" not in err and "terminate" not in err, err
