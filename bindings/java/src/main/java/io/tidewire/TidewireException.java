package io.tidewire;

/**
 * Any error that Tidewire reports.
 *
 * <p>{@link #code()} is the name of the core's error code ({@code "TW_ERR_UNSUPPORTED"}), {@link
 * #category()} its class, the message the core's text. {@link ConfigException} and {@link StreamException} are the two kinds a
 * program usually tells apart.
 */
public class TidewireException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String code;

  public TidewireException(String message, String code) {
    super(message);
    this.code = code;
  }

  public TidewireException(String message, String code, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  /** The core's error code name, e.g. {@code "TW_ERR_WOULD_BLOCK"}. */
  public String code() {
    return code;
  }

  /**
   * The core's category of the code (tw_err_category): "config", "usage", "network", "http",
   * "tls", "protocol", "limit", "busy", "closed", "wait", "resource", "internal"; "unknown" when
   * the code is none of the core's. See docs/errors.md.
   */
  public String category() {
    return Native.categoryOf(code);
  }
}
