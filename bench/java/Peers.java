import io.tidewire.Event;
import io.tidewire.Stream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The Java clients of the benchmarks, each used the way its documentation shows, with its
 * defaults:
 *
 * <pre>
 *   java Peers tidewire ws PORT SIZE SECONDS   io.tidewire.Stream, its iterator, on /push/SIZE
 *   java Peers jdk ws PORT SIZE SECONDS        java.net.http WebSocket, a Listener requesting
 *                                              one message at a time, on /push/SIZE
 * </pre>
 *
 * <p>Results are one JSON line on stdout, as the other clients print them. Unlike them, the window
 * starts only after SECONDS of warm-up: the first second of a JVM is mostly its JIT compiling the
 * receive path, which would measure the compiler rather than the client.
 */
public final class Peers {
  private Peers() {}

  /** Counts messages of one size; after the warm-up, for a window of the same length. */
  static final class Window {
    private final int size;
    private final long windowNanos;
    private long warmEnd;
    private long warmed;
    private boolean measuring;
    private long messages;
    private long t0;
    private long cpu0;
    private long deadline;

    Window(int size, double seconds) {
      this.size = size;
      windowNanos = (long) (seconds * 1e9);
    }

    /** Counts one message of {@code length} bytes; true once the window is over. */
    boolean add(int length) {
      if (length != size) {
        System.err.println("got " + length + " bytes, expected " + size);
        System.exit(1);
      }
      if (!measuring) {
        // The clock is read every 256 messages, as in the window: reading it is not free.
        if (warmEnd == 0) {
          warmEnd = System.nanoTime() + windowNanos;
        } else if ((++warmed & 255) == 0 && System.nanoTime() >= warmEnd) {
          measuring = true;
          t0 = System.nanoTime();
          cpu0 = cpuNanos();
          deadline = t0 + windowNanos;
        }
        return false;
      }
      messages++;
      if ((messages & 255) != 0 || System.nanoTime() < deadline) return false;
      // Taken now, so that closing the connection afterwards is not counted.
      double seconds = (System.nanoTime() - t0) / 1e9;
      double cpu = (cpuNanos() - cpu0) / 1e9;
      System.out.printf(
          Locale.ROOT,
          "{\"messages\": %d, \"bytes\": %d, \"seconds\": %.6f, \"cpu_seconds\": %.6f}%n",
          messages,
          messages * size,
          seconds,
          cpu);
      System.out.flush();
      return true;
    }
  }

  /** CPU time of the whole process (every thread: the JIT, the GC, the I/O threads). */
  static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean)
            ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  static void tidewire(int port, int size, double seconds) {
    Window window = new Window(size, seconds);
    try (Stream stream = Stream.builder("ws://127.0.0.1:" + port + "/push/" + size).open()) {
      for (Event event : stream) {
        if (window.add(event.data().length)) return;
      }
    }
    System.err.println("the stream ended before the window did");
    System.exit(1);
  }

  static void jdk(int port, int size, double seconds) throws Exception {
    Window window = new Window(size, seconds);
    CompletableFuture<Void> done = new CompletableFuture<>();
    WebSocket.Listener listener =
        new WebSocket.Listener() {
          private int length; // of the message so far: the JDK may hand one over in parts

          @Override
          public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            length += data.length();
            if (last) {
              if (window.add(length)) {
                done.complete(null);
                return null;
              }
              length = 0;
            }
            ws.request(1);
            return null;
          }

          @Override
          public void onError(WebSocket ws, Throwable error) {
            done.completeExceptionally(error);
          }

          @Override
          public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
            done.completeExceptionally(new IllegalStateException("closed: " + code));
            return null;
          }
        };
    WebSocket ws =
        HttpClient.newHttpClient()
            .newWebSocketBuilder()
            .buildAsync(URI.create("ws://127.0.0.1:" + port + "/push/" + size), listener)
            .join();
    done.join();
    ws.abort();
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 5 || !args[1].equals("ws")) {
      System.err.println("usage: java Peers tidewire|jdk ws PORT SIZE SECONDS");
      System.exit(2);
    }
    int port = Integer.parseInt(args[2]);
    int size = Integer.parseInt(args[3]);
    double seconds = Double.parseDouble(args[4]);
    switch (args[0]) {
      case "tidewire" -> tidewire(port, size, seconds);
      case "jdk" -> jdk(port, size, seconds);
      default -> {
        System.err.println("unknown client " + args[0]);
        System.exit(2);
      }
    }
    // Neither client's threads may keep the JVM waiting for the server, which never stops sending.
    System.exit(0);
  }
}
