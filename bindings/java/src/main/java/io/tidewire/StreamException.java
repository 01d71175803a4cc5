package io.tidewire;

/**
 * The stream ended with a fatal error: an HTTP status that cannot succeed (401, 404, ...), a
 * WebSocket close code that refuses a retry (1008, ...), a protocol or TLS failure, or {@code
 * reconnect.max_attempts} reached. Thrown by iteration and {@link Stream#next} once the events
 * received before the end have been read.
 */
public class StreamException extends TidewireException {
  private static final long serialVersionUID = 1L;

  private final String reason;
  private final int status;
  private final int closeCode;

  public StreamException(String reason, String code, int status, int closeCode) {
    super(describe(reason, code, status, closeCode), code);
    this.reason = reason;
    this.status = status;
    this.closeCode = closeCode;
  }

  /** The core's description of the failure. */
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

  private static String describe(String reason, String code, int status, int closeCode) {
    StringBuilder detail = new StringBuilder(code == null ? "" : code);
    if (status != 0) detail.append(detail.length() > 0 ? ", " : "").append("HTTP ").append(status);
    if (closeCode != 0)
      detail.append(detail.length() > 0 ? ", " : "").append("close code ").append(closeCode);
    return detail.length() == 0 ? reason : reason + " (" + detail + ")";
  }
}
