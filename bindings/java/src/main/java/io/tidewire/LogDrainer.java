package io.tidewire;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * Hands the core's log to {@code System.getLogger("tidewire")}, so that whatever the application
 * routes System.Logger to (java.util.logging by default; SLF4J, Log4j through their bridges)
 * receives it.
 *
 * <p>The runtime queues the records of its I/O thread; this Java-owned daemon thread takes them, so
 * no JNI upcall is ever made from the I/O thread.
 *
 * <p>The core's levels map to a library's usual ones: error and warn to ERROR and WARNING, its
 * info (a retry, a listener bound) to DEBUG and its debug to TRACE, so that an unconfigured JVM
 * (java.util.logging prints INFO and above to stderr) shows the warnings and nothing else.
 */
final class LogDrainer extends Thread {
  static final Logger LOGGER = System.getLogger("tidewire");
  private static final int CAPACITY = 1024;
  private static final int BATCH = 64;
  // tw_log_level ERROR, WARN, INFO, DEBUG
  private static final Level[] LEVELS = {Level.ERROR, Level.WARNING, Level.DEBUG, Level.TRACE};

  private final long runtime;
  private volatile boolean stopping;

  /** Turns the runtime's log queue on and starts draining it. */
  static LogDrainer start(long runtime) {
    // Only the records the logger wants (as configured when the first stream opens) are queued.
    int level =
        LOGGER.isLoggable(Level.TRACE)
            ? tw_log_level.TW_LOG_DEBUG
            : LOGGER.isLoggable(Level.DEBUG) ? tw_log_level.TW_LOG_INFO : tw_log_level.TW_LOG_WARN;
    Native.check(TidewireNative.tw_runtime_log_enable(runtime, level, CAPACITY));
    LogDrainer drainer = new LogDrainer(runtime);
    drainer.start();
    return drainer;
  }

  private LogDrainer(long runtime) {
    super("tidewire-log");
    setDaemon(true);
    this.runtime = runtime;
  }

  @Override
  public void run() {
    long[] records = new long[BATCH];
    long[] count = new long[1];
    while (!stopping) {
      int err = TidewireNative.tw_runtime_log_next_batch(records, count, runtime, BATCH, -1);
      if (err == tw_err.TW_OK) publish(records, count[0]); // else TW_ERR_WAKEUP: finish() was called
    }
    // What is still queued goes out too: the record of a failure precedes the failure itself.
    while (TidewireNative.tw_runtime_log_next_batch(records, count, runtime, BATCH, 0) == tw_err.TW_OK) {
      publish(records, count[0]);
    }
  }

  private static void publish(long[] records, long count) {
    for (int i = 0; i < count; i++) {
      long record = records[i];
      try {
        Level level = LEVELS[TidewireNative.tw_log_record_level(record)];
        if (LOGGER.isLoggable(level)) {
          LOGGER.log(level, Native.text(TidewireNative.tw_log_record_message(record)));
        }
      } finally {
        TidewireNative.tw_log_record_destroy(record);
      }
    }
  }

  /** Stops the thread and waits for it; then the runtime may be destroyed. */
  void finish() {
    stopping = true;
    TidewireNative.tw_runtime_log_wakeup(runtime);
    boolean interrupted = false;
    while (isAlive()) {
      try {
        join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) Thread.currentThread().interrupt();
  }
}
