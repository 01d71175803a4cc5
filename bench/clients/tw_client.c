/*
 * Tidewire's side of the benchmarks, through the public C ABI only (tidewire.h), as an
 * application would use it: a runtime, a stream, events pulled from its queue.
 *
 *   tw_client ws|sse PORT SIZE SECONDS        throughput of /push/SIZE, tw_stream_next_batch
 *   tw_client ws-latency|sse-latency PORT US SAMPLES
 *                                             send-to-application latency of /pace/US, blocking
 *                                             tw_stream_next (the consumer sleeps between messages)
 *   tw_client poll PORT SECONDS               poll stream on /poll, poll.interval_ms=0 (304s)
 *   tw_client idle PORT STREAMS               RSS per open ws stream, all in one runtime
 *   tw_client webhook SECRET SECONDS          a Standard Webhooks receiver: prints "url URL", then
 *                                             consumes verified deliveries for SECONDS
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
      tw_event_destroy(events[i]);
    }
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
  bench_window_print(&w);
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
  usleep(200000);
  long rss = bench_rss_kib();
  printf("{\"streams\": %zu, \"rss_base_kib\": %ld, \"rss_kib\": %ld, \"kib_per_stream\": %.3f}\n", count, base, rss,
         (double)(rss - base) / (double)count);
  fflush(stdout);
  for (size_t i = 0; i < count; i++) tw_stream_destroy(streams[i]);
  tw_stream_destroy(first);
  free(streams);
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
      tw_event_destroy(events[i]);
    }
  }
  bench_window_print(&w);
  tw_stream_destroy(stream);
  tw_runtime_destroy(rt);
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: tw_client ws|sse|ws-latency|sse-latency|poll|idle|webhook ...\n");
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
  } else if (strcmp(mode, "webhook") == 0) {
    webhook(argv[2], atof(argv[3]));
  } else {
    fprintf(stderr, "tw_client: bad arguments\n");
    return 2;
  }
  return 0;
}
