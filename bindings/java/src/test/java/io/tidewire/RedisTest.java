package io.tidewire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The redis transport against a real redis-server: entries as events, and ack(). */
@Timeout(60)
class RedisTest {
  Process redis;
  int port;
  Path dir;

  /** Runs redis-cli against the server; its raw output, trimmed. */
  String cli(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("redis-cli", "-p", Integer.toString(port), "--raw"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertTrue(p.waitFor(10, TimeUnit.SECONDS));
    return out;
  }

  long pending() throws Exception {
    return Long.parseLong(cli("XPENDING", "jobs", "workers").split("\n")[0]);
  }

  boolean eventually(java.util.concurrent.Callable<Boolean> condition) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.call()) return true;
      Thread.sleep(10);
    }
    return condition.call();
  }

  @BeforeEach
  void startRedis() throws Exception {
    dir = Files.createTempDirectory("tidewire-redis-");
    // A port found free may be taken before redis-server binds it: try again on another.
    for (int tries = 0; tries < 5; tries++) {
      try (ServerSocket probe = new ServerSocket(0)) {
        port = probe.getLocalPort();
      }
      redis =
          new ProcessBuilder(
                  "redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                  "--dir", dir.toString(), "--save", "", "--appendonly", "no")
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .redirectErrorStream(true)
              .start();
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (System.nanoTime() < deadline && redis.isAlive()) {
        if (cli("PING").equals("PONG")) return;
        Thread.sleep(20);
      }
      redis.destroyForcibly().waitFor();
    }
    throw new IOException("redis-server did not start");
  }

  @AfterEach
  void stopRedis() throws Exception {
    redis.destroyForcibly().waitFor();
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Test
  void workerReadsEntriesAndAcknowledgesThemByHand() throws Exception {
    String first = cli("XADD", "jobs", "*", "id", "src-1", "type", "job", "data", "payload-1");
    cli("XADD", "jobs", "*", "type", "job", "data", "payload-2");
    try (Stream stream =
        Stream.builder("redis://127.0.0.1:" + port + "/0?stream=jobs&group=workers&consumer=java")
            .option("redis.ack", "manual")
            .open()) {
      Event a = stream.next(Duration.ofSeconds(10)).orElseThrow();
      Event b = stream.next(Duration.ofSeconds(10)).orElseThrow();
      assertEquals(Transport.REDIS, a.transport());
      assertEquals(first, a.id());
      assertEquals("job", a.type());
      assertEquals("payload-1", a.text());
      assertEquals("src-1", a.headers().get("id"));
      assertEquals("payload-2", b.text());
      assertEquals(2, pending());
      stream.ack(a);
      assertTrue(eventually(() -> pending() == 1));
      stream.ack(b);
      assertTrue(eventually(() -> pending() == 0));
    }
  }

  @Test
  void ackOnAnotherTransportIsRefused() throws Exception {
    cli("XADD", "jobs", "*", "data", "x");
    Event event;
    try (Stream worker =
        Stream.builder("redis://127.0.0.1:" + port + "/0?stream=jobs&group=workers").open()) {
      event = worker.next(Duration.ofSeconds(10)).orElseThrow();
    }
    try (Stream hook =
        Stream.builder("http://127.0.0.1:0/hooks")
            .transport(Transport.WEBHOOK)
            .option("webhook.scheme", "none")
            .open()) {
      TidewireException e = assertThrows(TidewireException.class, () -> hook.ack(event));
      assertEquals("TW_ERR_UNSUPPORTED", e.code());
    }
  }
}
