package io.tidewire;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * A program for {@link LoggingTest}: opens a stream on a refused port and waits for its first
 * warning. With "handler", a java.util.logging handler on "tidewire" prints records to stdout (and
 * none goes to the parents); with "default", nothing is configured.
 *
 * <pre>{@code java io.tidewire.LogProbe handler|default}</pre>
 */
public final class LogProbe {
  private LogProbe() {}

  public static void main(String[] args) throws Exception {
    CountDownLatch seen = new CountDownLatch(1);
    Logger logger = Logger.getLogger("tidewire");
    if (args[0].equals("handler")) {
      logger.setUseParentHandlers(false);
      logger.addHandler(
          new Handler() {
            @Override
            public void publish(LogRecord record) {
              System.out.println("LOG " + record.getLevel() + " " + record.getMessage());
              seen.countDown();
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
          });
    } else {
      // Counts what reaches the default (console) handler, which still prints it to stderr.
      logger.addHandler(
          new Handler() {
            @Override
            public void publish(LogRecord record) {
              seen.countDown();
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
          });
    }
    int port;
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = server.getLocalPort();
    }
    try (Stream stream =
        Stream.builder("http://127.0.0.1:" + port + "/sse")
            .transport(Transport.SSE)
            .option("reconnect.initial_ms", 10000)
            .open()) {
      stream.next(Duration.ofMillis(1));
      if (!seen.await(10, TimeUnit.SECONDS)) throw new AssertionError("no log record");
    }
  }
}
