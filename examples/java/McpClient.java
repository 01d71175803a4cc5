// An MCP client over tidewire: initializes a session, lists the tools, then calls one that reports
// progress and prints each notification as it arrives, before the result.
//
//   java -cp bindings/java/target/tidewire-0.1.0.jar examples/java/McpClient.java [URL]
//
// Without URL it starts a local server (examples/mcp/server.py, the official MCP Python SDK, with
// python3) and talks to it. The transport does the protocol's plumbing (session id, negotiated
// MCP-Protocol-Version, the GET stream, resuming a cut answer by GET + Last-Event-ID, DELETE on
// close); the application speaks JSON-RPC: send() posts a message, each message received is one
// event. The JDK has no JSON parser, so this example picks the few fields it prints with patterns;
// a real client would use one (Jackson, Gson).
import io.tidewire.Event;
import io.tidewire.Kind;
import io.tidewire.Stream;
import io.tidewire.Transport;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class McpClient {
  static final Path SERVER = Path.of("examples", "mcp", "server.py");
  static final Pattern PROGRESS =
      Pattern.compile("\"progress\":([0-9.]+).*?\"total\":([0-9.]+).*?\"message\":\"([^\"]*)\"");

  public static void main(String[] args) throws Exception {
    if (args.length > 0) {
      System.exit(run(args[0]));
    }
    // The server exits when its stdin closes, so it never outlives this program.
    Process server =
        new ProcessBuilder("python3", SERVER.toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    try {
      var out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
      String line = out.readLine();
      if (line == null || !line.startsWith("PORT ")) {
        System.err.println("server.py did not start");
        System.exit(1);
      }
      System.exit(run("http://127.0.0.1:" + line.substring(5) + "/mcp"));
    } finally {
      server.getOutputStream().close();
    }
  }

  static int run(String url) throws InterruptedException {
    try (Stream stream = Stream.builder(url).transport(Transport.MCP).option("read_timeout_ms", 60000).open()) {
      String init =
          request(stream, 1, "initialize",
              "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"
                  + "\"clientInfo\":{\"name\":\"tidewire-example\",\"version\":\"1\"}}");
      stream.send("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
      System.out.println(
          "connected to " + field(init, "name") + " (MCP " + field(init, "protocolVersion") + ")");
      String tools = request(stream, 2, "tools/list", "{}");
      System.out.println("tools: " + String.join(", ", all(tools, "\"name\":\"([^\"]*)\"")));
      String result =
          request(stream, 3, "tools/call",
              "{\"name\":\"slow_count\",\"arguments\":{\"to\":5},\"_meta\":{\"progressToken\":\"count\"}}");
      System.out.println("result: " + field(result, "text"));
      return 0;
    } catch (IllegalStateException e) {
      System.err.println("error: " + e.getMessage());
      return 1;
    }
  }

  /** Sends a request and returns its answer's JSON, printing progress notifications on the way. */
  static String request(Stream stream, int id, String method, String params) throws InterruptedException {
    stream.send(
        "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"" + method + "\",\"params\":" + params + "}");
    for (;;) {
      Optional<Event> next = stream.next(Duration.ofSeconds(60));
      if (next.isEmpty()) throw new IllegalStateException(method + ": no answer in time");
      Event event = next.get();
      if (event.kind() == Kind.ERROR && event.id().equals(Integer.toString(id)))
        throw new IllegalStateException(method + ": " + event.text());
      if (event.kind() != Kind.MESSAGE) continue;
      String json = event.text();
      if (event.type().equals("notifications/progress")) {
        Matcher m = PROGRESS.matcher(json);
        if (m.find())
          System.out.println(
              "  progress " + number(m.group(1)) + "/" + number(m.group(2)) + ": " + m.group(3));
      } else if (event.type().isEmpty() && json.contains("\"id\":" + id + ",")) {
        if (json.contains("\"error\":")) throw new IllegalStateException(method + ": " + json);
        return json;
      }
    }
  }

  static String field(String json, String name) {
    Matcher m = Pattern.compile("\"" + name + "\":\"([^\"]*)\"").matcher(json);
    return m.find() ? m.group(1) : "?";
  }

  static java.util.List<String> all(String json, String pattern) {
    return Pattern.compile(pattern).matcher(json).results().map(r -> r.group(1)).toList();
  }

  static String number(String text) {
    double value = Double.parseDouble(text);
    return value == Math.rint(value) ? Long.toString((long) value) : text;
  }
}
