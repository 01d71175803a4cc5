package io.tidewire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Configuration errors, fatal ends and refused operations, each with the core's code and words. */
@Timeout(30)
class ErrorTest {
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

  /** The ConfigException that opening an SSE stream with these settings ends in. */
  private static ConfigException refused(UnaryOperator<Stream.Builder> settings) {
    return assertThrows(
        ConfigException.class,
        () -> settings.apply(Stream.builder(http.http("/sse")).transport(Transport.SSE)).open());
  }

  @Test
  void anUnknownKeyIsAConfigExceptionWithTheCoresSuggestion() {
    ConfigException e =
        refused(builder -> builder.option("reconect.max_ms", 5));
    assertEquals("TW_ERR_UNKNOWN_KEY", e.code());
    assertEquals("config", e.category());
    assertEquals("reconect.max_ms", e.key().orElseThrow());
    assertEquals("unknown key 'reconect.max_ms'; did you mean 'reconnect.max_ms'?", e.getMessage());
  }

  @Test
  void aKeyIsAcceptedUnderItsAliasAndGivenTwiceIsRefusedNamingBothSpellings() throws Exception {
    try (Stream stream =
        Stream.builder(http.http("/sse")).transport(Transport.SSE).option("reconnect_max_ms", 50).open()) {
      assertEquals("reconnect_max_ms", Tidewire.configKeys().get("reconnect.max_ms").alias().orElseThrow());
      assertTrue(Tidewire.configKeys().get("header.<Name>").alias().isEmpty());
    }
    ConfigException e =
        refused(builder -> builder.option("reconnect_max_ms", 50).option("reconnect.max_ms", 60));
    assertEquals("TW_ERR_INVALID_VALUE", e.code());
    assertEquals(
        "key 'reconnect.max_ms' given twice (as reconnect_max_ms and reconnect.max_ms)", e.getMessage());
    ConfigException same =
        refused(builder -> builder.option("poll.interval_ms", 50).option("poll.interval_ms", 50));
    assertEquals("key 'poll.interval_ms' given twice (as poll.interval_ms and poll.interval_ms)", same.getMessage());
  }

  @Test
  void aRefusedValueNamesTheKeyAndWhatItAccepts() {
    ConfigException e =
        refused(builder -> builder.option("reconnect.max_ms", -5));
    assertEquals("TW_ERR_INVALID_VALUE", e.code());
    assertEquals("reconnect.max_ms", e.key().orElseThrow());
    assertTrue(
        e.getMessage().contains("reconnect.max_ms") && e.getMessage().contains("0..86400000"),
        e.getMessage());
  }

  @Test
  void aValueHoldingANulIsRefusedByTheCoreWithoutQuotingIt() {
    ConfigException e =
        refused(builder -> builder.header("Authorization", "Bearer s3cret\0tail"));
    assertEquals("TW_ERR_INVALID_VALUE", e.code());
    assertEquals("header.Authorization", e.key().orElseThrow());
    assertTrue(e.getMessage().contains("NUL"), e.getMessage());
    assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
  }

