package io.tidewire;

import java.util.Locale;

/**
 * How a stream reaches its source. {@link #toString()} is the name the core uses ({@code "sse"}).
 */
public enum Transport {
  /** Repeated HTTP GETs with conditional requests; a changed response is an event. */
  POLL(tw_transport.TW_TRANSPORT_POLL),
  /** A held HTTP request that answers when data exists; a cursor is carried forward. */
  LONGPOLL(tw_transport.TW_TRANSPORT_LONGPOLL),
  /** A Server-Sent Events response. */
  SSE(tw_transport.TW_TRANSPORT_SSE),
  /** A WebSocket: messages in, messages out. */
  WS(tw_transport.TW_TRANSPORT_WS),
  /** An embedded HTTP endpoint that receives signed POSTs. */
  WEBHOOK(tw_transport.TW_TRANSPORT_WEBHOOK);

  private final int value;

  Transport(int value) {
    this.value = value;
  }

  /** The transport named as the core names it ({@code "sse"}), any case. */
  public static Transport of(String name) {
    return valueOf(name.toUpperCase(Locale.ROOT));
  }

  static Transport fromNative(int value) {
    for (Transport t : values()) if (t.value == value) return t;
    throw new IllegalArgumentException("unknown tw_transport " + value);
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
