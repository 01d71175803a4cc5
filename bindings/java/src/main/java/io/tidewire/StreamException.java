package io.tidewire;

/**
 * The stream ended with a fatal error: an HTTP status that cannot succeed (401, 404, ...), a
 * WebSocket close code that refuses a retry (1008, ...), a protocol or TLS failure, or {@code
 * reconnect.max_attempts} reached. Thrown by iteration and {@link Stream#next} once the events
 * received before the end have been read.
 *
 * <p>The message is the core's one text of the failure, the same in every language: {@code
 * "<reason> (TW_ERR_HTTP_STATUS, HTTP 401)"} (docs/errors.md).
 */
public class StreamException extends TidewireException {
  private static final long serialVersionUID = 1L;

  private final String reason;
  private final int status;
  private final int closeCode;

  public StreamException(String message, String code, String reason, int status, int closeCode) {
    super(message, code);
    this.reason = reason;
    this.status = status;
    this.closeCode = closeCode;
  }

  /** The core's description of the failure alone, without the code, status or close code. */
  public String reason() {
    return reason;
  }

  /** The HTTP status behind the failure, 0 if none. */
  public int status() {
    return status;
  }

  /** The WebSocket close code behind the failure, 0 if none. */
  public int closeCode() {
    return closeCode;
  }
}
