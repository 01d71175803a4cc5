package io.tidewire;

import java.util.Optional;

/**
 * A configuration the core refuses: an unknown key ({@code TW_ERR_UNKNOWN_KEY}) or a value the key
 * does not accept ({@code TW_ERR_INVALID_VALUE}). The message names the key and what it accepts.
 */
public class ConfigException extends TidewireException {
  private static final long serialVersionUID = 1L;

  private final String key;

  public ConfigException(String message, String code, String key) {
    super(message, code);
    this.key = key;
  }

  /**
   * The key that was refused, when one setting was; empty when the configuration as a whole was
   * (e.g. a {@code url} that does not suit the {@code transport}: the message then names the key).
   */
  public Optional<String> key() {
    return Optional.ofNullable(key);
  }
}
