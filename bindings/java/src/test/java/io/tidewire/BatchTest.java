package io.tidewire;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The receive path: events cross from the core in batches of up to Batch.CAPACITY (one JNI call
 * each) and come out one by one, exact, in order, none lost or repeated, whichever way they are read.
 */
@Timeout(30)
class BatchTest {
  static Peer http;
  static Peer ws;

  private static final Pattern INDEX = Pattern.compile("^\\{\"i\":(\\d+)");

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

  /**
   * Waits until the core has received {@code count} messages: they then wait in its queue, and the
   * next read takes them in as few batches as the capacity allows. A counter, not an event, so it is
   * polled.
   */
  static void awaitReceived(Stream stream, long count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (stream.stats().get("messages") < count) {
      assertTrue(System.nanoTime() < deadline, "received " + stream.stats());
      Thread.sleep(5);
    }
  }

  /** k of a ws_peer text message {"i":k,...}. */
  static int index(Event event) {
    Matcher m = INDEX.matcher(event.text());
    assertTrue(m.find(), event.text());
    return Integer.parseInt(m.group(1));
  }

  /** ws_peer's binary message k of size bytes: k big-endian, then byte j = j % 251. */
  static byte[] binaryMessage(int k, int size) {
    byte[] bytes = new byte[Math.max(size, 4)];
    ByteBuffer.wrap(bytes).putInt(k);
    for (int j = 4; j < bytes.length; j++) bytes[j] = (byte) (j % 251);
    return bytes;
  }

