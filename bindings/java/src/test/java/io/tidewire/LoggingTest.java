package io.tidewire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The core's log in System.Logger("tidewire") (java.util.logging here), and Stream.state(). */
@Timeout(60)
class LoggingTest {
  static Peer http;

  /** Keeps the records of the "tidewire" logger; waitFor() blocks until one matches. */
  static final class Collect extends Handler {
    final List<LogRecord> records = new ArrayList<>();

    @Override
    public synchronized void publish(LogRecord record) {
      records.add(record);
      notifyAll();
    }

    synchronized LogRecord waitFor(Predicate<String> matches) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      for (; ; ) {
        for (LogRecord r : records) if (matches.test(r.getMessage())) return r;
        long left = deadline - System.nanoTime();
        if (left <= 0) return null;
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    }

    synchronized List<String> messages(Predicate<String> matches) {
      List<String> out = new ArrayList<>();
      for (LogRecord r : records) if (matches.test(r.getMessage())) out.add(r.getMessage());
      return out;
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  }

  final Collect collect = new Collect();
  final Logger logger = Logger.getLogger("tidewire");

  @BeforeAll
  static void startPeers() throws Exception {
    http = Peer.start("http_peer.py");
  }

  @AfterAll
  static void stopPeers() throws Exception {
    http.close();
  }

  @BeforeEach
  void listen() {
    logger.addHandler(collect);
  }

  @AfterEach
  void stopListening() {
    logger.removeHandler(collect);
  }

  @Test
  void anUnreachableHostIsAWarningNamingTheCause() throws Exception {
    String url = "http://no-such-host.invalid/sse";
    try (Stream stream =
        Stream.builder(url)
            .transport(Transport.SSE)
            .option("reconnect.initial_ms", 20)
            .option("reconnect.max_ms", 80)
            .open()) {
      assertTrue(stream.next(Duration.ofMillis(50)).isEmpty());
      LogRecord record = collect.waitFor(m -> m.contains("(attempt 2)"));
      assertNotNull(record, "no warning");
      String cause = url + ": could not resolve host no-such-host.invalid (";
      assertEquals(Level.WARNING, record.getLevel());
      assertEquals("tidewire", record.getLoggerName());
      assertTrue(record.getMessage().startsWith(cause), record.getMessage());
      assertTrue(List.of("backoff", "connecting").contains(stream.state()), stream.state());
      assertTrue(stream.lastError().startsWith(cause), stream.lastError());
      assertTrue(stream.stats().get("attempts") >= 1);
    }
  }

  @Test
  void aNotFoundIsThrownOnceWithTheStatusSaidOnce() throws Exception {
    String url = http.http("/framework404?key=" + Peer.key("nf"));
    Stream stream = Stream.builder(url).transport(Transport.SSE).open();
    StreamException e = assertThrows(StreamException.class, () -> stream.forEach(event -> {}));
    String text = url.replaceAll("\\?.*", "?REDACTED") + " answered HTTP 404 Not Found";
    assertTrue(e.getMessage().startsWith(text), e.getMessage());
    assertNotNull(collect.waitFor(m -> m.contains(text)));
    assertEquals(List.of("stream ended: " + text), collect.messages(m -> m.contains(text)));
    assertEquals("ended", stream.state());
    assertEquals(text, stream.lastError());
    assertEquals(1L, stream.stats().get("attempts"));
    stream.close();
    assertEquals(text, stream.lastError());
  }

  @Test
  void anOpenStreamIsOpen() throws Exception {
    try (Stream stream =
        Stream.builder(http.http("/sse?count=1&hold=1&key=" + Peer.key("open")))
            .transport(Transport.SSE)
            .open()) {
      stream.next(Duration.ofSeconds(10)).orElseThrow();
      assertEquals("open", stream.state());
      assertEquals("", stream.lastError());
      assertEquals(0L, stream.stats().get("attempts"));
    }
  }

  private static String[] probe(String mode) throws IOException, InterruptedException {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process child =
        new ProcessBuilder(
                java.toString(),
                "-cp",
                System.getProperty("java.class.path"),
                LogProbe.class.getName(),
                mode)
            .start();
    CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(child.getInputStream()));
    CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(child.getErrorStream()));
    assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the probe did not exit");
    assertEquals(0, child.exitValue(), err.join());
    return new String[] {out.join(), err.join()};
  }

  private static String read(InputStream in) {
    try (ByteArrayOutputStream bytes = new ByteArrayOutputStream()) {
      in.transferTo(bytes);
      return bytes.toString(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new RuntimeException(e);
    }
  }

  @Test
  void nothingReachesStderrWhenALoggerHandlesTheRecords() throws Exception {
    String[] outErr = probe("handler");
    assertEquals("", outErr[1]);
    assertTrue(
        outErr[0].matches(
            "(?s)LOG WARNING http://127\\.0\\.0\\.1:\\d+/sse: could not connect to 127\\.0\\.0\\.1:\\d+:"
                + " connection refused; retrying in \\d+ ms \\(attempt 2\\)\n.*"),
        outErr[0]);
  }

  @Test
  void unconfiguredTheWarningReachesStderrOnceThroughJavaUtilLogging() throws Exception {
    String stderr = probe("default")[1];
    long lines = stderr.lines().filter(l -> l.contains("connection refused")).count();
    assertEquals(1, lines, stderr);
    // java.util.logging's console format: the record's level, then its message.
    assertTrue(stderr.contains("WARNING: http://127.0.0.1:"), stderr);
    assertTrue(!stderr.contains("tidewire warn:"), "the core's own stderr sink printed: " + stderr);
  }
}
