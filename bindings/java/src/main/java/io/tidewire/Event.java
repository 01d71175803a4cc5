package io.tidewire;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One event of a stream: a message, or with {@code status_events=true} a status event (open,
 * reconnecting, error, closed). Immutable; the core's event is copied when the stream hands it
 * over, so an Event holds no native memory.
 */
public final class Event {
  private final Kind kind;
  private final Transport transport;
  private final String id;
  private final String type;
  private final byte[] data;
  private final Map<String, String> headers;
  private final long receivedNanos;
  private final String error;
  private final int status;
  private final int closeCode;
  private final long retryMillis;

  /** An event made from a batch's arrays (Batch.drainTo); err is a tw_err. */
  Event(
      Kind kind,
      Transport transport,
      String id,
      String type,
      byte[] data,
      Map<String, String> headers,
      long receivedNanos,
      int err,
      int status,
      int closeCode,
      long retryMillis) {
    this.kind = kind;
    this.transport = transport;
    this.id = id;
    this.type = type;
    this.data = data;
    this.headers = headers;
    this.receivedNanos = receivedNanos;
    boolean message = kind == Kind.MESSAGE;
    this.error = message || err == tw_err.TW_OK ? null : Native.errorName(err);
    this.status = message ? 0 : status;
    this.closeCode = message ? 0 : closeCode;
    this.retryMillis = message ? 0 : retryMillis;
  }

  /** {@link Kind#MESSAGE}, or with {@code status_events=true} a status kind. */
  public Kind kind() {
    return kind;
  }

  /** SSE id, poll ETag (or Last-Modified), long-poll cursor, webhook delivery id; "" when none. */
  public String id() {
    return id;
  }

  /**
   * SSE event name ("message" by default), "change" for poll and long-poll, "text" or "binary" for
   * WebSocket, the webhook's event type.
   */
  public String type() {
    return type;
  }

  /**
   * The payload, byte for byte as received (a copy). For error and reconnecting events, the reason.
   */
  public byte[] data() {
    return data.clone();
  }

  /** The payload decoded as UTF-8 (invalid bytes replaced by U+FFFD). */
  public String text() {
    return new String(data, UTF_8);
  }

  /**
   * Response (poll, long-poll) or request (webhook) headers, lower-case names, in arrival order.
   */
  public Map<String, String> headers() {
    return headers;
  }

  /** The value of header {@code name} (any case), if the event carries it. */
  public Optional<String> header(String name) {
    return Optional.ofNullable(headers.get(name.toLowerCase(Locale.ROOT)));
  }

  /** The transport that delivered it. */
  public Transport transport() {
    return transport;
  }

  /**
   * When the I/O thread received it, in nanoseconds of CLOCK_MONOTONIC, the clock of {@link
   * System#nanoTime()} on Linux: {@code System.nanoTime() - receivedNanos()} is the time the event
   * waited for the application.
   */
  public long receivedNanos() {
    return receivedNanos;
  }

  /** For error and reconnecting events, the error code's name ({@code "TW_ERR_HTTP_STATUS"}). */
  public Optional<String> error() {
    return Optional.ofNullable(error);
  }

  /** For error and reconnecting events: the HTTP status behind it, 0 if none. */
  public int status() {
    return status;
  }

  /** The WebSocket close code behind an error, reconnecting or closed event, 0 if none. */
  public int closeCode() {
    return closeCode;
  }

  /** For reconnecting events: the delay before the next attempt; zero otherwise. */
  public Duration retryIn() {
    return Duration.ofMillis(retryMillis);
  }

  @Override
  public String toString() {
    String text = text();
    if (text.length() > 60) text = text.substring(0, 60) + "...";
    return "Event[" + kind + " " + transport + " id=" + id + " type=" + type + " data=" + text
        + "]";
  }
}
