package io.tidewire;

import static java.nio.charset.StandardCharsets.UTF_8;

/**
 * Small conversions shared by the façade: text across JNI, and tw_err into exceptions. The texts
 * and the classification are the core's (tw_last_error_message, tw_err_category,
 * tw_event_error_message); nothing here composes one.
 */
final class Native {
  private Native() {}

  /** Text from the core or the wire: UTF-8, invalid bytes replaced by U+FFFD; null is "". */
  static String text(byte[] bytes) {
    return bytes == null ? "" : new String(bytes, UTF_8);
  }

  static String errorName(int err) {
    return text(TidewireNative.tw_err_name(err));
  }

  /** The core's category of a code name ("config", "network", ...), or "unknown". */
  static String categoryOf(String code) {
    if (code != null) {
      for (int err = tw_err.TW_OK; err >= tw_err.TW_ERR_INTERNAL; err--) {
        if (errorName(err).equals(code)) return text(TidewireNative.tw_err_category(err));
      }
    }
    return "unknown";
  }

  /**
   * The exception for a failed call, with the detail the core left for this thread. Call it right
   * after the failing call, on the same thread.
   */
  static TidewireException error(int err) {
    String message = text(TidewireNative.tw_last_error_message());
    return error(err, message.isEmpty() ? text(TidewireNative.tw_err_str(err)) : message);
  }

  /** The exception for code {@code err} with {@code message}: a ConfigException for "config". */
  static TidewireException error(int err, String message) {
    if (text(TidewireNative.tw_err_category(err)).equals("config")) {
      return new ConfigException(message, errorName(err), null);
    }
    return new TidewireException(message, errorName(err));
  }

  static void check(int err) {
    if (err != tw_err.TW_OK) throw error(err);
  }

  /**
   * Why the stream ended, as a StreamException with the core's text of its failure event; null if
   * it ended cleanly (or has not ended).
   */
  static StreamException failure(long stream) {
    long[] out = new long[1];
    check(TidewireNative.tw_stream_failure(out, stream));
    long event = out[0];
    if (event == 0) return null;
    try {
      byte[][] message = new byte[1][];
      check(TidewireNative.tw_event_error_message(message, event));
      return new StreamException(
          text(message[0]),
          errorName(TidewireNative.tw_event_error(event)),
          text(TidewireNative.tw_event_data(event)),
          TidewireNative.tw_event_http_status(event),
          TidewireNative.tw_event_close_code(event));
    } finally {
      TidewireNative.tw_event_destroy(event);
    }
  }
}
