// A WebSocket client: lines typed are sent, messages received are printed.
//
//   java -cp bindings/java/target/tidewire-0.1.0.jar \
//       examples/java/WsClient.java ws://127.0.0.1:PORT/chat
//
// Against the demo feed (python3 examples/feed/feed.py prints its PORT): /chat is a chat room
// (run two clients), /ws the feed's ticks, closed by the server after the last. The stream
// reconnects by itself if the connection drops. send() may be called from any thread: here a
// thread reads the keyboard while the main thread prints what arrives. End of input closes the
// stream.
import io.tidewire.Event;
import io.tidewire.Stream;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

public class WsClient {
  public static void main(String[] args) {
    try (Stream stream = Stream.builder(args[0]).open()) { // ws:// implies Transport.WS
      Thread keyboard = new Thread(() -> sendLines(stream));
      keyboard.setDaemon(true);
      keyboard.start();
      for (Event event : stream) System.out.println(event.text());
    }
  }

  /** Sends each line typed; at the end of input, closes the stream (ending the main loop). */
  static void sendLines(Stream stream) {
    var in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    try {
      for (String line; (line = in.readLine()) != null; ) stream.send(line);
    } catch (Exception e) {
      System.err.println("input: " + e);
    }
    stream.close();
  }
}
