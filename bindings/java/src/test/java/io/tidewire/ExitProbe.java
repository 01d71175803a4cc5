package io.tidewire;

import java.time.Duration;

/**
 * A program for {@link LifecycleTest}: opens a stream of every transport, reads from one on a
 * second thread, prints READY, then ends its main thread ("return", the reader a daemon) or calls
 * System.exit ("exit", the reader a non-daemon thread blocked in iteration). Either way the JVM
 * must exit at once.
 *
 * <pre>{@code java io.tidewire.ExitProbe return|exit HTTP_BASE WS_BASE}</pre>
 */
public final class ExitProbe {
  private ExitProbe() {}

  public static void main(String[] args) throws Exception {
    String mode = args[0];
    String http = args[1];
    String ws = args[2];
    Stream sse =
        Stream.builder(http + "/sse?count=0&hold=1&key=exit-sse").transport(Transport.SSE).open();
    Stream poll =
        Stream.builder(http + "/poll/etag?key=exit-poll")
            .transport(Transport.POLL)
            .option("poll.interval_ms", 50)
            .open();
    Stream longpoll =
        Stream.builder(http + "/longpoll?publish_every_ms=100000&wait_ms=60000&key=exit-lp")
            .transport(Transport.LONGPOLL)
            .option("longpoll.cursor_header", "X-Consul-Index")
            .option("longpoll.cursor_param", "index")
            .open();
    Stream socket = Stream.builder(ws + "/echo?key=exit-ws").open();
    Stream hook =
        Stream.builder("http://127.0.0.1:0/hooks")
            .transport(Transport.WEBHOOK)
            .option("webhook.scheme", "none")
            .open();
    socket.send("ping");
    socket.next(Duration.ofSeconds(10)).orElseThrow();
    poll.next(Duration.ofSeconds(10)).orElseThrow();
    longpoll.next(Duration.ofSeconds(10)).orElseThrow();
    Thread reader =
        new Thread(
            () -> {
              for (Event ignored : sse) {
                // blocked: the peer holds the response open and sends nothing
              }
            },
            "probe-reader");
    reader.setDaemon(mode.equals("return"));
    reader.start();
    System.out.println("READY " + hook.url());
    System.out.flush();
    if (mode.equals("exit")) System.exit(0);
  }
}
