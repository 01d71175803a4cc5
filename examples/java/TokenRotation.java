// Reads an SSE stream whose bearer tokens expire, rotating the token without losing an event.
//
//   python3 examples/llm/fake_openai.py --token-events 5      # prints PORT <n>
//   java -cp bindings/java/target/tidewire-0.1.0.jar \
//       examples/java/TokenRotation.java http://127.0.0.1:PORT
//
// The server's tokens (POST /v1/tokens) expire after 5 events: it ends the response and answers
// the reconnect 401. With reconnect.on_auth_failure=wait that 401 does not end the stream: an
// AUTH_REQUIRED event arrives and the stream waits; the program fetches a new token and hands it
// over with setHeader(), and the stream tries again at once, resuming after the last event id it
// saw (Last-Event-ID). Every sequence number is printed; a gap would end the program with status 1.
import io.tidewire.Event;
import io.tidewire.Kind;
import io.tidewire.Stream;
import io.tidewire.StreamException;
import io.tidewire.Transport;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class TokenRotation {
  static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  static final Pattern ACCESS_TOKEN = Pattern.compile("\"access_token\"\\s*:\\s*\"([^\"]+)\"");

  /** A new token from the server's token endpoint (what an OAuth client credentials call does). */
  static String fetchToken(String base) throws IOException, InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(base + "/v1/tokens"))
            .timeout(Duration.ofSeconds(5))
            .POST(HttpRequest.BodyPublishers.noBody())
            .build();
    HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    Matcher token = ACCESS_TOKEN.matcher(response.body());
    if (response.statusCode() != 200 || !token.find())
      throw new IOException("the token endpoint answered " + response.statusCode());
    return token.group(1);
  }

  public static void main(String[] args) throws Exception {
    String base = args[0];
    long expected = 0;
    int rotations = 0;
    try (Stream stream =
        Stream.builder(base + "/v1/events")
            .transport(Transport.SSE)
            .header("Authorization", "Bearer " + fetchToken(base))
            .option("reconnect.on_auth_failure", "wait")
            .option("reconnect.auth_wait_ms", 10000)
            .option("reconnect.initial_ms", 100)
            .option("reconnect.max_ms", 1000)
            .open()) {
      for (Event event : stream) {
        if (event.kind() == Kind.AUTH_REQUIRED) {
          System.out.println("[auth_required] HTTP " + event.status() + ": fetching a new token");
          stream.setHeader("Authorization", "Bearer " + fetchToken(base));
          rotations++;
        } else if (event.kind() == Kind.MESSAGE) {
          long seq = Long.parseLong(event.id());
          System.out.println("seq " + seq);
          if (seq != expected) {
            System.err.println("gap: expected seq " + expected + ", got " + seq);
            System.exit(1);
          }
          expected++;
        }
      }
    } catch (StreamException e) {
      System.err.println("the stream failed: " + e.getMessage());
      System.exit(1);
    }
    System.out.printf(
        "%d events, seq 0..%d, no gap, %d token rotations%n", expected, expected - 1, rotations);
  }
}
