// Receives Standard Webhooks deliveries: each signature is checked over the raw body before
// anything parses it; forged or stale deliveries are refused (401) and never become events.
//
//   TIDEWIRE_FEED_WEBHOOK_SECRET=whsec_... java -cp bindings/java/target/tidewire-0.1.0.jar \
//       examples/java/WebhookReceiver.java [PORT [COUNT]]
//
// Prints the URL it listens on (PORT 0, the default, picks a free one), then each delivery; exits
// after COUNT deliveries (default: never). To have the demo feed deliver to it, in another
// terminal:
//
//   TIDEWIRE_FEED_WEBHOOK_SECRET=<the same secret> \
//       python3 examples/feed/feed.py --webhook-url <that URL>
//
// Without the variable, a secret is made up and printed.
import io.tidewire.Event;
import io.tidewire.Stream;
import io.tidewire.Transport;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;

public class WebhookReceiver {
  public static void main(String[] args) {
    String secret = System.getenv("TIDEWIRE_FEED_WEBHOOK_SECRET");
    if (secret == null || secret.isEmpty()) {
      byte[] key = new byte[24];
      new SecureRandom().nextBytes(key);
      secret = "whsec_" + Base64.getEncoder().encodeToString(key);
      System.out.println("secret: " + secret);
    }
    String port = args.length > 0 ? args[0] : "0";
    long count = args.length > 1 ? Long.parseLong(args[1]) : 0;

    try (Stream stream =
        Stream.builder("http://127.0.0.1:" + port + "/webhook")
            .transport(Transport.WEBHOOK)
            .option("webhook.secret", secret)
            .open()) {
      System.out.println("listening on " + stream.url());
      long received = 0;
      for (Event event : stream) {
        System.out.println(event.id() + " (" + event.type() + "): " + event.text());
        if (++received == count) break;
      }
      Map<String, Long> stats = stream.stats();
      System.out.println(
          stats.get("messages") + " deliveries accepted, " + stats.get("errors") + " refused");
    }
  }
}
