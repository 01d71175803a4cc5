package io.tidewire;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** Facts about the library: its version and its configuration keys. */
public final class Tidewire {
  private Tidewire() {}

  /** The core's version, "major.minor.patch" (tw_version_str). */
  public static String version() {
    return Native.text(TidewireNative.tw_version_str());
  }

  /** Every configuration key by name, in the table's order (tw_config_key_info). */
  public static Map<String, ConfigKey> configKeys() {
    Map<String, ConfigKey> keys = new LinkedHashMap<>();
    byte[][] name = new byte[1][],
        type = new byte[1][],
        def = new byte[1][],
        accepted = new byte[1][],
        doc = new byte[1][];
    for (long i = 0, n = TidewireNative.tw_config_key_count(); i < n; i++) {
      Native.check(TidewireNative.tw_config_key_info(name, type, def, accepted, doc, i));
      ConfigKey key =
          new ConfigKey(
              Native.text(name[0]),
              Native.text(type[0]),
              Native.text(def[0]),
              Native.text(accepted[0]),
              Native.text(doc[0]),
              Optional.ofNullable(TidewireNative.tw_config_key_alias(i)).map(Native::text));
      keys.put(key.name(), key);
    }
    return Collections.unmodifiableMap(keys);
  }

  /**
   * {@code java -jar tidewire-<version>.jar} prints the version: a check that the jar loads its
   * library.
   */
  public static void main(String[] args) {
    System.out.println("tidewire " + version());
  }
}
