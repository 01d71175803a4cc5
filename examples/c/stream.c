/*
 * Prints the events of one stream.
 *
 *   tw_example_c_stream <transport> <url> [key=value ...] [--max N]
 *   tw_example_c_stream sse http://127.0.0.1:8000/sse reconnect.max_ms=2000
 *   tw_example_c_stream poll http://127.0.0.1:8000/poll poll.interval_ms=1000 --max 5
 *
 * Stops after N messages (default: when the stream ends) and exits non-zero if the stream failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tidewire/tidewire.h>

static int fail(const char *what, tw_err err) {
  fprintf(stderr, "%s: %s (%s)\n", what, tw_err_name(err), tw_last_error_message());
  return 2;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s <poll|longpoll|sse> <url> [key=value ...] [--max N]\n", argv[0]);
    return 2;
  }
  long max = -1;
  tw_config *config = NULL;
  tw_err err = tw_config_create(&config);
  if (err) return fail("tw_config_create", err);
  if ((err = tw_config_set(config, "transport", argv[1])) || (err = tw_config_set(config, "url", argv[2])))
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
  tw_stream *stream = NULL;
  if ((err = tw_runtime_create(&runtime))) return fail("tw_runtime_create", err);
  if ((err = tw_stream_open(&stream, runtime, config))) return fail("tw_stream_open", err);
  tw_config_destroy(config);

  long received = 0;
  while (max < 0 || received < max) {
    tw_event *event = NULL;
    err = tw_stream_next(&event, stream, -1);
    if (err == TW_ERR_CLOSED) break;
    if (err) return fail("tw_stream_next", err);
    printf("%s id=%s type=%s data=%.*s\n", tw_kind_name(tw_event_kind(event)), tw_event_id(event),
           tw_event_type(event), (int)tw_event_data_len(event), tw_event_data(event));
    fflush(stdout);
    if (tw_event_kind(event) == TW_KIND_MESSAGE) received++;
    tw_event_destroy(event);
  }

  int status = 0;
  tw_event *failure = NULL;
  tw_stream_failure(&failure, stream);
  if (failure) {
    fprintf(stderr, "stream failed: %s (HTTP %d): %s\n", tw_err_name(tw_event_error(failure)),
            tw_event_http_status(failure), tw_event_data(failure));
    tw_event_destroy(failure);
    status = 1;
  }
  tw_stream_destroy(stream);
  tw_runtime_destroy(runtime);
  return status;
}
