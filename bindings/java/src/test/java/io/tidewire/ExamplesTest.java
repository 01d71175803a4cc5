package io.tidewire;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The programs of examples/java, run as their header says (java's source launcher) against the demo
 * feed, or against examples/llm/fake_openai.py.
 */
@Timeout(60)
class ExamplesTest {
  static final Path FEED = Peer.ROOT.resolve("examples/feed/feed.py");
  static final Path FAKE_OPENAI = Peer.ROOT.resolve("examples/llm/fake_openai.py");
  static final String CLASSES = System.getProperty("tidewire.classes", "target/classes");

  static ProcessBuilder example(String name, String... args) {
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                CLASSES,
                Peer.ROOT.resolve("examples/java").resolve(name).toString()));
    command.addAll(List.of(args));
    return new ProcessBuilder(command).redirectErrorStream(true);
  }

  /** Runs an example to its end; returns what it printed. */
  static String run(Process process) throws Exception {
    return run(process, new BufferedReader(new InputStreamReader(process.getInputStream(), UTF_8)));
  }

  static String run(Process process, BufferedReader out) throws Exception {
    String output = out.lines().collect(Collectors.joining("\n"));
    assertTrue(process.waitFor(30, TimeUnit.SECONDS), output);
    assertEquals(0, process.exitValue(), output);
    return output;
  }

  /**
   * The demo feed, five ticks 20 ms apart; deliveries, if asked for, signed with Webhooks.SECRET.
   */
  static Peer feed(String... args) throws Exception {
    List<String> all =
        new ArrayList<>(List.of("--count", "5", "--interval-ms", "20", "--start-ms", "200"));
    all.addAll(List.of(args));
    return Peer.startScript(
        Map.of("TIDEWIRE_FEED_WEBHOOK_SECRET", Webhooks.SECRET), FEED, all.toArray(String[]::new));
  }

  @Test
  void feedReaderConsumesTheFeedOverSseAndWebSocket() throws Exception {
    try (Peer feed = feed()) {
      String output = run(example("FeedReader.java", Integer.toString(feed.port)).start());
      assertTrue(output.contains("sse: 5 events") && output.contains("ws: 5 events"), output);
      assertTrue(output.contains("sse  tick   4") && output.contains("ws   tick   4"), output);
    }
  }

  @Test
  void sseReaderPrintsEveryTickThenEnds() throws Exception {
    try (Peer feed = feed()) {
      String output = run(example("SseReader.java", feed.http("/sse")).start());
      for (int seq = 0; seq < 5; seq++)
        assertTrue(
            output.contains("id " + seq + " (tick): {\"type\":\"tick\",\"seq\":" + seq), output);
      assertTrue(output.contains("[closed]"), output);
    }
  }

  @Test
  void wsClientPrintsTheFeedsMessages() throws Exception {
    try (Peer feed = feed()) {
      Process client =
          example("WsClient.java", feed.ws("/ws")).start(); // stdin stays open: nothing typed
      String output = run(client);
      client.getOutputStream().close();
      assertEquals(
          5, output.lines().filter(line -> line.startsWith("{\"type\":\"tick\"")).count(), output);
    }
  }

  @Test
  void webhookReceiverPrintsTheFeedsSignedDeliveries() throws Exception {
    ProcessBuilder builder = example("WebhookReceiver.java", "0", "5");
    builder.environment().put("TIDEWIRE_FEED_WEBHOOK_SECRET", Webhooks.SECRET);
    Process receiver = builder.start();
    BufferedReader out =
        new BufferedReader(new InputStreamReader(receiver.getInputStream(), UTF_8));
    String listening = out.readLine();
    assertTrue(
        listening != null && listening.startsWith("listening on http://127.0.0.1:"), listening);
    String url = listening.substring("listening on ".length());
    try (Peer feed = feed("--webhook-url", url)) {
      String output = run(receiver, out);
      for (int seq = 0; seq < 5; seq++)
        assertTrue(output.contains("evt_" + seq + " (tick): "), output);
      assertTrue(output.contains("5 deliveries accepted, 0 refused"), output);
    }
  }

  @Test
  void tokenRotationRotatesTheTokenTwiceWithoutLosingAnEvent() throws Exception {
    try (Peer server =
        Peer.startScript(
            FAKE_OPENAI, "--events", "12", "--token-events", "5", "--interval-ms", "10")) {
      String output = run(example("TokenRotation.java", server.http("")).start());
      List<String> lines = output.lines().collect(Collectors.toList());
      List<String> expected = new ArrayList<>();
      for (int seq = 0; seq < 12; seq++) {
        if (seq == 5 || seq == 10) expected.add("[auth_required] HTTP 401: fetching a new token");
        expected.add("seq " + seq);
      }
      expected.add("12 events, seq 0..11, no gap, 2 token rotations");
      assertEquals(expected, lines, output);
    }
  }

  @Test
  void mcpClientPrintsProgressAsItArrivesThenTheToolResult() throws Exception {
    ProcessBuilder builder = example("McpClient.java");
    builder.directory(Peer.ROOT.toFile()); // it starts examples/mcp/server.py from there
    String output = run(builder.start());
    assertEquals(
        String.join(
            "\n",
            "connected to tidewire-example (MCP 2025-11-25)",
            "tools: add_numbers, slow_count",
            "  progress 1/5: counted 1",
            "  progress 2/5: counted 2",
            "  progress 3/5: counted 3",
            "  progress 4/5: counted 4",
            "  progress 5/5: counted 5",
            "result: counted to 5"),
        output);
  }
}