  @Test
  void aUrlThatDoesNotSuitTheTransportIsRefusedAtOpen() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> Stream.builder(ws.ws("/echo")).transport(Transport.SSE).open());
    assertEquals("TW_ERR_INVALID_VALUE", e.code());
    assertTrue(e.key().isEmpty());
    assertTrue(e.getMessage().startsWith("url"), e.getMessage());
  }

  @Test
  void optionMapsTakeStringsNumbersBooleansAndLists() throws Exception {
    Map<String, Object> options =
        Map.of(
            "reconnect.max_ms",
            2000,
            "status_events",
            true,
            "ws.subprotocols",
            List.of("chat.v2", "chat.v1"));
    try (Stream stream =
        Stream.builder(ws.ws("/subproto?key=" + Peer.key("subproto"))).options(options).open()) {
      assertEquals(Kind.OPEN, stream.next(Duration.ofSeconds(10)).orElseThrow().kind());
      assertEquals("chat.v2", stream.next(Duration.ofSeconds(10)).orElseThrow().text());
    }
    // Values go as Java prints them; the core reads 2000.0 as 2000, "30s" as 30000, and refuses 2.5.
    try (Stream stream =
        Stream.builder(http.http("/sse"))
            .transport(Transport.SSE)
            .options(Map.of("reconnect.max_ms", 2000.0, "read_timeout_ms", "30s"))
            .open()) {
      assertFalse(stream.ended());
    }
    ConfigException e =
        refused(builder -> builder.options(Map.of("reconnect.max_ms", 2.5)));
    assertEquals("reconnect.max_ms", e.key().orElseThrow());
    assertTrue(e.getMessage().contains("\"2.5\""), e.getMessage());
  }

  @Test
  void aCollectionForAKeyThatIsNoListOrAMapIsRefusedNamingTheKeyAndTheTypeNotTheValue() {
    // Stored as Java prints it, List.of("a", "b") would be the end-of-stream data "[a, b]".
    ConfigException e = refused(builder -> builder.options(Map.of("sse.end_data", List.of("a", "b"))));
    assertEquals("TW_ERR_INVALID_VALUE", e.code());
    assertEquals("sse.end_data", e.key().orElseThrow());
    assertEquals(
        "invalid value for sse.end_data: a value of type List is not accepted; "
            + "expected any text without CR or LF (empty = none)",
        e.getMessage());
    // Under its alias too, and for keys of every type; a Map, an array or another object for any key.
    Map<Object, String> given =
        Map.of(
            Map.of("op", "s3cret"), "Map",
            Set.of("s3cret"), "Set", // a list key too: a set's order is not defined
            new String[] {"s3cret"}, "String[]",
            Duration.ofSeconds(1), "Duration");
    List<String> noLists =
        List.of("sse_end_data", "reconnect.max_ms", "status_events", "webhook.secret", "header.X-Token");
    for (String key : noLists) {
      for (Object list : List.of(List.of("s3cret"), Set.of("s3cret"))) {
        ConfigException e2 = refused(builder -> builder.options(Map.of(key, list)));
        String type = list instanceof Set<?> ? "Set" : "List";
        assertTrue(
            e2.getMessage().contains(": a value of type " + type + " is not accepted; expected "), e2.getMessage());
        assertFalse(e2.getMessage().contains("s3cret"), e2.getMessage());
      }
    }
    given.forEach(
        (value, type) -> {
          for (String key : List.of("sse.end_data", "ws.subprotocols", "header.X-Token")) {
            ConfigException other = refused(builder -> builder.options(Map.of(key, value)));
            assertEquals("TW_ERR_INVALID_VALUE", other.code());
            assertTrue(
                other
                    .getMessage()
                    .startsWith("invalid value for " + key + ": a value of type " + type + " is not accepted"),
                other.getMessage());
            assertFalse(other.getMessage().contains("s3cret"), other.getMessage());
          }
        });
    // An unknown key is named by the core, whatever its value.
    ConfigException unknown = refused(builder -> builder.options(Map.of("ws.subprotocol", List.of("a"))));
    assertEquals("TW_ERR_UNKNOWN_KEY", unknown.code());
  }

  @Test
  void aNulCharacterCannotReachTheCore() {
    ConfigException e =
        refused(builder -> builder.header("X-Test", "a\0b"));
    assertEquals("header.X-Test", e.key().orElseThrow());
  }

  @Test
  void setHeaderHandsANulToTheCoreWhichRefusesItWithoutShowingTheValue() throws Exception {
    try (Stream stream = Stream.builder(http.http("/sse")).transport(Transport.SSE).open()) {
      ConfigException e =
          assertThrows(ConfigException.class, () -> stream.setHeader("Authorization", "s3cret\0tail"));
      assertEquals("header.Authorization", e.key().orElseThrow());
      assertTrue(e.getMessage().contains("header.Authorization"), e.getMessage());
      assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
      assertEquals("config", e.category());
    }
  }

  @Test
  void http401EndsTheStreamWithAStreamException() throws Exception {
    try (Stream stream =
        Stream.builder(http.http("/sse/status?code=401&key=" + Peer.key("401")))
            .transport(Transport.SSE)
            .open()) {
      StreamException e =
          assertThrows(
              StreamException.class,
              () -> {
                for (Event ignored : stream) {
                  // no event comes
                }
              });
      assertEquals("TW_ERR_HTTP_STATUS", e.code());
      assertEquals("http", e.category());
      assertEquals(401, e.status());
      // The core's one text: the reason, then the code and what the reason does not say, once.
      assertTrue(e.getMessage().startsWith(e.reason() + " (TW_ERR_HTTP_STATUS"), e.getMessage());
      assertEquals(1, e.getMessage().split("HTTP 401", -1).length - 1, e.getMessage());
      // The end stays the same for every later read.
      assertThrows(StreamException.class, () -> stream.next(Duration.ZERO));
      assertTrue(stream.ended());
    }
  }

  @Test
  void aRefusingCloseCodeEndsTheStreamWithIt() throws Exception {
    try (Stream stream =
        Stream.builder(ws.ws("/close?code=1008&after=1&reason=nope&key=" + Peer.key("1008")))
            .open()) {
      assertEquals("{\"i\":1}", stream.next(Duration.ofSeconds(10)).orElseThrow().text());
      StreamException e =
          assertThrows(StreamException.class, () -> stream.next(Duration.ofSeconds(10)));
      assertEquals(1008, e.closeCode());
      assertTrue(e.reason().contains("nope"), e.reason());
    }
  }

  @Test
  void aCleanEndIsNoSuchElementForNext() throws Exception {
    try (Stream stream =
        Stream.builder(ws.ws("/close?code=1000&after=0&key=" + Peer.key("1000"))).open()) {
      assertThrows(NoSuchElementException.class, () -> stream.next(Duration.ofSeconds(10)));
    }
  }

  @Test
  void sendIsForWebSocketsOnly() throws Exception {
    try (Stream stream =
        Stream.builder(http.http("/sse?hold=1&count=0&key=" + Peer.key("send")))
            .transport(Transport.SSE)
            .open()) {
      TidewireException e = assertThrows(TidewireException.class, () -> stream.send("x"));
      assertEquals("TW_ERR_UNSUPPORTED", e.code());
    }
  }

  @Test
  void sendAfterCloseIsRefused() throws Exception {
    Stream stream = Stream.builder(ws.ws("/echo?key=" + Peer.key("closed"))).open();
    stream.close();
    assertEquals(
        "TW_ERR_CLOSED", assertThrows(TidewireException.class, () -> stream.send("late")).code());
  }

  @Test
  void aWebhookPortInUseFailsTheOpen() throws Exception {
    try (Stream first =
        Stream.builder("http://127.0.0.1:0/hooks")
            .transport(Transport.WEBHOOK)
            .option("webhook.secret", Webhooks.SECRET)
            .open()) {
      TidewireException e =
          assertThrows(
              TidewireException.class,
              () ->
                  Stream.builder(first.url())
                      .transport(Transport.WEBHOOK)
                      .option("webhook.secret", Webhooks.SECRET)
                      .open());
      assertEquals("TW_ERR_IO", e.code());
    }
  }
}
