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
  WEBHOOK(tw_transport.TW_TRANSPORT_WEBHOOK),
  /** MCP Streamable HTTP: {@link Stream#send(String)} posts JSON-RPC messages, each one received is an event. */
  MCP(tw_transport.TW_TRANSPORT_MCP),
  /** A consumer group on a Redis Stream (scale-out workers). */
  REDIS(tw_transport.TW_TRANSPORT_REDIS);

  // Indexed by the ABI's value: every event is looked up here, values() would copy the array.
  private static final Transport[] BY_VALUE = new Transport[values().length];

  static {
    for (Transport t : values()) BY_VALUE[t.value] = t;
  }

  private final int value;

  Transport(int value) {
    this.value = value;
  }

  /** The transport named as the core names it ({@code "sse"}), any case. */
  public static Transport of(String name) {
    return valueOf(name.toUpperCase(Locale.ROOT));
  }

  static Transport fromNative(int value) {
    if (value >= 0 && value < BY_VALUE.length && BY_VALUE[value] != null) return BY_VALUE[value];
    throw new IllegalArgumentException("unknown tw_transport " + value);
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
