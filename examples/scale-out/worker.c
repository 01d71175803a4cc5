/*
 * A worker in the consumer group: takes deliveries from the Redis Stream, handles each (here: writes
 * its delivery id to OUT), then acknowledges it.
 *
 *   worker REDIS_URL CONSUMER OUT [CLAIM_IDLE_MS]
 *
 * SIGTERM stops it.
 */
#include <signal.h>
#include <stdio.h>
#include <tidewire/tidewire.h>

static volatile sig_atomic_t stop;

static void on_term(int sig) {
  (void)sig;
  stop = 1;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s REDIS_URL CONSUMER OUT [CLAIM_IDLE_MS]\n", argv[0]);
    return 2;
  }
  FILE *out = fopen(argv[3], "a");
  if (!out) return 1;
  char url[1024];
  snprintf(url, sizeof url, "%s?stream=deliveries&group=workers&consumer=%s", argv[1], argv[2]);
  tw_runtime *rt = NULL;
  tw_stream *stream = NULL;
  tw_config *config = NULL;
  if (tw_runtime_create(&rt) != TW_OK || tw_config_create(&config) != TW_OK) return 1;
  if (tw_config_set(config, "url", url) != TW_OK || tw_config_set(config, "redis.ack", "manual") != TW_OK ||
      tw_config_set(config, "redis.claim_idle_ms", argc > 4 ? argv[4] : "2000") != TW_OK ||
      tw_config_set(config, "reconnect.max_ms", "1000") != TW_OK ||
      tw_stream_open(&stream, rt, config) != TW_OK) {
    fprintf(stderr, "worker: %s\n", tw_last_error_message());
    return 1;
  }
  tw_config_destroy(config);
  signal(SIGTERM, on_term);
  while (!stop) {
    tw_event *e = NULL;
    /* A bounded wait, so that SIGTERM is noticed (tw_stream_wakeup is not async-signal-safe). */
    tw_err err = tw_stream_next(&e, stream, 200);
    if (err == TW_ERR_TIMEOUT) continue;
    if (err != TW_OK) break; /* the stream ended */
    if (tw_event_kind(e) == TW_KIND_MESSAGE) {
      const char *id = tw_event_header(e, "id");
      fprintf(out, "%s\n", id ? id : "");
      fflush(out);
      tw_stream_ack(stream, tw_event_id(e));
    }
    tw_event_destroy(e);
  }
  fclose(out);
  tw_stream_destroy(stream);
  tw_runtime_destroy(rt);
  return 0;
}
