package io.tidewire;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.lang.ref.Cleaner;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One subscription to one source, over poll, long-poll, SSE, WebSocket or webhook.
 *
 * <pre>{@code
 * try (Stream stream = Stream.builder("http://127.0.0.1:8000/sse")
 *         .transport(Transport.SSE)
 *         .header("Authorization", "Bearer t0k3n")
 *         .option("reconnect.max_ms", 10000)
 *         .open()) {
 *   for (Event event : stream) {
 *     System.out.println(event.id() + " " + event.text());
 *   }
 * }
 * }</pre>
 *
 * <p>The stream starts connecting when it is opened. Iteration yields its events until it ends:
 * cleanly (the loop finishes) or in failure (iteration throws {@link StreamException}). Several
 * threads may read one stream; each event goes to one of them, in order. Reconnection, backoff,
 * resume and backpressure are the core's business, the same in every language.
 *
 * <p>Waiting is done by Java threads pulling from the stream's queue: the core's I/O thread never
 * calls into Java. Interrupting a waiting thread ends its wait at once ({@link #next} throws
 * InterruptedException; iteration throws a TidewireException whose cause is the
 * InterruptedException, with the thread's interrupt status set again).
 *
 * <p>{@link #close()} may be called from any thread, any number of times. The native stream is
 * released by close() or, once the stream has ended, by the reader that sees the end; a stream that
 * becomes unreachable unclosed is closed by a {@link Cleaner}.
 */
public final class Stream implements AutoCloseable, Iterable<Event>, Flow.Publisher<Event> {
  private static final Cleaner CLEANER = Cleaner.create();

  /** A wait in the core is at most this long; interruption does not wait for it to pass. */
  private static final long SLICE_NANOS = TimeUnit.SECONDS.toNanos(1);

  /**
   * How long close() lets the core end the stream (it takes a loop turn) before releasing it
   * anyway.
   */
  private static final long CLOSE_WAIT_NANOS = TimeUnit.SECONDS.toNanos(2);

  private final Handle handle;
  private final Cleaner.Cleanable cleanable;
  private final Interruptor interruptor;
  private final String url;
  private final AtomicBoolean closing = new AtomicBoolean();
  private final AtomicBoolean subscribed = new AtomicBoolean();

  // One thread at a time waits in the core (the puller); the others wait on `changed` for what it
  // brings. That keeps events in order across threads, and leaves one native wait to interrupt.
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final ArrayDeque<Event> buffer =
      new ArrayDeque<>(); // taken from the core, not handed out
  private boolean pulling;
  private boolean ended; // the core's queue said TW_ERR_CLOSED (or close() gave up waiting for it)
  private StreamException failure; // why it ended, if in failure

  private Stream(long stream) {
    handle = new Handle(stream);
    cleanable = CLEANER.register(this, handle);
    interruptor = new Interruptor(handle::wakeup);
    url = handle.url();
  }

  /** A builder for a stream on {@code url}; {@link Builder#open()} opens it. */
  public static Builder builder(String url) {
    return new Builder(url);
  }

  /**
   * Waits up to {@code timeout} for the next event; empty if none arrived in time (a zero timeout
   * only takes what is already there).
   *
   * @throws NoSuchElementException once the stream has ended cleanly and every event was read
   * @throws StreamException once the stream has ended in failure and every event was read
   * @throws InterruptedException if the thread is interrupted while waiting
   */
  public Optional<Event> next(Duration timeout) throws InterruptedException {
    long nanos =
        timeout.isNegative()
            ? 0
            : timeout.compareTo(Duration.ofDays(1)) > 0
                ? TimeUnit.DAYS.toNanos(1)
                : timeout.toNanos();
    return Optional.ofNullable(take(nanos, false));
  }

  /**
   * The events of the stream, as they arrive, until it ends. {@code hasNext()} waits; it returns
   * false once the stream has ended cleanly and throws {@link StreamException} if it ended in
   * failure. An interrupted wait throws a {@link TidewireException} (code {@code TW_ERR_WAKEUP},
   * cause InterruptedException) and leaves the thread's interrupt status set.
   */
  @Override
  public Iterator<Event> iterator() {
    return new Iterator<>() {
      private Event next;
      private boolean done;

      @Override
      public boolean hasNext() {
        if (next != null) return true;
        if (done) return false;
        try {
          next = take(0, true);
          return true;
        } catch (NoSuchElementException end) {
          done = true;
          return false;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new TidewireException(
              "interrupted while waiting for an event of " + url, "TW_ERR_WAKEUP", e);
        }
      }

      @Override
      public Event next() {
        if (!hasNext()) throw new NoSuchElementException("the stream has ended");
        Event event = next;
        next = null;
        return event;
      }
    };
  }

  /**
   * Delivers the events to {@code subscriber} from a thread of its own (a daemon thread named
   * "tidewire-dispatcher ..."), as the subscriber requests them: onComplete when the stream ends
   * cleanly, onError with a {@link StreamException} when it fails. Cancelling stops the delivery,
   * not the stream. A stream has one subscriber; a second one gets onError(IllegalStateException).
   */
  @Override
  public void subscribe(Flow.Subscriber<? super Event> subscriber) {
    Objects.requireNonNull(subscriber, "subscriber");
    if (!subscribed.compareAndSet(false, true)) {
      subscriber.onSubscribe(
          new Flow.Subscription() {
            @Override
            public void request(long n) {}

            @Override
            public void cancel() {}
          });
      subscriber.onError(
          new IllegalStateException(
              "this stream already has a subscriber: each event goes to one consumer"));
      return;
    }
    new Dispatcher(this, subscriber).start();
  }

  /**
   * Sends a text message on a ws stream, or one JSON-RPC message (or batch) on an mcp stream. See
   * {@link #send(byte[])}.
   */
  public void send(String text) {
    send(text.getBytes(UTF_8), 0);
  }

  /**
   * Sends a binary message on a ws stream (copied). Messages sent while the connection is down wait
   * in the send buffer and go out after the reconnect.
   *
   * @throws TidewireException {@code TW_ERR_UNSUPPORTED} on other transports, {@code
   *     TW_ERR_WOULD_BLOCK} when the send buffer ({@code ws.send_buffer_bytes}) is full, {@code
   *     TW_ERR_LIMIT} for a message larger than the whole buffer, {@code TW_ERR_CLOSED} once the
   *     stream has ended
   */
  public void send(byte[] data) {
    send(data, 1);
  }

  private void send(byte[] data, int binary) {
    long stream = handle.acquire();
    if (stream == 0) throw Native.error(tw_err.TW_ERR_CLOSED, "the stream has ended");
    try {
      int err = TidewireNative.tw_stream_send(stream, data, binary);
      if (err != tw_err.TW_OK) throw Native.error(err);
    } finally {
      handle.release();
    }
  }

  /**
   * Acknowledges a message of a redis stream opened with {@code redis.ack=manual}: its entry
   * leaves the consumer group's pending list, so no other worker will claim it. Does nothing with
   * {@code redis.ack=auto}. Any thread.
   *
   * @throws TidewireException {@code TW_ERR_UNSUPPORTED} for other transports, {@code
   *     TW_ERR_CLOSED} once the stream has ended (the entry stays pending; another worker claims it)
   */
  public void ack(Event event) {
    if (event == null) throw new NullPointerException("event");
    long stream = handle.acquire();
    if (stream == 0) throw new TidewireException("the stream has ended", "TW_ERR_CLOSED");
    try {
      int err = TidewireNative.tw_stream_ack(stream, event.id().getBytes(UTF_8));
      if (err != tw_err.TW_OK) throw Native.error(err);
    } finally {
      handle.release();
    }
  }

  /**
   * Drops the connection and connects again at once, without backoff, resuming where the stream
   * was (SSE Last-Event-ID, poll ETag, long-poll cursor). The request is sent again even when
   * {@code http.replay_body} would not. A stream waiting for credentials ({@link
   * Kind#AUTH_REQUIRED}) tries again now. Any thread.
   *
   * @throws TidewireException {@code TW_ERR_UNSUPPORTED} for webhook streams, {@code
   *     TW_ERR_CLOSED} once the stream has ended
   */
  public void restart() {
    long stream = handle.acquire();
    if (stream == 0) throw Native.error(tw_err.TW_ERR_CLOSED, "the stream has ended");
    try {
      int err = TidewireNative.tw_stream_restart(stream);
      if (err != tw_err.TW_OK) throw Native.error(err);
    } finally {
      handle.release();
    }
  }

  /**
   * Sets request header {@code name} to {@code value} ({@code null} removes it) from the next
   * request or WebSocket handshake on; {@link #restart()} applies it at once. Replaces a header
   * given when the stream was opened. A stream waiting for credentials ({@link
   * Kind#AUTH_REQUIRED}) tries again now. Any thread.
   *
   * @throws ConfigException for a name that is not an HTTP token or a value with CR, LF or NUL (the
   *     message never shows the value)
   * @throws TidewireException {@code TW_ERR_UNSUPPORTED} for webhook streams, {@code
   *     TW_ERR_CLOSED} once the stream has ended
   */
  public void setHeader(String name, String value) {
    Objects.requireNonNull(name, "name");
    String key = "header." + name;
    long stream = handle.acquire();
    if (stream == 0) throw Native.error(tw_err.TW_ERR_CLOSED, "the stream has ended");
    try {
      // With lengths: the core refuses a NUL inside rather than a C string cutting it short.
      int err =
          TidewireNative.tw_stream_set_header_n(
              stream, name.getBytes(UTF_8), value == null ? null : value.getBytes(UTF_8));
      if (err == tw_err.TW_ERR_UNKNOWN_KEY || err == tw_err.TW_ERR_INVALID_VALUE) {
        TidewireException error = Native.error(err);
        throw new ConfigException(error.getMessage(), error.code(), key);
      }
      if (err != tw_err.TW_OK) throw Native.error(err);
    } finally {
      handle.release();
    }
  }

  /** The stream's URL; for a webhook stream the URL really bound (with the real port). */
  public String url() {
    return url;
  }

  /**
   * The stream's counters: messages, bytes, requests, not_modified, reconnects, errors, dropped,
   * queue_depth, queue_peak, paused, comments, attempts, ... (see docs/STATISTICS.md). After the
   * stream is released, their last values.
   */
  public Map<String, Long> stats() {
    return handle.stats();
  }

  /**
   * Where the stream is: "connecting", "open", "backoff", "paused" or "ended". With {@code
   * stats().get("attempts")} it tells "waiting for data" (open) from "cannot connect" (backoff, and
   * attempts above 0; {@link #lastError} says why).
   */
  public String state() {
    long stream = handle.acquire();
    if (stream == 0) return "ended";
    try {
      return Native.text(TidewireNative.tw_state_name(TidewireNative.tw_stream_state(stream)));
    } finally {
      handle.release();
    }
  }

  /**
   * The text of the stream's last failed attempt (no header values, URLs without their secrets),
   * or "" if none failed; after the stream is released, its last value.
   */
  public String lastError() {
    return handle.lastError();
  }

  /** True once the stream has ended (events may still be waiting: iterate to read them). */
  public boolean ended() {
    long stream = handle.acquire();
    if (stream == 0) return true;
    try {
      return TidewireNative.tw_stream_ended(stream) != 0;
    } finally {
      handle.release();
    }
  }

  /**
   * Ends the stream cleanly and releases it. Events that had arrived stay readable; then iteration
   * ends. A thread blocked in iteration or {@link #next} returns. Any thread, idempotent; returns
   * within about two seconds at worst.
   */
  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) return;
    handle.close();
    boolean interrupted = false;
    long deadline = System.nanoTime() + CLOSE_WAIT_NANOS;
    lock.lock();
    try {
      // The core ends the stream on its next loop turn; what is queued until then is kept.
      while (!ended) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          ended = true;
          break;
        }
        try {
          if (pulling) {
            changed.awaitNanos(left);
          } else {
            pull(left, false);
          }
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    } catch (RuntimeException e) {
      ended = true;
    } finally {
      changed.signalAll();
      lock.unlock();
    }
    cleanable.clean();
    if (interrupted) Thread.currentThread().interrupt();
  }

  @Override
  public String toString() {
    return "Stream[" + url + (ended() ? " (ended)" : "") + "]";
  }

  /**
   * The next event; null once timeoutNanos have passed (never when forever). At the end, throws
   * NoSuchElementException (clean) or StreamException (failure).
   */
  Event take(long timeoutNanos, boolean forever) throws InterruptedException {
    // Iteration reads no clock: read for every event, it was the largest cost of the hand-over.
    long deadline = forever ? 0 : System.nanoTime() + timeoutNanos;
    boolean looked = false; // a zero timeout still looks into the core's queue once
    lock.lockInterruptibly();
    try {
      for (; ; ) {
        Event event = buffer.poll();
        if (event != null) return event;
        if (ended) throw endOfStream();
        long left = forever ? SLICE_NANOS : Math.max(0, deadline - System.nanoTime());
        if (left == 0 && looked) return null;
        looked = true;
        if (!pulling) {
          pull(Math.min(left, SLICE_NANOS), true);
        } else if (left > 0) {
          changed.awaitNanos(left);
        } else {
          // Another thread is taking from the core: what it takes comes through the buffer.
          return null;
        }
      }
    } finally {
      lock.unlock();
    }
  }

  private RuntimeException endOfStream() {
    if (failure == null) return new NoSuchElementException("the stream has ended");
    return new StreamException(
        failure.getMessage(), failure.code(), failure.reason(), failure.status(), failure.closeCode());
  }

  /**
   * Waits in the core for up to nanos and adds what arrives to the buffer. Called holding the lock,
   * which it lets go of while waiting. The wait ends early if the thread is interrupted (when
   * interruptible), and then throws InterruptedException.
   */
  private void pull(long nanos, boolean interruptible) throws InterruptedException {
    pulling = true;
    lock.unlock();
    List<Event> pulled = new ArrayList<>(Batch.CAPACITY);
    int err = tw_err.TW_ERR_TIMEOUT;
    StreamException why = null;
    try {
      long stream = handle.acquire();
      if (stream == 0) {
        err = tw_err.TW_ERR_CLOSED;
      } else {
        try {
          int ms = (int) Math.min(Integer.MAX_VALUE, (nanos + 999_999) / 1_000_000);
          Batch batch = Batch.local();
          if (interruptible) interruptor.beginWait();
          try {
            err = batch.take(stream, ms);
          } finally {
            if (interruptible) interruptor.endWait();
          }
          batch.drainTo(pulled);
          if (err == tw_err.TW_ERR_CLOSED) {
            why = Native.failure(stream);
          } else if (err != tw_err.TW_OK
              && err != tw_err.TW_ERR_TIMEOUT
              && err != tw_err.TW_ERR_WAKEUP) {
            throw Native.error(err);
          }
        } finally {
          handle.release();
        }
      }
    } finally {
      lock.lock();
      pulling = false;
      buffer.addAll(pulled);
      if (err == tw_err.TW_ERR_CLOSED && !ended) {
        ended = true;
        failure = why;
      }
      changed.signalAll();
    }
    // Ended and drained into the buffer: the native stream has nothing more to give.
    if (err == tw_err.TW_ERR_CLOSED) cleanable.clean();
    if (err == tw_err.TW_ERR_WAKEUP && interruptible && Thread.interrupted())
      throw new InterruptedException();
  }

  /**
   * The native stream handle, and the Cleaner's action that destroys it. Every native call holds
   * the read lock; destroying takes the write lock, so it waits for calls in progress (a puller's
   * wait ends within a slice, at once once the stream has ended) and no call ever uses a freed
   * handle.
   */
  private static final class Handle implements Runnable {
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private long stream; // 0 once destroyed
    private Map<String, Long> lastStats = Map.of();
    private String lastError = "";

    Handle(long stream) {
      this.stream = stream;
    }

    /** The handle, read-locked; 0 (and not locked) once destroyed. Pair with release(). */
    long acquire() {
      lock.readLock().lock();
      if (stream == 0) {
        lock.readLock().unlock();
        return 0;
      }
      return stream;
    }

    void release() {
      lock.readLock().unlock();
    }

    /** From an interrupting thread: never blocks (a stream being destroyed needs no wake-up). */
    void wakeup() {
      if (!lock.readLock().tryLock()) return;
      try {
        if (stream != 0) TidewireNative.tw_stream_wakeup(stream);
      } finally {
        lock.readLock().unlock();
      }
    }

    void close() {
      long s = acquire();
      if (s == 0) return;
      try {
        TidewireNative.tw_stream_close(s);
      } finally {
        release();
      }
    }

    String url() {
      long s = acquire();
      if (s == 0) return "";
      try {
        byte[][] out = new byte[1][];
        Native.check(TidewireNative.tw_stream_url(out, s));
        return Native.text(out[0]);
      } finally {
        release();
      }
    }

    Map<String, Long> stats() {
      long s = acquire();
      if (s == 0) {
        lock.readLock().lock();
        try {
          return lastStats;
        } finally {
          lock.readLock().unlock();
        }
      }
      try {
        return read(s);
      } finally {
        release();
      }
    }

    String lastError() {
      long s = acquire();
      if (s == 0) {
        lock.readLock().lock();
        try {
          return lastError;
        } finally {
          lock.readLock().unlock();
        }
      }
      try {
        return readLastError(s);
      } finally {
        release();
      }
    }

    private static String readLastError(long stream) {
      byte[][] out = new byte[1][];
      Native.check(TidewireNative.tw_stream_last_error(out, stream));
      return Native.text(out[0]);
    }

    private static Map<String, Long> read(long stream) {
      Map<String, Long> stats = new LinkedHashMap<>();
      long[] value = new long[1];
      byte[] name;
      for (long i = 0; (name = TidewireNative.tw_stat_name(i)) != null; i++) {
        Native.check(TidewireNative.tw_stream_stat(value, stream, name));
        stats.put(Native.text(name), value[0]);
      }
      return Collections.unmodifiableMap(stats);
    }

    @Override
    public void run() {
      lock.writeLock().lock();
      try {
        if (stream == 0) return;
        lastStats = read(stream);
        lastError = readLastError(stream);
        TidewireNative.tw_stream_destroy(stream);
        stream = 0;
      } finally {
        lock.writeLock().unlock();
      }
    }
  }

  /**
   * Describes a stream: its URL, transport, headers and any configuration key
   * (docs/CONFIGURATION.md), by name ({@code "reconnect.max_ms"}) or alias ({@code
   * "reconnect_max_ms"}). Settings reach the core in order, as given: a key set twice, in either
   * spelling, is refused by {@link #open()} with a {@link ConfigException} naming both spellings.
   */
  public static final class Builder {
    /**
     * A value as the core receives it: bytes (http.body may be any, NUL included), the kind of
     * Java object it came from (a tw_value_kind) and that type's name. The core decides which keys
     * take which kind and words the refusal.
     */
    private record Setting(String key, byte[] value, int kind, String typeName) {}

    private final List<Setting> settings = new ArrayList<>();

    private Builder(String url) {
      put("url", Objects.requireNonNull(url, "url").getBytes(UTF_8));
    }

    // Text or bytes: the core reads them for any key (the type name serves only a refusal).
    private Builder put(String key, byte[] value) {
      return put(key, value, tw_value_kind.TW_VALUE_TEXT, "String");
    }

    private Builder put(String key, byte[] value, int kind, String typeName) {
      settings.add(new Setting(key, value, kind, typeName));
      return this;
    }

    /** The transport; ws:// and wss:// URLs imply {@link Transport#WS}, other URLs need one. */
    public Builder transport(Transport transport) {
      return put("transport", transport.toString().getBytes(UTF_8));
    }

    /** A header sent on every request and handshake ({@code header.<name>}). */
    public Builder header(String name, String value) {
      return put("header." + name, Objects.requireNonNull(value, "value").getBytes(UTF_8));
    }

    /** Several headers at once. */
    public Builder headers(Map<String, String> headers) {
      headers.forEach(this::header);
      return this;
    }

    /** Sets configuration key {@code key} ({@code "reconnect.max_ms"}) to {@code value}. */
    public Builder option(String key, String value) {
      return option(key, Objects.requireNonNull(value, "value").getBytes(UTF_8));
    }

    /** A key whose value is bytes ({@code http.body}; other keys refuse a NUL byte). */
    public Builder option(String key, byte[] value) {
      return put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value").clone());
    }

    /**
     * The request method for sse, poll and longpoll ({@code http.method}): {@code "POST"} for an
     * LLM stream, any HTTP method token.
     */
    public Builder method(String method) {
      return option("http.method", method);
    }

    /**
     * The request body ({@code http.body}), sent with {@code Content-Type: application/json} unless
     * a {@code Content-Type} header is given. A POST stream is not sent again on a reconnect unless
     * the server gave event ids (see {@code http.replay_body}).
     */
    public Builder body(byte[] body) {
      return option("http.body", body);
    }

    /** A text body, sent as UTF-8. See {@link #body(byte[])}. */
    public Builder body(String body) {
      return option("http.body", body);
    }

    /** An integer key ({@code option("reconnect.max_ms", 2000)}). */
    public Builder option(String key, long value) {
      return option(key, String.valueOf(value));
    }

    /** A boolean key ({@code option("status_events", true)}). */
    public Builder option(String key, boolean value) {
      return option(key, String.valueOf(value));
    }

    /**
     * Several keys: values are strings, numbers, booleans, lists (a list key such as {@code
     * ws.subprotocols}) or byte[]. Each goes to the core as Java prints it ({@code 2000}, {@code
     * true}, {@code [a, b]}); the core reads those forms, and {@link #open()} refuses what a key
     * does not accept: a List for a key that is no list, a Map, a Set (its order is not defined),
     * an array other than byte[] or any other object for every key (a {@link ConfigException}
     * naming the key and the type, never the value).
     */
    public Builder options(Map<String, ?> options) {
      options.forEach(
          (key, value) -> {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
            if (value instanceof byte[] bytes) option(key, bytes);
            // A List only: a Set's order is whatever the set gives, so no list key takes one.
            else if (value instanceof List<?> list)
              put(key, String.valueOf(list).getBytes(UTF_8), tw_value_kind.TW_VALUE_LIST, typeName(value));
            else if (value instanceof CharSequence || value instanceof Number || value instanceof Boolean)
              put(key, String.valueOf(value).getBytes(UTF_8), tw_value_kind.TW_VALUE_TEXT, typeName(value));
            // Never printed: a Map's text is nobody's value, and it may hold a secret.
            else put(key, new byte[0], tw_value_kind.TW_VALUE_OTHER, typeName(value));
          });
      return this;
    }

    /** Keys and values from Properties (e.g. loaded from a file). */
    public Builder options(Properties properties) {
      for (String key : properties.stringPropertyNames()) option(key, properties.getProperty(key));
      return this;
    }

    /**
     * The name a refusal gives the value's type: the interface a Java programmer wrote (Map, List,
     * Set) rather than the class behind it (Map.of() is an ImmutableCollections.MapN).
     */
    private static String typeName(Object value) {
      if (value instanceof Map<?, ?>) return "Map";
      if (value instanceof List<?>) return "List";
      if (value instanceof Set<?>) return "Set";
      if (value instanceof Collection<?>) return "Collection";
      String name = value.getClass().getSimpleName();
      return name.isEmpty() ? value.getClass().getName() : name;
    }

    /**
     * Opens the stream: the core checks every setting, then starts connecting (a webhook stream
     * first waits until its endpoint listens).
     *
     * @throws ConfigException for an unknown key or a value the core refuses; the message names the
     *     key and what it accepts
     * @throws TidewireException if the stream cannot be opened (a webhook port in use, the JVM
     *     shutting down)
     */
    public Stream open() {
      long[] out = new long[1];
      Native.check(TidewireNative.tw_config_create(out));
      long config = out[0];
      try {
        for (Setting setting : settings) {
          String key = setting.key();
          int err =
              TidewireNative.tw_config_set_value(
                  config,
                  key.getBytes(UTF_8),
                  setting.value(),
                  setting.kind(),
                  setting.typeName().getBytes(UTF_8));
          if (err != tw_err.TW_OK) {
            TidewireException error = Native.error(err);
            throw new ConfigException(error.getMessage(), error.code(), key);
          }
        }
        return new Stream(SharedRuntime.openStream(config));
      } finally {
        TidewireNative.tw_config_destroy(config);
      }
    }
  }
}
