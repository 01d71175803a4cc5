package io.tidewire;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URLDecoder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** POST streams, end markers, comments, restart, setHeader and AUTH_REQUIRED against the peer. */
@Timeout(30)
class ControlTest {
  static Peer http;

  @BeforeAll
  static void startPeer() throws Exception {
    http = Peer.start("http_peer.py");
  }

  @AfterAll
  static void stopPeer() throws Exception {
    http.close();
  }

  static Event next(Stream stream) throws InterruptedException {
    return stream
        .next(Duration.ofSeconds(10))
        .orElseThrow(() -> new AssertionError("no event within 10 s"));
  }

  /** The peer's request log for key: one map per request ("method", "body" in hex, headers). */
  static List<Map<String, String>> log(String key) throws Exception {
    List<Map<String, String>> entries = new ArrayList<>();
    for (String line : http.get("/_log?key=" + key).split("\n")) {
      if (line.isEmpty()) continue;
      Map<String, String> entry = new HashMap<>();
      for (String field : line.split(";")) {
        int eq = field.indexOf('=');
        if (eq > 0)
          entry.put(
              field.substring(0, eq),
              URLDecoder.decode(field.substring(eq + 1).replace("+", "%2B"), UTF_8));
      }
      entries.add(entry);
    }
    return entries;
  }

  static List<Map<String, String>> logOfSize(String key, int size) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    List<Map<String, String>> entries = log(key);
    while (entries.size() < size && System.nanoTime() < deadline) {
      Thread.sleep(5);
      entries = log(key);
    }
    return entries;
  }

  @Test
  void postStreamSendsTheBodyAndEndsCleanlyOnDone() throws Exception {
    String key = Peer.key("post");
    byte[] body = {'{', 0, '}', (byte) 0xff};
    try (Stream stream =
        Stream.builder(http.http("/sse/post?count=2&end=done&hold=1&key=" + key))
            .transport(Transport.SSE)
            .method("POST")
            .body(body)
            .option("sse.end_data", "[DONE]")
            .open()) {
      List<String> data = new ArrayList<>();
      for (Event event : stream) data.add(event.text());
      assertEquals(List.of("{\"i\":1}", "{\"i\":2}"), data);
    }
    List<Map<String, String>> log = log(key);
    assertEquals(1, log.size());
    assertEquals("POST", log.get(0).get("method"));
    assertEquals(HexFormat.of().formatHex(body), log.get(0).get("body"));
    assertEquals("application/json", log.get(0).get("content-type"));
  }

  @Test
  void postCutWithoutIdsThrowsNotResumableAfterOnePost() throws Exception {
    String key = Peer.key("cut");
    try (Stream stream =
        Stream.builder(http.http("/sse/post?count=3&cut_after=1&key=" + key))
            .transport(Transport.SSE)
            .method("POST")
            .body("{}")
            .open()) {
      assertEquals(Kind.MESSAGE, next(stream).kind());
      StreamException e = assertThrows(StreamException.class, () -> stream.forEach(x -> {}));
      assertTrue(e.getMessage().contains("cut, not resumable"), e.getMessage());
    }
    assertEquals(1, log(key).size());
  }

  @Test
  void endEventAndCommentsAreDelivered() throws Exception {
    String key = Peer.key("stop");
    try (Stream stream =
        Stream.builder(http.http("/sse/post?count=1&end=stop&comments=1&hold=1&key=" + key))
            .transport(Transport.SSE)
            .option("sse.end_event", "message_stop")
            .option("sse.comments", true)
            .open()) {
      List<Kind> kinds = new ArrayList<>();
      List<String> types = new ArrayList<>();
      for (Event event : stream) {
        kinds.add(event.kind());
        types.add(event.type());
      }
      assertEquals(List.of(Kind.COMMENT, Kind.MESSAGE, Kind.MESSAGE), kinds);
      assertEquals("message_stop", types.get(2));
      assertEquals(1L, stream.stats().get("comments"));
    }
  }

  @Test
  void restartResumesAtOnceAndSetHeaderApplies() throws Exception {
    String key = Peer.key("restart");
    try (Stream stream =
        Stream.builder(http.http("/sse?count=2&hold=1&key=" + key))
            .transport(Transport.SSE)
            .header("X-Test", "one")
            .option("reconnect.initial_ms", 30000)
            .open()) {
      next(stream);
      next(stream);
      stream.setHeader("X-Test", "two");
      stream.restart();
      List<Map<String, String>> log = logOfSize(key, 2);
      assertEquals(2, log.size());
      assertEquals("one", log.get(0).get("x-test"));
      assertEquals("two", log.get(1).get("x-test"));
      assertEquals("2", log.get(1).get("last-event-id"));
      ConfigException bad =
          assertThrows(ConfigException.class, () -> stream.setHeader("X", "s3cret\r\n"));
      assertTrue(!bad.getMessage().contains("s3cret"), bad.getMessage());
    }
  }

  @Test
  void authRequiredThenSetHeaderFromAnotherThreadGoesOnWithoutLoss() throws Exception {
    String key = Peer.key("token");
    try (Stream stream =
        Stream.builder(
                http.http("/sse/token?count=4&cut_every=2&old=old&new=new&old_uses=1&key=" + key))
            .transport(Transport.SSE)
            .header("Authorization", "Bearer old")
            .option("reconnect.on_auth_failure", "wait")
            .option("reconnect.initial_ms", 10)
            .option("reconnect.max_ms", 50)
            .open()) {
      List<String> ids = new ArrayList<>();
      int authRequired = 0;
      while (ids.size() < 4) {
        Event event = next(stream);
        if (event.kind() == Kind.AUTH_REQUIRED) {
          authRequired++;
          assertEquals(401, event.status());
          Thread rotator = new Thread(() -> stream.setHeader("Authorization", "Bearer new"));
          rotator.start();
          rotator.join();
        } else {
          ids.add(event.id());
        }
      }
      assertEquals(1, authRequired);
      assertEquals(List.of("1", "2", "3", "4"), ids);
    }
  }
}
