package example;

import io.tidewire.Event;
import io.tidewire.Kind;
import io.tidewire.Stream;
import io.tidewire.Transport;

/** Prints "id data" for each message of an SSE stream over TLS: Reader URL CA_FILE. */
public final class Reader {
  public static void main(String[] args) {
    try (Stream stream =
        Stream.builder(args[0])
            .transport(Transport.SSE)
            .option("tls.ca_file", args[1])
            .option("reconnect.max_attempts", 3)
            .open()) {
      for (Event event : stream) {
        if (event.kind() == Kind.MESSAGE) System.out.println(event.id() + " " + event.text());
      }
    }
  }
}
