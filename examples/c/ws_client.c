/*
 * A WebSocket client that sends each line of standard input and prints every message received.
 *
 *   tw_example_c_ws_client ws://127.0.0.1:8000/chat [key=value ...]
 *   echo hello | tw_example_c_ws_client wss://example.com/echo tls.ca_file=ca.pem
 *
 * Reading stdin and waiting for events happen on one thread: poll() watches stdin and the stream's
 * fd (readable while events wait), so no thread per stream is needed. At the end of input it closes
 * the stream (close 1000) once the server has had a moment to answer.
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <tidewire/tidewire.h>

static int fail(const char *what, tw_err err) {
  fprintf(stderr, "%s: %s (%s)\n", what, tw_err_name(err), tw_last_error_message());
  return 2;
}

/* Prints what is queued; returns 1 once the stream has ended and everything was printed. */
static int print_events(tw_stream *stream) {
  for (;;) {
    tw_event *batch[64];
    size_t n = 0;
    tw_err err = tw_stream_next_batch(batch, &n, stream, 64, 0);
    if (err == TW_ERR_CLOSED) return 1;
    if (err != TW_OK) return 0;
    for (size_t i = 0; i < n; i++) {
      tw_event *e = batch[i];
      if (tw_event_kind(e) == TW_KIND_MESSAGE)
        printf("%s: %.*s\n", tw_event_type(e), (int)tw_event_data_len(e), tw_event_data(e));
      else
        printf("[%s] %s\n", tw_kind_name(tw_event_kind(e)), tw_event_data(e));
      tw_event_destroy(e);
    }
    fflush(stdout);
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s <ws://...|wss://...> [key=value ...]\n", argv[0]);
    return 2;
  }
  tw_config *config = NULL;
  tw_err err = tw_config_create(&config);
  if (err) return fail("tw_config_create", err);
  if ((err = tw_config_set(config, "url", argv[1])) || (err = tw_config_set(config, "status_events", "true")))
    return fail("config", err);
  for (int i = 2; i < argc; i++) {
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

  int input_open = 1;
  int linger_ms = 500; /* after the end of input, time for the last answers */
  for (;;) {
    struct pollfd fds[2] = {{tw_stream_fd(stream), POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    int ready = poll(fds, input_open ? 2 : 1, input_open ? -1 : linger_ms);
    if (ready == 0) break; /* input done and the server went quiet */
    if ((fds[0].revents & POLLIN) && print_events(stream)) break;
    if (input_open && (fds[1].revents & (POLLIN | POLLHUP))) {
      char line[4096];
      if (!fgets(line, sizeof line, stdin)) {
        input_open = 0;
        continue;
      }
      line[strcspn(line, "\n")] = '\0';
      while ((err = tw_stream_send(stream, line, strlen(line), 0)) == TW_ERR_WOULD_BLOCK) poll(NULL, 0, 10);
      if (err) fprintf(stderr, "send: %s (%s)\n", tw_err_name(err), tw_last_error_message());
    }
  }

  tw_stream_close(stream);
  int status = 0;
  tw_event *failure = NULL;
  tw_stream_failure(&failure, stream);
  if (failure) {
    fprintf(stderr, "stream failed: %s (close code %d): %s\n", tw_err_name(tw_event_error(failure)),
            tw_event_close_code(failure), tw_event_data(failure));
    tw_event_destroy(failure);
    status = 1;
  }
  tw_stream_destroy(stream);
  tw_runtime_destroy(runtime);
  return status;
}
