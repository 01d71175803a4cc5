/*
 * Tidewire's side of the benchmarks, through the public C ABI only (tidewire.h), as an
 * application would use it: a runtime, a stream, events pulled from its queue.
 *
 *   tw_client ws|sse PORT SIZE SECONDS        throughput of /push/SIZE, tw_stream_next_batch and
 *                                             tw_stream_recycle
 *   tw_client ws-latency|sse-latency PORT US SAMPLES
 *                                             send-to-application latency of /pace/US, blocking
 *                                             tw_stream_next (the consumer sleeps between messages)
 *   tw_client poll PORT SECONDS               poll stream on /poll, poll.interval_ms=0 (304s)
 *   tw_client idle PORT STREAMS               RSS per open ws stream, all in one runtime, and the
 *                                             time to open them all
 *   tw_client https-poll URL CA_FILE POLLS    POLLS polls of an https URL (poll.interval_ms=0):
 *                                             connections and TLS handshakes they took
 *   tw_client ws-compression URL on|off       reads a WebSocket feed to its end with
 *                                             ws.compression on or off: wire bytes / payload bytes
 *   tw_client webhook SECRET SECONDS          a Standard Webhooks receiver: prints "url URL", then
 *                                             consumes verified deliveries for SECONDS
 *                                             (tw_stream_next_batch and tw_stream_recycle)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tidewire/tidewire.h>

#include "measure.h"

enum { BATCH = 1024 };

static void check(tw_err err, const char *what) {
  if (err == TW_OK) return;
  fprintf(stderr, "tw_client: %s: %s: %s\n", what, tw_err_name(err), tw_last_error_message());
  exit(1);
}

static tw_stream *open_stream(tw_runtime *rt, const char *transport, const char *url, const char *const *extra) {
  tw_config *cfg = NULL;
  tw_stream *stream = NULL;
  check(tw_config_create(&cfg), "config");
  check(tw_config_set(cfg, "transport", transport), "transport");
  check(tw_config_set(cfg, "url", url), "url");
  for (; extra && extra[0]; extra += 2) check(tw_config_set(cfg, extra[0], extra[1]), extra[0]);
  check(tw_stream_open(&stream, rt, cfg), "open");
  tw_config_destroy(cfg);
  return stream;
}

static void throughput(const char *transport, int port, size_t size, double seconds) {
  tw_runtime *rt = NULL;
  check(tw_runtime_create(&rt), "runtime");
  char url[128];
  snprintf(url, sizeof url, "%s://127.0.0.1:%d/push/%zu", strcmp(transport, "ws") == 0 ? "ws" : "http", port, size);
  tw_stream *stream = open_stream(rt, transport, url, NULL);
  tw_event *events[BATCH];
  struct bench_window w = {0};
  int started = 0;
  for (;;) {
    size_t n = 0;
    tw_err err = tw_stream_next_batch(events, &n, stream, BATCH, 1000);
    if (err == TW_ERR_TIMEOUT) continue;
    check(err, "next");
    for (size_t i = 0; i < n; i++) {
      if (tw_event_data_len(events[i]) != size) {
        fprintf(stderr, "tw_client: got %zu bytes, expected %zu\n", tw_event_data_len(events[i]), size);
        exit(1);
      }
      if (started) {
        w.messages++;
        w.bytes += tw_event_data_len(events[i]);
      } else {
        started = 1;
        bench_window_start(&w, seconds);
      }
    }
    /* Done with the batch: handed back, its memory serves the next events. */
    tw_stream_recycle(stream, events, n);
    if (started && bench_now_ns() >= w.deadline) break;
  }
  bench_window_print(&w);
  tw_stream_destroy(stream);
  tw_runtime_destroy(rt);
}

static void latency(const char *transport, int port, long interval_us, size_t samples) {
  tw_runtime *rt = NULL;
  check(tw_runtime_create(&rt), "runtime");
  char url[128];
  snprintf(url, sizeof url, "%s://127.0.0.1:%d/pace/%ld", strcmp(transport, "ws") == 0 ? "ws" : "http", port,
           interval_us);
  tw_stream *stream = open_stream(rt, transport, url, NULL);
  /* Two samples per message: to the application, and to the I/O thread (tw_event_received_ns),
   * which tells the hand-off from the wake-up. */
  struct bench_latency l, io;
  bench_latency_init(&l, samples, 50);
  bench_latency_init(&io, samples, 50);
  for (;;) {
    tw_event *e = NULL;
    check(tw_stream_next(&e, stream, -1), "next");
    int done = bench_latency_add(&l, tw_event_data(e), tw_event_data_len(e), bench_now_ns());
    bench_latency_add(&io, tw_event_data(e), tw_event_data_len(e), tw_event_received_ns(e));
    tw_event_destroy(e);
    if (done) break;
  }
  printf("{");
  bench_latency_print_member("io_latencies_ns", &io);
  printf(", ");
  bench_latency_print_member("latencies_ns", &l);
  printf("}\n");
  fflush(stdout);
  tw_stream_destroy(stream);
  tw_runtime_destroy(rt);
}

