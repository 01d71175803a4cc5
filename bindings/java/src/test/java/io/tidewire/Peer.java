package io.tidewire;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A peer process from tests/peers/ (or the demo feed) on 127.0.0.1: started with its stdin held
 * open, ready once it printed "PORT <n>", ended by closing its stdin (they all exit on EOF).
 */
final class Peer implements AutoCloseable {
  static final Path ROOT =
      Path.of(System.getProperty("tidewire.root", "../..")).toAbsolutePath().normalize();
  static final String PYTHON = System.getProperty("tidewire.python", "python3");
  static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static final AtomicLong KEYS = new AtomicLong();

  final int port;
  private final Process process;
  private final BufferedReader stdout;
  private final Path log;

  private Peer(Process process, Path log) throws IOException {
    this.process = process;
    this.log = log;
    stdout = new BufferedReader(new InputStreamReader(process.getInputStream(), UTF_8));
    String line;
    try {
      line = CompletableFuture.supplyAsync(this::readLine).get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      process.destroyForcibly();
      throw new IOException("peer did not start: " + e + "\n" + log(), e);
    }
    if (line == null || !line.startsWith("PORT ")) {
      process.destroyForcibly();
      throw new IOException("peer printed " + line + " instead of PORT <n>\n" + log());
    }
    port = Integer.parseInt(line.substring(5).trim());
  }

  /** Starts tests/peers/{script}. */
  static Peer start(String script, String... args) throws IOException {
    return startScript(ROOT.resolve("tests/peers").resolve(script), args);
  }

  static Peer startScript(Path script, String... args) throws IOException {
    return startScript(Map.of(), script, args);
  }

  /** Starts a Python script with variables added to the environment. */
  static Peer startScript(Map<String, String> env, Path script, String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(PYTHON, script.toString()));
    command.addAll(List.of(args));
    Path log = Files.createTempFile("tidewire-peer-", ".log");
    ProcessBuilder builder = new ProcessBuilder(command).redirectError(log.toFile());
    builder.environment().putAll(env);
    return new Peer(builder.start(), log);
  }

  /** A key no other test uses: peers keep their state per key. */
  static String key(String prefix) {
    return prefix + "-" + ProcessHandle.current().pid() + "-" + KEYS.incrementAndGet();
  }

  String http(String pathAndQuery) {
    return "http://127.0.0.1:" + port + pathAndQuery;
  }

  String ws(String pathAndQuery) {
    return "ws://127.0.0.1:" + port + pathAndQuery;
  }

  /** A line the peer printed after PORT, or null at its end. */
  String readLine() {
    try {
      return stdout.readLine();
    } catch (IOException e) {
      return null;
    }
  }

  /** GETs a plain HTTP path of the peer (a request log: /_log?key=K). */
  String get(String pathAndQuery) throws IOException, InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(http(pathAndQuery)))
            .timeout(Duration.ofSeconds(10))
            .build();
    return HTTP.send(request, HttpResponse.BodyHandlers.ofString()).body();
  }

  String log() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  @Override
  public void close() throws Exception {
    process.getOutputStream().close();
    if (!process.waitFor(5, TimeUnit.SECONDS))
      process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    Files.deleteIfExists(log);
  }
}
