#!/usr/bin/env python3
"""Runs one of the README's quick starts as the README says, against the demo feed, so that the
README cannot drift from what works.

    python3 tests/docs/quickstart.py c      --flags "-Icore/include -Lbuild/core -ltidewire ..."
    python3 tests/docs/quickstart.py cpp    --flags "..."
    python3 tests/docs/quickstart.py python --python build-python/venv/bin/python
    python3 tests/docs/quickstart.py node   --node-package bindings/node
    python3 tests/docs/quickstart.py java   --classpath bindings/java/target/classes

What is taken from the README, word for word:
  - the feed's command (the shell block of "## The demo feed", `python3 examples/feed/feed.py
    --port 8000 &`), run by bash from the repository with stdin at EOF; the only change is
    `--port 0` for `--port 8000` (a test listens on an ephemeral port), and the feed's PORT line is
    read to learn the port. The program runs only after the feed has published its last event, so
    a feed that had exited at stdin's EOF (or did not accept --port) fails the test;
  - the program (the first code block of "## <Language> quick start"), with 127.0.0.1:8000 pointed
    at that port;
  - for C and C++, the command that builds and runs it (the line of the section's shell block that
    starts with `cc ` or `c++ `), with `$(pkg-config --cflags --libs tidewire)` replaced by --flags
    (the build tree instead of an installed package; scripts/check-install.sh builds the C quick
    start with pkg-config against an installed one) plus warnings as errors.
It passes when the program exits 0 having printed the feed's 20 ticks, in order, each once.
Every step is bounded in time; the feed is stopped whatever happens.
"""

import argparse
import os
import re
import select
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
FEED_COMMAND = "python3 examples/feed/feed.py --port 8000 &"
FEED_EVENTS = 20  # the feed's default --count
LANGUAGES = {  # section title, code block language, file name
    "c": ("C", "c", "app.c"),
    "cpp": ("C++", "cpp", "app.cc"),
    "python": ("Python", "python", "app.py"),
    "node": ("Node", "js", "app.mjs"),
    "java": ("Java", "java", "Quickstart.java"),
}
RUN_TIMEOUT_S = 60


def fail(message):
    print(f"quickstart: {message}", file=sys.stderr)
    sys.exit(1)


def section(text, title):
    """The body of the README's '## <title>' section."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    if not match:
        fail(f'README.md has no "## {title}" section')
    return match.group(1)


def blocks(body, language):
    """The fenced code blocks of one language in a section, in order."""
    return re.findall(rf"^```{re.escape(language)}\n(.*?)^```$", body, re.M | re.S)


def start_feed(deadline_s=20):
    """Runs the README's feed command through bash, on an ephemeral port; returns (pid, port, out)."""
    commands = blocks(section(README.read_text(), "The demo feed"), "sh")
    if not commands or FEED_COMMAND not in commands[0].splitlines():
        fail(f'the "## The demo feed" section does not say `{FEED_COMMAND}`')
    command = FEED_COMMAND.replace("--port 8000", "--port 0")
    # bash prints the feed's pid, then waits for it: the feed runs in the background of a
    # non-interactive shell, its stdin /dev/null, as the README's line runs it.
    shell = subprocess.Popen(["bash", "-c", f'{command}\necho "PID $!"\nwait'], cwd=ROOT,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    pid = port = None
    done = False
    out = []
    pending = b""
    deadline = time.monotonic() + deadline_s
    fd = shell.stdout.fileno()
    while not done:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 4096)
        if not chunk:  # the shell and the feed have both ended
            break
        *lines, pending = (pending + chunk).split(b"\n")
        for line in (raw.decode(errors="replace") for raw in lines):
            out.append(line)
            if line.startswith("PID "):
                pid = int(line[4:])
            elif line.startswith("PORT "):
                port = int(line[5:])
            elif line == "DONE":
                done = True
    return shell, pid, port, done, out


def stop_feed(shell, pid):
    if pid:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    try:
        shell.wait(timeout=10)
    except subprocess.TimeoutExpired:
        shell.kill()
        shell.wait()


