/*
 * A webhook endpoint that verifies Standard Webhooks (or GitHub) deliveries and prints the valid
 * ones. Forged, stale or unsigned deliveries are answered 401/400 by Tidewire and never printed.
 *
 *   tw_example_c_webhook_receiver http://127.0.0.1:8080/hooks whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
 *   tw_example_c_webhook_receiver http://127.0.0.1:0/hooks "It's a Secret to Everybody" webhook.scheme=github
 *
 * Prints "listening on <url>" first (port 0 picks a free port), then one line per delivery.
 * Runs until interrupted (Ctrl-C), or until --max N deliveries were printed.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tidewire/tidewire.h>

static tw_stream *g_stream;
static volatile sig_atomic_t g_stop;

/* Only sets a flag: the main loop waits in slices and notices it. */
static void stop(int sig) {
  (void)sig;
  g_stop = 1;
}

static int fail(const char *what, tw_err err) {
  fprintf(stderr, "%s: %s (%s)\n", what, tw_err_name(err), tw_last_error_message());
  return 2;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s <listen-url> <secret[,secret...]> [key=value ...] [--max N]\n", argv[0]);
    return 2;
  }
  long max = -1;
  tw_config *config = NULL;
  tw_err err = tw_config_create(&config);
  if (err) return fail("tw_config_create", err);
  if ((err = tw_config_set(config, "transport", "webhook")) || (err = tw_config_set(config, "url", argv[1])) ||
      (err = tw_config_set(config, "webhook.secret", argv[2])))
    return fail("config", err);
  for (int i = 3; i < argc; i++) {
    if (strcmp(argv[i], "--max") == 0 && i + 1 < argc) {
      max = strtol(argv[++i], NULL, 10);
      continue;
    }
    char *eq = strchr(argv[i], '=');
    if (!eq) {
      fprintf(stderr, "expected key=value, got \"%s\"\n", argv[i]);
      return 2;
    }
    *eq = '\0';
    if ((err = tw_config_set(config, argv[i], eq + 1))) return fail("config", err);
  }
  tw_runtime *runtime = NULL;
  if ((err = tw_runtime_create(&runtime))) return fail("tw_runtime_create", err);
  if ((err = tw_stream_open(&g_stream, runtime, config))) return fail("tw_stream_open", err);
  tw_config_destroy(config);
  signal(SIGINT, stop);
  signal(SIGTERM, stop);

  char *url = NULL;
  tw_stream_url(&url, g_stream);
  printf("listening on %s\n", url);
  fflush(stdout);
  tw_free(url);

  long printed = 0;
  while (!g_stop && (max < 0 || printed < max)) {
    tw_event *e = NULL;
    err = tw_stream_next(&e, g_stream, 200);
    if (err == TW_ERR_TIMEOUT) continue;
    if (err) break;
    const char *content_type = tw_event_header(e, "content-type");
    printf("delivery id=%s type=%s content-type=%s body=%.*s\n", tw_event_id(e), tw_event_type(e),
           content_type ? content_type : "", (int)tw_event_data_len(e), tw_event_data(e));
    fflush(stdout);
    tw_event_destroy(e);
    printed++;
  }

  int status = 0;
  tw_event *failure = NULL;
  tw_stream_failure(&failure, g_stream);
  if (failure) {
    fprintf(stderr, "receiver failed: %s: %s\n", tw_err_name(tw_event_error(failure)), tw_event_data(failure));
    tw_event_destroy(failure);
    status = 1;
  }
  tw_stream_destroy(g_stream);
  tw_runtime_destroy(runtime);
  return status;
}
