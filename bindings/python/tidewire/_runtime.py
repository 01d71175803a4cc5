"""The process's shared runtime: one I/O thread for every stream, created with the first stream.

The runtime is shut down when the interpreter exits, before it waits for non-daemon threads: every
stream then ends cleanly, so a thread iterating over one finishes and exit never hangs. A fork
child gets a runtime of its own on its first stream (the parent's I/O thread does not exist there).
"""

from __future__ import annotations

import atexit
import os
import threading
from typing import Optional

from . import _log, _tidewire

_lock = threading.Lock()
_runtime: Optional[_tidewire.Runtime] = None
_log_thread: Optional[threading.Thread] = None
_exiting = False
_registered = False
_abandoned: list = []  # parents' runtimes in a fork child: never destroyed there


def shared() -> _tidewire.Runtime:
    """The shared runtime, started on first use."""
    global _runtime, _registered, _log_thread
    with _lock:
        if _exiting:
            from ._errors import Error

            raise Error("the interpreter is exiting: no new stream can be opened", "TW_ERR_SHUTDOWN")
        if _runtime is None:
            _runtime = _tidewire.Runtime()
            _log_thread = _log.start(_runtime)
            if not _registered:
                _register_shutdown()
                _registered = True
        return _runtime


def shutdown() -> None:
    """Ends every stream and stops the I/O thread; a later stream is refused. Idempotent."""
    global _runtime, _exiting, _log_thread
    with _lock:
        _exiting = True
        runtime, _runtime = _runtime, None
        log_thread, _log_thread = _log_thread, None
    if runtime is not None:
        runtime.close()  # wakes the log thread, which then returns
    if log_thread is not None and log_thread is not threading.current_thread():
        log_thread.join(timeout=5)


def _register_shutdown() -> None:
    # threading's exit hooks run before the interpreter joins non-daemon threads (atexit hooks run
    # after, too late for a thread blocked in a stream); concurrent.futures relies on the same hook.
    register = getattr(threading, "_register_atexit", None)
    if register is not None:
        try:
            register(shutdown)
            return
        except RuntimeError:  # already shutting down
            pass
    atexit.register(shutdown)


def _after_fork_in_child() -> None:
    global _runtime, _lock, _log_thread
    _lock = threading.Lock()
    _log_thread = None  # the parent's: not running in the child
    if _runtime is not None:
        _runtime.abandon()
        _abandoned.append(_runtime)
        _runtime = None


os.register_at_fork(after_in_child=_after_fork_in_child)