def command_for(language, args, workdir, name):
    """The argv (or bash line) that builds and runs the program, per language."""
    if language in ("c", "cpp"):
        compiler = "cc" if language == "c" else "c++"
        title = LANGUAGES[language][0]
        lines = [line for block in blocks(section(README.read_text(), f"{title} quick start"), "sh")
                 for line in block.splitlines() if line.startswith(compiler + " ")]
        if len(lines) != 1:
            fail(f"the {title} quick start has no single `{compiler} ...` line to build and run it")
        line = lines[0]
        pkg_config = "$(pkg-config --cflags --libs tidewire)"
        if pkg_config not in line:
            fail(f"`{line}` does not link with {pkg_config}")
        flags = args.flags + " -Wall -Wextra -Wpedantic -Werror"
        return ["bash", "-c", line.replace(pkg_config, flags)]
    if language == "python":
        return [args.python, name]
    if language == "node":
        os.makedirs(workdir / "node_modules")
        os.symlink(Path(args.node_package).resolve(), workdir / "node_modules" / "tidewire")
        return [args.node, name]
    return [args.java, "-cp", args.classpath, name]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("language", choices=sorted(LANGUAGES))
    parser.add_argument("--flags", default="", help="C/C++: compiler and linker flags for the library")
    parser.add_argument("--python", default=sys.executable, help="Python: the interpreter with tidewire")
    parser.add_argument("--node", default="node", help="Node: the node executable")
    parser.add_argument("--node-package", default=str(ROOT / "bindings" / "node"),
                        help="Node: the built tidewire package, linked as node_modules/tidewire")
    parser.add_argument("--java", default="java", help="Java: the java launcher")
    parser.add_argument("--classpath", default=str(ROOT / "bindings/java/target/tidewire-0.1.0.jar"),
                        help="Java: the classes of io.tidewire (a jar or a directory)")
    args = parser.parse_args()

    title, fence, name = LANGUAGES[args.language]
    programs = blocks(section(README.read_text(), f"{title} quick start"), fence)
    if not programs:
        fail(f'the "## {title} quick start" section has no ```{fence} block')
    program = programs[0]
    if "127.0.0.1:8000/sse" not in program:
        fail(f"the {title} quick start does not read the demo feed at http://127.0.0.1:8000/sse")

    shell, pid, port, done, feed_out = start_feed()
    try:
        if not port or not done:
            fail(f"the feed, started as the README says, did not announce its port and publish every "
                 f"event (it printed {feed_out!r})")
        # The feed's shell has ended its part; the feed itself, stdin at EOF, must still serve.
        with tempfile.TemporaryDirectory(prefix="tidewire-quickstart-") as tmp:
            workdir = Path(tmp)
            (workdir / name).write_text(program.replace("127.0.0.1:8000", f"127.0.0.1:{port}"))
            command = command_for(args.language, args, workdir, name)
            try:
                result = subprocess.run(command, cwd=workdir, stdin=subprocess.DEVNULL, capture_output=True,
                                        text=True, timeout=RUN_TIMEOUT_S)
            except subprocess.TimeoutExpired as error:
                fail(f"the {title} quick start did not end within {RUN_TIMEOUT_S} s; it printed:\n"
                     f"{error.stdout}")
    finally:
        stop_feed(shell, pid)

    if result.returncode != 0:
        fail(f"the {title} quick start exited with {result.returncode}:\n{result.stdout}{result.stderr}")
    seqs = [int(seq) for seq in re.findall(r"seq\W+(\d+)", result.stdout)]
    if seqs != list(range(FEED_EVENTS)):
        fail(f"the {title} quick start printed ticks {seqs}, expected 0 to {FEED_EVENTS - 1} once each:\n"
             f"{result.stdout}")
    print(f"quickstart: {title}: {shlex.join(command)}: {len(seqs)} ticks in order, exit 0")


if __name__ == "__main__":
    main()