  @Test
  void oneCallTakesUpToTheCapacity() throws Exception {
    // White box: the native call itself, on a stream with 200 messages waiting.
    long[] out = new long[1];
    Native.check(TidewireNative.tw_config_create(out));
    long config = out[0];
    long stream;
    try {
      String url = ws.ws("/push?count=200&size=32&cork=1&key=" + Peer.key("capacity"));
      Native.check(
          TidewireNative.tw_config_set_n(config, "url".getBytes(UTF_8), url.getBytes(UTF_8)));
      stream = SharedRuntime.openStream(config);
    } finally {
      TidewireNative.tw_config_destroy(config);
    }
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      long[] received = new long[1];
      do {
        assertTrue(System.nanoTime() < deadline, "received " + received[0]);
        Thread.sleep(5);
        Native.check(TidewireNative.tw_stream_stat(received, stream, "messages".getBytes(UTF_8)));
      } while (received[0] < 200);
      Batch batch = new Batch();
      List<Event> events = new ArrayList<>();
      List<Integer> sizes = new ArrayList<>();
      while (events.size() < 200) {
        assertEquals(tw_err.TW_OK, batch.take(stream, 5000));
        int before = events.size();
        batch.drainTo(events);
        sizes.add(events.size() - before);
      }
      assertEquals(List.of(64, 64, 64, 8), sizes);
      assertEquals(Batch.CAPACITY, 64);
      for (int k = 1; k <= 200; k++) {
        Event event = events.get(k - 1);
        assertEquals(k, index(event));
        assertEquals(32, event.data().length);
        assertEquals("text", event.type());
        assertEquals(Transport.WS, event.transport());
      }
      assertEquals(tw_err.TW_ERR_TIMEOUT, batch.take(stream, 0));
      batch.drainTo(events);
      assertEquals(200, events.size(), "a timeout brings nothing");
    } finally {
      TidewireNative.tw_stream_destroy(stream);
    }
  }

  @Test
  void aBurstArrivesWholeAndInOrderThroughTheIterator() throws Exception {
    int count = 1000;
    String url = ws.ws("/push?count=" + count + "&size=100&cork=1&key=" + Peer.key("burst"));
    try (Stream stream = Stream.builder(url).open()) {
      awaitReceived(stream, count);
      Iterator<Event> events = stream.iterator();
      for (int k = 1; k <= count; k++) {
        assertTrue(events.hasNext());
        Event event = events.next();
        assertEquals(k, index(event));
        assertEquals(100, event.data().length);
      }
      assertTrue(stream.next(Duration.ofMillis(50)).isEmpty(), "nothing beyond the burst");
    }
  }

  @Test
  void textAndBinaryOfEverySizeComeBackExact() throws Exception {
    // Around the size from which a payload gets its own array (4096), in one batch.
    int[] sizes = {0, 1, 255, 4095, 4096, 4097, 70_000, 3};
    List<byte[]> sent = new ArrayList<>();
    try (Stream stream = Stream.builder(ws.ws("/echo?key=" + Peer.key("mixed"))).open()) {
      for (int i = 0; i < sizes.length; i++) {
        byte[] bytes = new byte[sizes[i]];
        if (i % 2 == 0) {
          Arrays.fill(bytes, (byte) ('a' + i));
          stream.send(new String(bytes, UTF_8));
        } else {
          for (int j = 0; j < bytes.length; j++) bytes[j] = (byte) (j * 7 + i);
          stream.send(bytes);
        }
        sent.add(bytes);
      }
      awaitReceived(stream, sizes.length);
      for (int i = 0; i < sizes.length; i++) {
        Event event = next(stream);
        assertEquals(Kind.MESSAGE, event.kind());
        assertEquals(i % 2 == 0 ? "text" : "binary", event.type(), "message " + i);
        assertEquals("", event.id());
        assertArrayEquals(sent.get(i), event.data(), "message " + i);
        assertTrue(event.headers().isEmpty());
      }
    }
  }

  @Test
  void binaryMessagesAreExactAcrossBatchesThatOutgrowTheSharedArray() throws Exception {
    // 300 messages just under the own-array size: each batch holds about 256 KiB of payloads.
    int count = 300;
    int size = 4095;
    String url =
        ws.ws("/push?count=" + count + "&size=" + size + "&binary=1&cork=1&key=" + Peer.key("bin"));
    try (Stream stream = Stream.builder(url).open()) {
      awaitReceived(stream, count);
      for (int k = 1; k <= count; k++) {
        Event event = next(stream);
        assertEquals("binary", event.type());
        assertArrayEquals(binaryMessage(k, size), event.data(), "message " + k);
      }
    }
  }

  @Test
  void aLargeBinaryMessageIsExact() throws Exception {
    int size = 3_000_000;
    try (Stream stream =
        Stream.builder(ws.ws("/big?size=" + size + "&frag=65536&key=" + Peer.key("big"))).open()) {
      byte[] data = next(stream).data();
      assertEquals(size, data.length);
      for (int i = 0; i < size; i++) {
        if (data[i] != (byte) (i % 251)) throw new AssertionError("byte " + i + " is " + data[i]);
      }
    }
  }

  @Test
  void idsAndTypesOfEveryEventSurviveABatch() throws Exception {
    // More distinct types than the decoder remembers, repeating, some not ASCII.
    String[] types = {"a", "b", "c", "d", "é", "ζ", "message"};
    int count = 30; // the body travels in the URL: a few kilobytes at most
    StringBuilder body = new StringBuilder();
    for (int i = 0; i < count; i++) {
      String type = types[(i * 3) % types.length];
      body.append("id: i").append(i).append(i % 5 == 0 ? "ü" : "").append('\n');
      if (!type.equals("message") || i % 2 == 0) body.append("event: ").append(type).append('\n');
      body.append("data: p").append(i).append("\n\n");
    }
    // The peer reads each percent escape as one byte: the body arrives as these UTF-8 bytes.
    String url =
        http.http(
            "/sse/raw?key=" + Peer.key("sseraw") + "&body=" + URLEncoder.encode(body.toString(), UTF_8));
    try (Stream stream =
        Stream.builder(url)
            .transport(Transport.SSE)
            .option("reconnect.initial_ms", 60_000)
            .open()) {
      awaitReceived(stream, count);
      for (int i = 0; i < count; i++) {
        Event event = next(stream);
        assertEquals("i" + i + (i % 5 == 0 ? "ü" : ""), event.id());
        assertEquals(types[(i * 3) % types.length], event.type(), "event " + i);
        assertEquals("p" + i, event.text());
      }
    }
  }

  @Test
  void headersOfEachDeliveryStayWithIt() throws Exception {
    try (Stream stream =
        Stream.builder("http://127.0.0.1:0/hooks")
            .transport(Transport.WEBHOOK)
            .option("webhook.secret", Webhooks.SECRET)
            .open()) {
      int count = 5;
      for (int i = 0; i < count; i++) {
        String body = "{\"type\":\"kind." + i + "\",\"n\":" + i + "}";
        int status = Webhooks.deliver(stream.url(), Webhooks.SECRET, "msg_" + i, body);
        assertTrue(status >= 200 && status < 300, "delivery " + i + " answered " + status);
      }
      awaitReceived(stream, count);
      for (int i = 0; i < count; i++) {
        Event event = next(stream);
        assertEquals("msg_" + i, event.id());
        assertEquals("kind." + i, event.type());
        assertEquals("{\"type\":\"kind." + i + "\",\"n\":" + i + "}", event.text());
        assertEquals("msg_" + i, event.headers().get("webhook-id"));
        assertEquals("application/json", event.header("Content-Type").orElseThrow());
        assertTrue(event.header("webhook-signature").orElseThrow().startsWith("v1,"));
      }
    }
  }

  @Test
  void statusEventsAndMessagesMixInOrder() throws Exception {
    String url = ws.ws("/push?count=5&size=20&cork=1&key=" + Peer.key("kinds"));
    Stream stream = Stream.builder(url).option("status_events", true).open();
    awaitReceived(stream, 5);
    stream.close();
    List<Event> events = new ArrayList<>();
    for (Event event : stream) events.add(event);
    assertEquals(7, events.size(), events.toString());
    assertEquals(Kind.OPEN, events.get(0).kind());
    for (int k = 1; k <= 5; k++) {
      assertEquals(Kind.MESSAGE, events.get(k).kind());
      assertEquals(k, index(events.get(k)));
    }
    Event closed = events.get(6);
    assertEquals(Kind.CLOSED, closed.kind());
    assertEquals(Transport.WS, closed.transport());
    assertTrue(closed.error().isEmpty());
  }

  @Test
  void closeWithEventsBufferedOnBothSidesDeliversEachOnce() throws Exception {
    int count = 500;
    Stream stream =
        Stream.builder(ws.ws("/push?count=" + count + "&size=64&cork=1&key=" + Peer.key("closing")))
            .open();
    awaitReceived(stream, count);
    // The first read takes a whole batch: one event out, the rest held in Java, more in the core.
    assertEquals(1, index(next(stream)));
    stream.close();
    List<Integer> rest = new ArrayList<>();
    for (Event event : stream) rest.add(index(event));
    assertEquals(count - 1, rest.size());
    for (int k = 2; k <= count; k++) assertEquals(k, rest.get(k - 2));
    assertTrue(stream.ended());
    assertFalse(stream.iterator().hasNext());
  }

  @Test
  void theEndOfAFailedStreamComesAfterItsEvents() throws Exception {
    int count = 150;
    String url = ws.ws("/close?code=1008&reason=nope&after=" + count + "&key=" + Peer.key("fail"));
    try (Stream stream = Stream.builder(url).open()) {
      List<Integer> seen = new ArrayList<>();
      StreamException failure =
          assertThrows(
              StreamException.class,
              () -> {
                for (Event event : stream) seen.add(index(event));
              });
      assertEquals(count, seen.size());
      for (int k = 1; k <= count; k++) assertEquals(k, seen.get(k - 1));
      assertEquals(1008, failure.closeCode());
      assertTrue(failure.getMessage().contains("nope"), failure.getMessage());
    }
  }

  @Test
  void threadsSharingAStreamEachGetDistinctEventsInOrder() throws Exception {
    int count = 3000;
    String url = ws.ws("/close?code=1000&after=" + count + "&key=" + Peer.key("shared"));
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try (Stream stream = Stream.builder(url).open()) {
      List<Future<List<Integer>>> readers = new ArrayList<>();
      for (int t = 0; t < 3; t++) {
        readers.add(
            pool.submit(
                () -> {
                  List<Integer> seen = new ArrayList<>();
                  for (Event event : stream) seen.add(index(event));
                  return seen;
                }));
      }
      List<Integer> all = new ArrayList<>();
      for (Future<List<Integer>> reader : readers) {
        List<Integer> seen = reader.get(20, TimeUnit.SECONDS);
        for (int i = 1; i < seen.size(); i++) assertTrue(seen.get(i - 1) < seen.get(i), "order");
        all.addAll(seen);
      }
      Collections.sort(all);
      assertEquals(count, all.size(), "none lost, none twice");
      for (int k = 1; k <= count; k++) assertEquals(k, all.get(k - 1));
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aSubscriberGetsEveryEventOfABurstAsItRequestsThem() throws Exception {
    int count = 1000;
    String url = ws.ws("/close?code=1000&after=" + count + "&key=" + Peer.key("flowburst"));
    List<Integer> seen = Collections.synchronizedList(new ArrayList<>());
    AtomicReference<Throwable> error = new AtomicReference<>();
    CountDownLatch done = new CountDownLatch(1);
    try (Stream stream = Stream.builder(url).open()) {
      stream.subscribe(
          new Flow.Subscriber<Event>() {
            private Flow.Subscription subscription;
            private int outstanding;

            @Override
            public void onSubscribe(Flow.Subscription s) {
              subscription = s;
              outstanding = 7;
              s.request(7); // a demand that never lines up with a batch
            }

            @Override
            public void onNext(Event event) {
              seen.add(index(event));
              if (--outstanding == 0) {
                outstanding = 7;
                subscription.request(7);
              }
            }

            @Override
            public void onError(Throwable throwable) {
              error.set(throwable);
              done.countDown();
            }

            @Override
            public void onComplete() {
              done.countDown();
            }
          });
      assertTrue(done.await(20, TimeUnit.SECONDS));
      assertNull(error.get());
      assertEquals(count, seen.size());
      for (int k = 1; k <= count; k++) assertEquals(k, seen.get(k - 1));
    }
  }
}
