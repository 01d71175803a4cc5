package io.tidewire;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The README's Java quick start, run as written (java's source launcher) against the demo feed
 * started as the README starts it: tests/docs/quickstart.py takes both from README.md word for word
 * (the port aside) and checks the 20 ticks in order.
 */
@Timeout(120)
class ReadmeTest {
  @Test
  void javaQuickStartReadsTheDemoFeedAsWritten() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String classes = Path.of(ExamplesTest.CLASSES).toAbsolutePath().toString();
    Process process =
        new ProcessBuilder(
                Peer.PYTHON,
                Peer.ROOT.resolve("tests/docs/quickstart.py").toString(),
                "java",
                "--java",
                java,
                "--classpath",
                classes)
            .redirectErrorStream(true)
            .start();
    process.getOutputStream().close();
    String output = new String(process.getInputStream().readAllBytes(), UTF_8);
    assertTrue(process.waitFor(10, TimeUnit.SECONDS), output);
    assertEquals(0, process.exitValue(), output);
    assertTrue(output.contains("Java: ") && output.contains("20 ticks in order, exit 0"), output);
  }
}
