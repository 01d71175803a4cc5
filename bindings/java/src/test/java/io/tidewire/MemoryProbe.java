package io.tidewire;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A program for {@link LifecycleTest}: opens, uses and closes a WebSocket stream over and over, and
 * prints the resident size (kB) after a warm-up and after the measured cycles. Run in a JVM of its
 * own, interpreted, with a fixed pre-touched heap: the resident size then moves with native memory
 * only, not with JIT compilation or heap growth.
 *
 * <pre>{@code
 * java -Xint -Xms32m -Xmx32m -XX:+AlwaysPreTouch io.tidewire.MemoryProbe WS_URL WARMUP CYCLES
 * }</pre>
 */
public final class MemoryProbe {
  private MemoryProbe() {}

  static long rssKb() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
    }
    throw new IllegalStateException("no VmRSS in /proc/self/status");
  }

  static void cycles(String url, int n) throws Exception {
    for (int i = 0; i < n; i++) {
      try (Stream stream = Stream.builder(url).open()) {
        stream.send("x");
        if (!stream.next(Duration.ofSeconds(10)).orElseThrow().text().equals("x"))
          throw new AssertionError("bad echo");
      }
    }
  }

  public static void main(String[] args) throws Exception {
    String url = args[0];
    cycles(url, Integer.parseInt(args[1]));
    System.gc();
    long before = rssKb();
    cycles(url, Integer.parseInt(args[2]));
    System.gc();
    System.out.println(before + " " + rssKb());
  }
}
