"""The scripts of examples/python that bring their own server, run as a user runs them."""

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "python"


def run_example(name, *args):
    command = [sys.executable, str(EXAMPLES / name), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=30)


def test_llm_stream_prints_the_tokens_in_order_then_ends_at_done():
    result = run_example("llm_stream.py", "count to three")
    assert result.returncode == 0, result.stderr
    assert result.stdout == 'You said: "count to three". This reply streams one token at a time.\n'
    assert result.stderr == ""


def test_llm_stream_shows_an_error_event_sent_mid_stream():
    result = run_example("llm_stream.py", "count to three", "--error-after", "3")
    assert result.returncode == 1
    assert result.stdout == 'You said: "count'
    assert result.stderr == "\nerror: the model is overloaded, try again later\n"


def test_the_readme_python_quick_start_reads_the_demo_feed_as_written():
    # tests/docs/quickstart.py takes the program and the feed's command from README.md word for
    # word (the port aside) and checks the 20 ticks, in order, and a clean exit.
    script = Path(__file__).resolve().parents[1] / "docs" / "quickstart.py"
    result = subprocess.run([sys.executable, str(script), "python", "--python", sys.executable],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "20 ticks in order, exit 0" in result.stdout
