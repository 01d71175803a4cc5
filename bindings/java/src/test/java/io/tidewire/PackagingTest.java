package io.tidewire;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What the jar is: its version, its key table, where its native library comes from, what that
 * exports.
 */
@Timeout(30)
class PackagingTest {
  @Test
  void theVersionIsTheCoresAndThePackagesAlike() {
    assertEquals(System.getProperty("tidewire.version"), Tidewire.version());
  }

  @Test
  void theKeyTableDescribesEveryKey() {
    Map<String, ConfigKey> keys = Tidewire.configKeys();
    assertTrue(keys.size() > 40, keys.keySet().toString());
    ConfigKey max = keys.get("reconnect.max_ms");
    assertEquals("int", max.type());
    assertEquals("30000", max.defaultValue());
    assertEquals("map", keys.get("header.<Name>").type());
    assertTrue(keys.get("transport").accepted().contains("webhook"));
  }

  @Test
  void theNativeLibraryComesFromTheJarNotFromJavaLibraryPath() throws Exception {
    assertNull(System.getProperty(NativeLibrary.PROPERTY));
    assertNotNull(Tidewire.version()); // loaded by now
    List<String> mapped =
        Files.readAllLines(Path.of("/proc/self/maps")).stream()
            .filter(line -> line.contains("libtidewire_jni.so"))
            .collect(Collectors.toList());
    assertTrue(!mapped.isEmpty(), "libtidewire_jni.so is not mapped");
    for (String line : mapped) {
      // Extracted into a private temporary directory and deleted once loaded.
      assertTrue(line.matches(".*/tidewire-[^/]+/libtidewire_jni\\.so \\(deleted\\)$"), line);
    }
  }

  @Test
  void theJniLibraryExportsOnlyItsEntryPointsAndTheAbi() throws Exception {
    Path library = Path.of(PackagingTest.class.getResource(NativeLibrary.resource()).toURI());
    Process nm =
        new ProcessBuilder("nm", "-D", "--defined-only", library.toString())
            .redirectErrorStream(true)
            .start();
    List<String> names =
        new String(nm.getInputStream().readAllBytes(), UTF_8)
            .lines()
            .map(line -> line.substring(line.lastIndexOf(' ') + 1))
            .collect(Collectors.toList());
    assertEquals(0, nm.waitFor(), names.toString());
    List<String> foreign =
        names.stream()
            .filter(name -> !name.startsWith("Java_io_tidewire_") && !name.startsWith("tw_"))
            .collect(Collectors.toList());
    assertEquals(List.of(), foreign);
    assertTrue(
        names.stream().filter(name -> name.startsWith("tw_")).count() > 40, names.toString());
    assertTrue(
        names.stream().filter(name -> name.startsWith("Java_")).count() > 40, names.toString());
  }
}
