package io.tidewire;

import java.util.Locale;

/**
 * What an event is. Only {@link #MESSAGE} events arrive unless the stream was opened with {@code
 * status_events=true} (status kinds), {@code sse.comments=true} ({@link #COMMENT}) or {@code
 * reconnect.on_auth_failure=wait} ({@link #AUTH_REQUIRED}). {@link #toString()} is the name the core uses ({@code "message"}).
 */
public enum Kind {
  /** Data from the source. */
  MESSAGE(tw_kind.TW_KIND_MESSAGE),
  /** A connection was established. */
  OPEN(tw_kind.TW_KIND_OPEN),
  /** A connection failed; the stream retries in {@link Event#retryIn()}. */
  RECONNECTING(tw_kind.TW_KIND_RECONNECTING),
  /** The stream ended in failure (iteration then throws {@link StreamException}). */
  ERROR(tw_kind.TW_KIND_ERROR),
  /** The stream ended cleanly. */
  CLOSED(tw_kind.TW_KIND_CLOSED),
  /**
   * A 401/403 with {@code reconnect.on_auth_failure=wait}: the stream waits for {@link
   * Stream#setHeader} or {@link Stream#restart}. Always delivered; {@link Event#status()} tells
   * which status.
   */
  AUTH_REQUIRED(tw_kind.TW_KIND_AUTH_REQUIRED),
  /** An SSE comment line ({@code sse.comments=true}); the data is the text after the colon. */
  COMMENT(tw_kind.TW_KIND_COMMENT);

  // Indexed by the ABI's value: every event is looked up here, values() would copy the array.
  private static final Kind[] BY_VALUE = new Kind[values().length];

  static {
    for (Kind k : values()) BY_VALUE[k.value] = k;
  }

  private final int value;

  Kind(int value) {
    this.value = value;
  }

  static Kind fromNative(int value) {
    if (value >= 0 && value < BY_VALUE.length && BY_VALUE[value] != null) return BY_VALUE[value];
    throw new IllegalArgumentException("unknown tw_kind " + value);
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
