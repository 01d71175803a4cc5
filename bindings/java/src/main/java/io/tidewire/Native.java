package io.tidewire;

import static java.nio.charset.StandardCharsets.UTF_8;

/** Small conversions shared by the façade: text across JNI, and tw_err into exceptions. */
final class Native {
  private Native() {}

  /** Text from the core or the wire: UTF-8, invalid bytes replaced by U+FFFD; null is "". */
  static String text(byte[] bytes) {
    return bytes == null ? "" : new String(bytes, UTF_8);
  }

  static String errorName(int err) {
    return text(TidewireNative.tw_err_name(err));
  }

  /**
   * The exception for a failed call, with the detail the core left for this thread. Call it right
   * after the failing call, on the same thread.
   */
  static TidewireException error(int err) {
    String message = text(TidewireNative.tw_last_error_message());
    if (message.isEmpty()) message = text(TidewireNative.tw_err_str(err));
    if (err == tw_err.TW_ERR_UNKNOWN_KEY || err == tw_err.TW_ERR_INVALID_VALUE) {
      return new ConfigException(message, errorName(err), null);
    }
    return new TidewireException(message, errorName(err));
  }

  static void check(int err) {
    if (err != tw_err.TW_OK) throw error(err);
  }
}
