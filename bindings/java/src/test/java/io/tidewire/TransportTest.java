package io.tidewire;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Every transport against a real peer on 127.0.0.1, through the public API only. */
@Timeout(30)
class TransportTest {
  static Peer http;
  static Peer ws;

  @BeforeAll
  static void startPeers() throws Exception {
    http = Peer.start("http_peer.py");
    ws = Peer.start("ws_peer.py");
  }

  @AfterAll
  static void stopPeers() throws Exception {
    http.close();
    ws.close();
  }

  static Event next(Stream stream) throws InterruptedException {
    return stream
        .next(Duration.ofSeconds(10))
        .orElseThrow(() -> new AssertionError("no event within 10 s"));
  }

  @Test
  void pollDeliversEachChangeWithItsEtagAndResponseHeaders() throws Exception {
    String url = http.http("/poll/etag?changes_every=2&key=" + Peer.key("poll"));
    try (Stream stream =
        Stream.builder(url).transport(Transport.POLL).option("poll.interval_ms", 20).open()) {
      Event first = next(stream);
      Event second = next(stream);
      assertEquals(Kind.MESSAGE, first.kind());
      assertEquals(Transport.POLL, first.transport());
      assertEquals("change", first.type());
      assertEquals("\"v0\"", first.id());
      assertEquals("{\"version\":0}", first.text());
      assertEquals("\"v1\"", second.id());
      assertEquals("application/json", first.header("Content-Type").orElseThrow().split(";")[0]);
      assertEquals("\"v0\"", first.headers().get("etag"));
      // The unchanged answer in between was a 304 and no event.
      assertTrue(stream.stats().get("not_modified") >= 1, stream.stats().toString());
    }
  }

  @Test
  void longPollCarriesTheCursorFromAnswerToRequest() throws Exception {
    String url = http.http("/longpoll?publish_every_ms=50&key=" + Peer.key("longpoll"));
    try (Stream stream =
        Stream.builder(url)
            .transport(Transport.LONGPOLL)
            .option("longpoll.cursor_header", "X-Consul-Index")
            .option("longpoll.cursor_param", "index")
            .open()) {
      List<Long> cursors = new ArrayList<>();
      for (int i = 0; i < 3; i++) cursors.add(Long.parseLong(next(stream).id()));
      assertTrue(
          cursors.get(0) < cursors.get(1) && cursors.get(1) < cursors.get(2), cursors.toString());
    }
  }

  @Test
  void sseDeliversIdsTypesAndData() throws Exception {
    String url = http.http("/sse?count=3&hold=1&key=" + Peer.key("sse"));
    try (Stream stream = Stream.builder(url).transport(Transport.SSE).open()) {
      for (int i = 1; i <= 3; i++) {
        Event event = next(stream);
        assertEquals(Transport.SSE, event.transport());
        assertEquals(Integer.toString(i), event.id());
        assertEquals("message", event.type());
        assertEquals("{\"i\":" + i + "}", event.text());
        assertTrue(
            event.receivedNanos() <= System.nanoTime(), "received on the System.nanoTime() clock");
      }
    }
  }

  @Test
  void sseAnsweredWith204EndsTheIterationCleanly() throws Exception {
    String url = http.http("/sse/status?code=204&key=" + Peer.key("sse204"));
    try (Stream stream = Stream.builder(url).transport(Transport.SSE).open()) {
      int count = 0;
      for (Event ignored : stream) count++;
      assertEquals(0, count);
      assertTrue(stream.ended());
    }
  }

  @Test
  void statusEventsReportTheConnection() throws Exception {
    String url = http.http("/sse?count=1&hold=1&key=" + Peer.key("status"));
    try (Stream stream =
        Stream.builder(url).transport(Transport.SSE).option("status_events", true).open()) {
      assertEquals(Kind.OPEN, next(stream).kind());
      assertEquals(Kind.MESSAGE, next(stream).kind());
    }
  }

  @Test
  void webSocketSendsAndReceivesTextAndBinary() throws Exception {
    try (Stream stream = Stream.builder(ws.ws("/echo?key=" + Peer.key("echo"))).open()) {
      String text = "héllo ✓ 😀"; // outside the BMP: JNI's modified UTF-8 would mangle it
      stream.send(text);
      Event echoed = next(stream);
      assertEquals(Transport.WS, echoed.transport());
      assertEquals("text", echoed.type());
      assertEquals(text, echoed.text());
      assertArrayEquals(text.getBytes(UTF_8), echoed.data());

      byte[] bytes = {0, 1, 2, (byte) 0xff, 0};
      stream.send(bytes);
      Event binary = next(stream);
      assertEquals("binary", binary.type());
      assertArrayEquals(bytes, binary.data());
    }
  }

  @Test
  void webhookAcceptsASignedDeliveryAndRefusesAForgedOne() throws Exception {
    try (Stream stream =
        Stream.builder("http://127.0.0.1:0/hooks")
            .transport(Transport.WEBHOOK)
            .option("webhook.secret", Webhooks.SECRET)
            .open()) {
      assertTrue(stream.url().matches("http://127\\.0\\.0\\.1:[1-9][0-9]*/hooks"), stream.url());
      String body = "{\"type\":\"invoice.paid\",\"n\":1}";
      int status = Webhooks.deliver(stream.url(), Webhooks.SECRET, "msg_signed", body);
      assertTrue(status >= 200 && status < 300, "signed delivery answered " + status);
      Event event = next(stream);
      assertEquals(Transport.WEBHOOK, event.transport());
      assertEquals("msg_signed", event.id());
      assertEquals("invoice.paid", event.type());
      assertEquals(body, event.text());
      assertEquals("msg_signed", event.headers().get("webhook-id"));

      assertEquals(401, Webhooks.deliver(stream.url(), Webhooks.FORGED_SECRET, "msg_forged", body));
      assertTrue(stream.next(Duration.ofMillis(300)).isEmpty(), "a forged delivery is no event");
      assertEquals(1L, stream.stats().get("messages"));
    }
  }

  @Test
  void webhookAcceptsTheStandardWebhooksPackagesDeliveries() throws Exception {
    try (Stream stream =
        Stream.builder("http://127.0.0.1:0/hooks")
            .transport(Transport.WEBHOOK)
            .option("webhook.secret", Webhooks.SECRET)
            .open()) {
      Process sender =
          new ProcessBuilder(
                  Peer.PYTHON,
                  Peer.ROOT.resolve("tests/peers/webhook_sender.py").toString(),
                  stream.url(),
                  "--secret",
                  Webhooks.SECRET,
                  "--count",
                  "3",
                  "--forge-at",
                  "1")
              .redirectErrorStream(true)
              .start();
      String output = new String(sender.getInputStream().readAllBytes(), UTF_8);
      assertEquals(0, sender.waitFor(), output);
      assertTrue(output.contains("\"status\": 401"), output);
      assertEquals("msg_0", next(stream).id());
      assertEquals("msg_2", next(stream).id());
      assertFalse(stream.next(Duration.ofMillis(100)).isPresent());
    }
  }

  @Test
  void theJavaSignerMatchesTheStandardWebhooksVector() {
    assertEquals(
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        Webhooks.sign(
            Webhooks.SECRET,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            "{\"test\": 2432232314}".getBytes(UTF_8)));
  }
}
