package io.tidewire;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Loads libtidewire_jni.so, once per class loader, before the first native call.
 *
 * <p>The jar carries the library as a resource, {@code io/tidewire/native/linux-<arch>/}. It is
 * copied into a fresh private temporary directory (mode 0700), loaded, and deleted at once: the
 * mapping stays, nothing is left behind even if the JVM is killed, and {@code java.library.path}
 * plays no part. The system property {@code tidewire.library} (a path to a libtidewire_jni.so)
 * loads that file instead, e.g. the unstripped build for a debugger.
 */
final class NativeLibrary {
  static final String PROPERTY = "tidewire.library";
  private static final String NAME = "libtidewire_jni.so";
  private static boolean loaded;

  private NativeLibrary() {}

  static synchronized void load() {
    if (loaded) return;
    String explicit = System.getProperty(PROPERTY);
    if (explicit != null && !explicit.isEmpty()) {
      System.load(Path.of(explicit).toAbsolutePath().toString());
    } else {
      loadFromJar();
    }
    loaded = true;
  }

  /**
   * The resource path of the library for this platform, e.g. {@code
   * io/tidewire/native/linux-x86_64/}.
   */
  static String resource() {
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    if (arch.equals("amd64")) arch = "x86_64";
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).replace(" ", "");
    return "/io/tidewire/native/" + os + "-" + arch + "/" + NAME;
  }

  private static void loadFromJar() {
    String resource = resource();
    try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new UnsatisfiedLinkError(
            "the Tidewire jar has no native library for this platform ("
                + resource
                + "); build one "
                + "(see bindings/java) and name it with -D"
                + PROPERTY
                + "=/path/to/"
                + NAME);
      }
      Path dir = Files.createTempDirectory("tidewire-");
      Path file = dir.resolve(NAME);
      try {
        Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        System.load(file.toString());
      } finally {
        Files.deleteIfExists(file);
        Files.deleteIfExists(dir);
      }
    } catch (IOException e) {
      UnsatisfiedLinkError error = new UnsatisfiedLinkError("extracting " + resource + ": " + e);
      error.initCause(e);
      throw error;
    }
  }
}
