package io.tidewire;

import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The process's one runtime (one I/O thread for every stream), started with the first stream.
 *
 * <p>A shutdown hook destroys it when the JVM exits: every stream then ends cleanly, a thread
 * blocked on one returns, and exit never waits for the network (the core bounds the teardown to
 * about a second). Streams opened after that are refused with {@code TW_ERR_SHUTDOWN}.
 */
final class SharedRuntime {
  // Opens share the lock; destroying the runtime takes it alone, so no open races the teardown.
  private static final ReentrantReadWriteLock LOCK = new ReentrantReadWriteLock();
  private static long runtime;
  private static LogDrainer logDrainer;
  private static boolean shutDown;
  private static volatile boolean started;

  private SharedRuntime() {}

  /** Opens a stream from a configuration; the caller owns the returned handle. */
  static long openStream(long config) {
    if (!started) start();
    LOCK.readLock().lock();
    try {
      if (shutDown) {
        throw new TidewireException(
            "the JVM is shutting down: no new stream can be opened", "TW_ERR_SHUTDOWN");
      }
      long[] out = new long[1];
      int err = TidewireNative.tw_stream_open(out, runtime, config);
      if (err != tw_err.TW_OK) throw Native.error(err);
      return out[0];
    } finally {
      LOCK.readLock().unlock();
    }
  }

  private static void start() {
    LOCK.writeLock().lock();
    try {
      if (started) return;
      long[] out = new long[1];
      Native.check(TidewireNative.tw_runtime_create(out));
      started = true;
      try {
        Runtime.getRuntime()
            .addShutdownHook(new Thread(SharedRuntime::shutdown, "tidewire-shutdown"));
      } catch (IllegalStateException exiting) {
        TidewireNative.tw_runtime_destroy(out[0]);
        shutDown = true;
        return;
      }
      runtime = out[0];
      logDrainer = LogDrainer.start(runtime);
    } finally {
      LOCK.writeLock().unlock();
    }
  }

  /** Ends every stream and stops the I/O thread; later opens are refused. Idempotent. */
  static void shutdown() {
    LOCK.writeLock().lock();
    try {
      shutDown = true;
      if (logDrainer != null) logDrainer.finish(); // it uses the runtime: first
      logDrainer = null;
      TidewireNative.tw_runtime_destroy(runtime);
      runtime = 0;
    } finally {
      LOCK.writeLock().unlock();
    }
  }
}
