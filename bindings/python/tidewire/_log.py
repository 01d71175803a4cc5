"""The core's log in Python's logging: records reach ``logging.getLogger("tidewire")``.

The runtime queues the records of its I/O thread (tw_runtime_log_enable); one Python thread per
runtime (not per stream) takes them and hands them to the logger, so the I/O thread never calls
into Python and nothing blocks an asyncio loop. With no handler configured anywhere, logging's
last resort prints warnings to stderr; once the application configures logging, nothing else does.
"""

from __future__ import annotations

import logging
import threading

from . import _tidewire

logger = logging.getLogger("tidewire")

# tw_log_level (ERROR, WARN, INFO, DEBUG) as logging levels.
_LEVELS = (logging.ERROR, logging.WARNING, logging.INFO, logging.DEBUG)
_TW_LOG_INFO = 2
_TW_LOG_DEBUG = 3
CAPACITY = 1024


def start(runtime: _tidewire.Runtime) -> threading.Thread:
    """Turns the runtime's log queue on and starts the thread that drains it into ``logger``."""
    # Debug records cost a line per connection: queued only when the logger wants them.
    level = _TW_LOG_DEBUG if logger.isEnabledFor(logging.DEBUG) else _TW_LOG_INFO
    runtime.log_enable(level, CAPACITY)
    thread = threading.Thread(target=drain, args=(runtime,), name="tidewire-log", daemon=True)
    thread.start()
    return thread


def drain(runtime: _tidewire.Runtime) -> None:
    """Hands records to ``logger`` until the runtime closes."""
    while True:
        records = runtime.log_next(-1)
        if records is None:
            return
        emit(records)


def emit(records: list) -> None:
    """Logs one batch (the core adds a record saying how many a full queue dropped)."""
    for level, message, time_ns in records:
        if logger.isEnabledFor(_LEVELS[level]):
            record = logger.makeRecord(logger.name, _LEVELS[level], "(tidewire)", 0, message, None, None)
            # When the I/O thread made it, not when this thread got to it.
            record.created = time_ns / 1e9
            record.msecs = (time_ns // 1_000_000) % 1000
            logger.handle(record)