static void poll_304(int port, double seconds) {
  tw_runtime *rt = NULL;
  check(tw_runtime_create(&rt), "runtime");
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/poll", port);
  static const char *const extra[] = {"poll.interval_ms", "0", NULL};
  tw_stream *stream = open_stream(rt, "poll", url, extra);
  tw_event *e = NULL;
  check(tw_stream_next(&e, stream, 5000), "first poll"); /* the 200 that carries the ETag */
  tw_event_destroy(e);
  uint64_t before = 0, after = 0;
  struct bench_window w;
  check(tw_stream_stat(&before, stream, "not_modified"), "stat");
  bench_window_start(&w, seconds);
  usleep((useconds_t)(seconds * 1e6));
  check(tw_stream_stat(&after, stream, "not_modified"), "stat");
  w.messages = after - before;
  uint64_t connections = 0;
  check(tw_stream_stat(&connections, stream, "connections"), "stat");
  char more[64];
  snprintf(more, sizeof more, ", \"connections\": %llu", (unsigned long long)connections);
  bench_window_print_with(&w, more);
  tw_stream_destroy(stream);
  tw_runtime_destroy(rt);
}

static void idle(int port, size_t count) {
  bench_raise_nofile();
  tw_runtime *rt = NULL;
  check(tw_runtime_create(&rt), "runtime");
  char url[128];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/idle", port);
  /* A stream is counted once its handshake is done: the open status event says so. */
  static const char *const extra[] = {"status_events", "true", NULL};
  tw_stream **streams = calloc(count, sizeof *streams);
  /* Warm up what the first stream allocates once (TLS contexts, buffers), then take the baseline. */
  tw_stream *first = open_stream(rt, "ws", url, extra);
  tw_event *e = NULL;
  check(tw_stream_next(&e, first, 10000), "first open");
  tw_event_destroy(e);
  long base = bench_rss_kib();
  int64_t open_start_ns = bench_now_ns();
  /* Opened in waves of 500, as the peers' clients are: every stream is open before RSS is read. */
  for (size_t wave = 0; wave < count; wave += 500) {
    size_t end = wave + 500 < count ? wave + 500 : count;
    for (size_t i = wave; i < end; i++) streams[i] = open_stream(rt, "ws", url, extra);
    for (size_t i = wave; i < end; i++) {
      check(tw_stream_next(&e, streams[i], 60000), "open");
      if (tw_event_kind(e) != TW_KIND_OPEN) {
        fprintf(stderr, "tw_client: stream %zu: %s: %s\n", i, tw_kind_name(tw_event_kind(e)), tw_event_data(e));
        exit(1);
      }
      tw_event_destroy(e);
    }
  }
  double open_seconds = (double)(bench_now_ns() - open_start_ns) / 1e9;
  usleep(200000);
  long rss = bench_rss_kib();
  printf("{\"streams\": %zu, \"open_seconds\": %.3f, \"rss_base_kib\": %ld, \"rss_kib\": %ld, "
         "\"kib_per_stream\": %.3f}\n",
         count, open_seconds, base, rss, (double)(rss - base) / (double)count);
  fflush(stdout);
  for (size_t i = 0; i < count; i++) tw_stream_destroy(streams[i]);
  tw_stream_destroy(first);
  free(streams);
  tw_runtime_destroy(rt);
}

static uint64_t stat_of(tw_stream *stream, const char *name) {
  uint64_t value = 0;
  check(tw_stream_stat(&value, stream, name), name);
  return value;
}

static void https_poll(const char *url, const char *ca_file, unsigned long polls) {
  tw_runtime *rt = NULL;
  check(tw_runtime_create(&rt), "runtime");
  const char *const extra[] = {"tls.ca_file", ca_file, "poll.interval_ms", "0", NULL};
  tw_stream *stream = open_stream(rt, "poll", url, extra);
  int64_t deadline = bench_now_ns() + 60 * (int64_t)1000000000;
  /* No event marks a 304: the request counter is watched instead. */
  while (stat_of(stream, "requests") < polls && bench_now_ns() < deadline) usleep(1000);
  tw_stream_close(stream);
  uint64_t requests = stat_of(stream, "requests");
  if (requests < polls) {
    fprintf(stderr, "tw_client: only %llu polls in 60 s\n", (unsigned long long)requests);
    exit(1);
  }
  printf("{\"polls\": %llu, \"connections\": %llu, \"tls_handshakes\": %llu, \"errors\": %llu}\n",
         (unsigned long long)requests, (unsigned long long)stat_of(stream, "connections"),
         (unsigned long long)stat_of(stream, "tls_handshakes"), (unsigned long long)stat_of(stream, "errors"));
  fflush(stdout);
  tw_stream_destroy(stream);
  tw_runtime_destroy(rt);
}

