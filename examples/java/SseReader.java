// Reads a Server-Sent Events stream; reconnects resume with Last-Event-ID.
//
//   java -cp bindings/java/target/tidewire-0.1.0.jar \
//       examples/java/SseReader.java http://127.0.0.1:PORT/sse
//
// Against the demo feed (python3 examples/feed/feed.py prints its PORT): every tick, then the
// feed's 204 ends the stream cleanly and the program exits.
import io.tidewire.Event;
import io.tidewire.Kind;
import io.tidewire.Stream;
import io.tidewire.StreamException;
import io.tidewire.Transport;

public class SseReader {
  public static void main(String[] args) {
    try (Stream stream =
        Stream.builder(args[0])
            .transport(Transport.SSE)
            .option("reconnect.max_ms", 5000)
            .option("status_events", true)
            .open()) {
      for (Event event : stream) {
        if (event.kind() == Kind.MESSAGE) {
          System.out.println("id " + event.id() + " (" + event.type() + "): " + event.text());
        } else {
          System.out.println("[" + event.kind() + "] " + event.text());
        }
      }
    } catch (StreamException e) {
      System.err.println("the stream failed: " + e.getMessage());
      System.exit(1);
    }
  }
}
