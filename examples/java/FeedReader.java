// Consumes the demo feed over SSE and WebSocket at once, each stream feeding a Flow.Subscriber on
// a thread of its own, and prints every tick with its delay from publication to this program.
//
//   python3 examples/feed/feed.py                 (prints PORT <n>; leave it running)
//   java -cp bindings/java/target/tidewire-0.1.0.jar examples/java/FeedReader.java <n>
//
// Both streams end cleanly after the feed's last event (SSE: the feed answers 204 to the resuming
// request; WebSocket: it closes with 1000); then the program prints a count per transport.
import io.tidewire.Event;
import io.tidewire.Stream;
import io.tidewire.Transport;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class FeedReader {
  private static final Pattern PUBLISHED_AT = Pattern.compile("\"published_at\":([0-9.]+)");
  private static final Pattern SEQ = Pattern.compile("\"seq\":([0-9]+)");

  /** Prints each event it is given, and counts them. */
  static final class Printer implements Flow.Subscriber<Event> {
    final String name;
    final AtomicInteger count = new AtomicInteger();
    final CountDownLatch done;

    Printer(String name, CountDownLatch done) {
      this.name = name;
      this.done = done;
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
      subscription.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(Event event) {
      count.incrementAndGet();
      String text = event.text();
      Matcher seq = SEQ.matcher(text);
      Matcher published = PUBLISHED_AT.matcher(text);
      if (seq.find() && published.find()) {
        double delayMs = System.currentTimeMillis() - Double.parseDouble(published.group(1)) * 1000;
        System.out.printf(
            "%-4s tick %3s  %6.1f ms after publication%n", name, seq.group(1), delayMs);
      } else {
        System.out.printf("%-4s %s%n", name, text);
      }
    }

    @Override
    public void onError(Throwable error) {
      System.out.println(name + " failed: " + error.getMessage());
      done.countDown();
    }

    @Override
    public void onComplete() {
      done.countDown();
    }
  }

  public static void main(String[] args) throws InterruptedException {
    String base = "127.0.0.1:" + args[0];
    CountDownLatch done = new CountDownLatch(2);
    Printer sse = new Printer("sse", done);
    Printer ws = new Printer("ws", done);
    try (Stream sseStream =
            Stream.builder("http://" + base + "/sse").transport(Transport.SSE).open();
        Stream wsStream = Stream.builder("ws://" + base + "/ws").open()) {
      sseStream.subscribe(sse);
      wsStream.subscribe(ws);
      done.await();
    }
    for (Printer printer : List.of(sse, ws))
      System.out.println(printer.name + ": " + printer.count + " events");
  }
}