static void ws_compression(const char *url, const char *compression) {
  tw_runtime *rt = NULL;
  check(tw_runtime_create(&rt), "runtime");
  const char *const extra[] = {"ws.compression", compression, NULL};
  tw_stream *stream = open_stream(rt, "ws", url, extra);
  uint64_t messages = 0;
  for (;;) {
    tw_event *e = NULL;
    tw_err err = tw_stream_next(&e, stream, 30000);
    if (err == TW_ERR_CLOSED) break;
    check(err, "next");
    messages++;
    tw_event_destroy(e);
  }
  tw_event *failure = NULL;
  if (tw_stream_failure(&failure, stream) == TW_OK && failure) {
    fprintf(stderr, "tw_client: the feed failed: %s\n", tw_event_data(failure));
    exit(1);
  }
  uint64_t wire = stat_of(stream, "wire_bytes"), payload = stat_of(stream, "payload_bytes");
  printf("{\"messages\": %llu, \"wire_bytes\": %llu, \"payload_bytes\": %llu, \"wire_per_payload\": %.4f}\n",
         (unsigned long long)messages, (unsigned long long)wire, (unsigned long long)payload,
         payload ? (double)wire / (double)payload : 0.0);
  fflush(stdout);
  tw_stream_destroy(stream);
  tw_runtime_destroy(rt);
}

static void webhook(const char *secret, double seconds) {
  tw_runtime *rt = NULL;
  check(tw_runtime_create(&rt), "runtime");
  /* The peers verify and answer, nothing more: no dedup here either, so every delivery is
   * verified, queued and consumed. */
  const char *const extra[] = {"webhook.secret", secret, "webhook.dedup_window_s", "0", NULL};
  tw_stream *stream = open_stream(rt, "webhook", "http://127.0.0.1:0/hooks", extra);
  char *url = NULL;
  check(tw_stream_url(&url, stream), "url");
  printf("url %s\n", url);
  fflush(stdout);
  tw_free(url);
  tw_event *events[BATCH];
  struct bench_window w;
  bench_window_start(&w, seconds);
  while (bench_now_ns() < w.deadline) {
    size_t n = 0;
    tw_err err = tw_stream_next_batch(events, &n, stream, BATCH, 100);
    if (err == TW_ERR_TIMEOUT) continue;
    check(err, "next");
    for (size_t i = 0; i < n; i++) {
      w.messages++;
      w.bytes += tw_event_data_len(events[i]);
    }
    /* Done with the batch: handed back, its memory serves the next deliveries. */
    tw_stream_recycle(stream, events, n);
  }
  bench_window_print(&w);
  tw_stream_destroy(stream);
  tw_runtime_destroy(rt);
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: tw_client ws|sse|ws-latency|sse-latency|poll|idle|https-poll|ws-compression|webhook ...\n");
    return 2;
  }
  const char *mode = argv[1];
  if ((strcmp(mode, "ws") == 0 || strcmp(mode, "sse") == 0) && argc == 5) {
    throughput(mode, atoi(argv[2]), strtoul(argv[3], NULL, 10), atof(argv[4]));
  } else if ((strcmp(mode, "ws-latency") == 0 || strcmp(mode, "sse-latency") == 0) && argc == 5) {
    latency(mode[0] == 'w' ? "ws" : "sse", atoi(argv[2]), atol(argv[3]), strtoul(argv[4], NULL, 10));
  } else if (strcmp(mode, "poll") == 0) {
    poll_304(atoi(argv[2]), atof(argv[3]));
  } else if (strcmp(mode, "idle") == 0) {
    idle(atoi(argv[2]), strtoul(argv[3], NULL, 10));
  } else if (strcmp(mode, "https-poll") == 0 && argc == 5) {
    https_poll(argv[2], argv[3], strtoul(argv[4], NULL, 10));
  } else if (strcmp(mode, "ws-compression") == 0 && argc == 4) {
    ws_compression(argv[2], argv[3]);
  } else if (strcmp(mode, "webhook") == 0) {
    webhook(argv[2], atof(argv[3]));
  } else {
    fprintf(stderr, "tw_client: bad arguments\n");
    return 2;
  }
  return 0;
}
