/*
 * tidewire: the command-line client. Opens one stream through the public C ABI and prints its
 * events (output.c); `tidewire --help` is the manual (help.h), docs/cli.md the longer one.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tidewire/tidewire.h>

#include "help.h"
#include "output.h"

/* Exit statuses: how the stream ended (documented in help.h and docs/cli.md). */
enum {
  EXIT_CLEAN = 0,
  EXIT_USAGE = 1,
  EXIT_CONFIG = 2,
  EXIT_NETWORK = 3,
  EXIT_AUTH = 4,
  EXIT_REFUSED = 5,
  EXIT_PROTOCOL = 6,
  EXIT_TLS = 7,
  EXIT_INTERNAL = 8,
  EXIT_SIGNAL_BASE = 128
};

/* The longest line of standard input sent as one WebSocket message. */
#define STDIN_MAX_LINE (16u << 20)

typedef struct options {
  const char *command; /* sse, ws, poll, longpoll, webhook */
  const char *url;
  cli_format format;
  int stats, status_events, headers, verbosity, quiet;
  long long count; /* 0: no limit */
  const char *listen, *path, *scheme, *secret, *secret_file;
  char **settings; /* KEY=VALUE arguments, in order */
  int setting_count;
} options;

static void usage_error(const char *fmt, const char *arg) {
  fputs("tidewire: ", stderr);
  fprintf(stderr, fmt, arg);
  fputs("\nUsage: tidewire [OPTION...] sse|ws|poll|longpoll URL [KEY=VALUE...]\n"
        "       tidewire [OPTION...] webhook --listen HOST:PORT [--secret-file FILE] [KEY=VALUE...]\n"
        "Try 'tidewire --help' for more.\n",
        stderr);
}

/* Matches --name=value or --name value; on a match *value points at the value (NULL if missing). */
static int long_option(const char *name, int argc, char **argv, int *i, const char **value) {
  const char *arg = argv[*i];
  size_t len = strlen(name);
  if (strncmp(arg, name, len) != 0) return 0;
  if (arg[len] == '=') {
    *value = arg + len + 1;
    return 1;
  }
  if (arg[len] != '\0') return 0;
  *value = *i + 1 < argc ? argv[++*i] : NULL;
  return 1;
}

/* Matches one of the webhook options that take a value; returns the field it fills, or NULL. */
static const char **webhook_option(options *o, int argc, char **argv, int *i, const char **value) {
  const struct {
    const char *name;
    const char **field;
  } table[] = {{"--listen", &o->listen},
               {"--path", &o->path},
               {"--scheme", &o->scheme},
               {"--secret-file", &o->secret_file},
               {"--secret", &o->secret}};
  for (size_t k = 0; k < sizeof table / sizeof *table; k++)
    if (long_option(table[k].name, argc, argv, i, value)) return table[k].field;
  return NULL;
}

/* Returns -1 to go on, or the exit status (after --help, --version or a usage error). */
static int parse(options *o, int argc, char **argv) {
  memset(o, 0, sizeof *o);
  o->format = CLI_FORMAT_JSON;
  o->settings = calloc((size_t)argc, sizeof *o->settings);
  if (!o->settings) return EXIT_INTERNAL;
  int only_positional = 0;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i], *value = NULL, **field = NULL;
    if (!only_positional && arg[0] == '-' && arg[1] != '\0') {
      if (strcmp(arg, "--") == 0) {
        only_positional = 1;
      } else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
        for (const char *const *line = kCliHelp; *line; line++) fputs(*line, stdout);
        return EXIT_CLEAN;
      } else if (strcmp(arg, "--version") == 0) {
        printf("tidewire %s\n", tw_version_str());
        return EXIT_CLEAN;
      } else if (strcmp(arg, "--stats") == 0) {
        o->stats = 1;
      } else if (strcmp(arg, "--status") == 0) {
        o->status_events = 1;
      } else if (strcmp(arg, "--headers") == 0) {
        o->headers = 1;
      } else if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0) {
        o->quiet = 1;
      } else if (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0) {
        o->verbosity++;
      } else if (strcmp(arg, "-vv") == 0) {
        o->verbosity += 2;
      } else if (long_option("--format", argc, argv, &i, &value)) {
        if (value && strcmp(value, "json") == 0) {
          o->format = CLI_FORMAT_JSON;
        } else if (value && strcmp(value, "text") == 0) {
          o->format = CLI_FORMAT_TEXT;
        } else {
          usage_error("--format takes json or text, not \"%s\"", value ? value : "");
          return EXIT_USAGE;
        }
      } else if (long_option("--count", argc, argv, &i, &value)) {
        char *end = NULL;
        errno = 0;
        o->count = value ? strtoll(value, &end, 10) : 0;
        if (!value || *value == '\0' || *end != '\0' || errno || o->count < 1) {
          usage_error("--count takes a number of messages >= 1, not \"%s\"", value ? value : "");
          return EXIT_USAGE;
        }
      } else if ((field = webhook_option(o, argc, argv, &i, &value)) != NULL) {
        if (!value || !*value) {
          usage_error("%s needs a value", arg);
          return EXIT_USAGE;
        }
        *field = value;
      } else {
        /* Only the name: the value of a mistyped --secret=... is a secret all the same. */
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(arg, "="), arg);
        usage_error("unknown option \"%s\"", name);
        return EXIT_USAGE;
      }
      continue;
    }
    if (!o->command) {
      o->command = arg;
    } else if (!o->url && strcmp(o->command, "webhook") != 0) {
      o->url = arg; /* a URL may hold '=' in its query: the place decides, not the content */
    } else if (!o->url && strstr(arg, "://") && (!strchr(arg, '=') || strstr(arg, "://") < strchr(arg, '='))) {
      o->url = arg; /* webhook: a listen URL given whole, http://127.0.0.1:8080/hooks */
    } else if (strchr(arg, '=') && arg[0] != '=') {
      o->settings[o->setting_count++] = argv[i];
    } else {
      usage_error("expected KEY=VALUE, got \"%s\"", arg);
      return EXIT_USAGE;
    }
  }
  static const char *const commands[] = {"sse", "ws", "poll", "longpoll", "webhook"};
  int known = 0;
  for (size_t c = 0; o->command && c < sizeof commands / sizeof *commands; c++)
    known |= strcmp(o->command, commands[c]) == 0;
  if (!o->command) {
    usage_error("%s", "no command: give sse, ws, poll, longpoll or webhook");
    return EXIT_USAGE;
  }
  if (!known) {
    usage_error("unknown command \"%s\" (sse, ws, poll, longpoll or webhook)", o->command);
    return EXIT_USAGE;
  }
  int webhook = strcmp(o->command, "webhook") == 0;
  if (!webhook && (o->listen || o->path || o->scheme || o->secret || o->secret_file)) {
    usage_error("%s", "--listen, --path, --scheme, --secret and --secret-file are for webhook only");
    return EXIT_USAGE;
  }
  if (webhook && !o->url == !o->listen) {
    usage_error("%s", "webhook needs --listen HOST:PORT (or a listen URL), and only one of them");
    return EXIT_USAGE;
  }
  if (!webhook && !o->url) {
    usage_error("%s needs a URL", o->command);
    return EXIT_USAGE;
  }
  if (o->secret && o->secret_file) {
    usage_error("%s", "give --secret or --secret-file, not both");
    return EXIT_USAGE;
  }
  return -1;
}

/* Sets one key; on refusal prints the library's message, which names the key and never a secret. */
static int set(tw_config *config, const char *key, const char *value) {
  tw_err err = tw_config_set(config, key, value);
  if (err == TW_OK) return 0;
  fprintf(stderr, "tidewire: %s: %s\n", tw_err_name(err), tw_last_error_message());
  return -1;
}

/* The first line of `path`, without its line break: owned by the caller (free). */
static char *read_secret_file(const char *path) {
  FILE *file = fopen(path, "r");
  if (!file) {
    fprintf(stderr, "tidewire: --secret-file %s: %s\n", path, strerror(errno));
    return NULL;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t n = getline(&line, &cap, file);
  fclose(file);
  if (n <= 0) {
    free(line);
    fprintf(stderr, "tidewire: --secret-file %s: the file is empty\n", path);
    return NULL;
  }
  line[strcspn(line, "\r\n")] = '\0';
  return line;
}

static tw_config *make_config(const options *o) {
  tw_config *config = NULL;
  if (tw_config_create(&config) != TW_OK) return NULL;
  int webhook = strcmp(o->command, "webhook") == 0;
  int ok = set(config, "transport", o->command) == 0;
  if (ok && webhook) {
    char *url = NULL;
    if (o->listen) {
      const char *path = o->path ? o->path : "/";
      size_t len = strlen("http://") + strlen(o->listen) + strlen(path) + 2;
      url = malloc(len);
      if (url) snprintf(url, len, "http://%s%s%s", o->listen, path[0] == '/' ? "" : "/", path);
    }
    ok = set(config, "url", url ? url : o->url) == 0;
    free(url);
    if (ok && o->scheme) ok = set(config, "webhook.scheme", o->scheme) == 0;
    char *from_file = NULL;
    const char *secret = o->secret;
    if (ok && o->secret_file) {
      from_file = read_secret_file(o->secret_file);
      ok = from_file != NULL;
      secret = from_file;
    }
    if (!secret) secret = getenv("TIDEWIRE_WEBHOOK_SECRET");
    if (ok && secret) ok = set(config, "webhook.secret", secret) == 0;
    /* The configuration holds its own copy: the one in argv is blanked, so that it no longer shows
     * in /proc/<pid>/cmdline (ps) while the endpoint runs. */
    if (o->secret) memset((char *)o->secret, '*', strlen(o->secret));
    if (from_file) {
      memset(from_file, 0, strlen(from_file));
      free(from_file);
    }
  } else if (ok) {
    ok = set(config, "url", o->url) == 0;
  }
  if (ok && o->status_events) ok = set(config, "status_events", "true") == 0;
  for (int i = 0; ok && i < o->setting_count; i++) {
    char *eq = strchr(o->settings[i], '=');
    *eq = '\0';
    ok = set(config, o->settings[i], eq + 1) == 0;
    *eq = '=';
  }
  if (!ok) {
    tw_config_destroy(config);
    return NULL;
  }
  return config;
}

/* --- signals: a self-pipe, so that the main loop's poll() wakes at once -------------------------- */
static int g_signal_pipe[2] = {-1, -1};
static volatile sig_atomic_t g_signal;

static void on_signal(int sig) {
  int saved = errno;
  g_signal = sig;
  char byte = 1;
  if (write(g_signal_pipe[1], &byte, 1) < 0) {
    /* The pipe is full: a wake-up is already pending. */
  }
  errno = saved;
}

static int install_signals(void) {
  if (pipe(g_signal_pipe) != 0) return -1;
  for (int i = 0; i < 2; i++) {
    fcntl(g_signal_pipe[i], F_SETFD, FD_CLOEXEC);
    fcntl(g_signal_pipe[i], F_SETFL, O_NONBLOCK);
  }
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  /* A second Ctrl-C while the stream closes ends the process at once. */
  action.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &action, NULL);
  sigaction(SIGTERM, &action, NULL);
  /* A closed output shows as a write error, handled as the end of the stream. */
  signal(SIGPIPE, SIG_IGN);
  return 0;
}

/* --- ws: standard input to the stream ------------------------------------------------------------ */
static pthread_mutex_t g_send_lock = PTHREAD_MUTEX_INITIALIZER;
static tw_stream *g_send_stream; /* NULL once the main thread is about to destroy the stream */

/* Sends one line; waits while the bounded send buffer is full (the socket drains it). Returns 0,
 * or -1 once the stream is gone. */
static int send_line(const char *line, size_t len) {
  for (;;) {
    pthread_mutex_lock(&g_send_lock);
    tw_err err = g_send_stream ? tw_stream_send(g_send_stream, line, len, 0) : TW_ERR_CLOSED;
    pthread_mutex_unlock(&g_send_lock);
    if (err == TW_OK) return 0;
    if (err == TW_ERR_CLOSED) return -1;
    if (err != TW_ERR_WOULD_BLOCK) {
      fprintf(stderr, "tidewire: a line of input was not sent: %s: %s\n", tw_err_name(err), tw_last_error_message());
      return 0;
    }
    struct timespec pause = {0, 10 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
}

/* Reads standard input with read(2), not stdio, so that no stdio lock is held while it blocks and
 * the process can end whenever the stream does. */
static void *stdin_pump(void *unused) {
  (void)unused;
  size_t cap = 64 * 1024, len = 0;
  char *buf = malloc(cap);
  int overlong = 0;
  while (buf) {
    if (len == cap) {
      if (cap >= STDIN_MAX_LINE) {
        if (!overlong) fprintf(stderr, "tidewire: an input line longer than %u bytes was dropped\n", STDIN_MAX_LINE);
        overlong = 1;
        len = 0;
      } else {
        char *bigger = realloc(buf, cap * 2);
        if (!bigger) break;
        buf = bigger;
        cap *= 2;
      }
    }
    ssize_t n = read(STDIN_FILENO, buf + len, cap - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    size_t start = 0, end = len + (size_t)n;
    for (size_t i = len; i < end; i++) {
      if (buf[i] != '\n') continue;
      size_t line_len = i - start;
      if (line_len > 0 && buf[i - 1] == '\r') line_len--;
      if (!overlong && send_line(buf + start, line_len) != 0) goto done;
      overlong = 0;
      start = i + 1;
    }
    memmove(buf, buf + start, end - start);
    len = end - start;
  }
  /* A last line without a newline is still a line. */
  if (buf && len > 0 && !overlong) send_line(buf, len);
done:
  free(buf);
  return NULL;
}

/* --- the end of a stream ------------------------------------------------------------------------- */
/* The exit status for how a stream failed (or could not open: no status, no close code). */
static int exit_status_for(tw_err err, int http_status, int close_code) {
  if (http_status == 401 || http_status == 403) return EXIT_AUTH;
  switch (err) {
    case TW_ERR_IO:
    case TW_ERR_TIMEOUT:
    case TW_ERR_GAVE_UP:
      return EXIT_NETWORK;
    case TW_ERR_TLS:
      return EXIT_TLS;
    case TW_ERR_INVALID_VALUE:
    case TW_ERR_UNKNOWN_KEY:
      return EXIT_CONFIG;
    case TW_ERR_HTTP_STATUS:
      return EXIT_REFUSED;
    case TW_ERR_PROTOCOL:
    case TW_ERR_LIMIT:
      /* A close code the policy does not retry is the server's refusal, not a broken protocol. */
      return close_code != 0 && err == TW_ERR_PROTOCOL ? EXIT_REFUSED : EXIT_PROTOCOL;
    default:
      return EXIT_INTERNAL;
  }
}

static int exit_status_of(const tw_event *failure) {
  return exit_status_for(tw_event_error(failure), tw_event_http_status(failure), tw_event_close_code(failure));
}

static void log_to_stderr(void *user, tw_log_level level, const char *message) {
  (void)user;
  fprintf(stderr, "tidewire: %s: %s\n", tw_log_level_name(level), message);
}

/* Prints events until the stream ends, --count is reached, a signal arrives or the output closes.
 * Returns 1 if the stream ended by itself, 0 if it was stopped here, -1 if reading it failed. */
static int pump(tw_stream *stream, const options *o) {
  enum { BATCH = 64 };
  tw_event *events[BATCH];
  long long printed = 0;
  int fd = tw_stream_fd(stream);
  for (;;) {
    size_t n = 0;
    tw_err err = tw_stream_next_batch(events, &n, stream, BATCH, fd >= 0 ? 0 : 200);
    if (err == TW_ERR_CLOSED) return 1;
    int stop = 0;
    for (size_t i = 0; err == TW_OK && i < n; i++) {
      if (!stop) {
        cli_print_event(stdout, stderr, events[i], o->format, o->headers);
        if (ferror(stdout)) stop = 1;
        if (tw_event_kind(events[i]) == TW_KIND_MESSAGE && o->count && ++printed >= o->count) stop = 1;
      }
      tw_event_destroy(events[i]);
    }
    if (stop || g_signal) return 0;
    if (err != TW_OK && err != TW_ERR_TIMEOUT && err != TW_ERR_WAKEUP) {
      fprintf(stderr, "tidewire: reading events failed: %s: %s\n", tw_err_name(err), tw_last_error_message());
      return -1;
    }
    if (err == TW_OK || fd < 0) continue;
    struct pollfd fds[2] = {{fd, POLLIN, 0}, {g_signal_pipe[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) return -1;
  }
}

int main(int argc, char **argv) {
  options o;
  int status = parse(&o, argc, argv);
  if (status >= 0) {
    free(o.settings);
    return status;
  }
  if (o.quiet)
    tw_log_set(TW_LOG_ERROR, NULL, NULL);
  else if (o.verbosity > 0)
    tw_log_set(o.verbosity > 1 ? TW_LOG_DEBUG : TW_LOG_INFO, log_to_stderr, NULL);

  tw_config *config = make_config(&o);
  free(o.settings);
  if (!config) return EXIT_CONFIG;
  if (install_signals() != 0) {
    fprintf(stderr, "tidewire: cannot install signal handlers: %s\n", strerror(errno));
    tw_config_destroy(config);
    return EXIT_INTERNAL;
  }
  tw_runtime *runtime = NULL;
  tw_err err = tw_runtime_create(&runtime);
  if (err != TW_OK) {
    fprintf(stderr, "tidewire: %s: %s\n", tw_err_name(err), tw_last_error_message());
    tw_config_destroy(config);
    return EXIT_INTERNAL;
  }
  tw_stream *stream = NULL;
  err = tw_stream_open(&stream, runtime, config);
  tw_config_destroy(config);
  if (err != TW_OK) {
    fprintf(stderr, "tidewire: %s: %s\n", tw_err_name(err), tw_last_error_message());
    tw_runtime_destroy(runtime);
    return exit_status_for(err, 0, 0);
  }
  if (strcmp(o.command, "webhook") == 0) {
    char *url = NULL;
    if (tw_stream_url(&url, stream) == TW_OK) fprintf(stderr, "tidewire: listening on %s\n", url);
    tw_free(url);
  }

  pthread_t reader;
  int reading = 0;
  if (strcmp(o.command, "ws") == 0) {
    g_send_stream = stream;
    reading = pthread_create(&reader, NULL, stdin_pump, NULL) == 0;
    if (reading) pthread_detach(reader);
  }

  int ended = pump(stream, &o);
  pthread_mutex_lock(&g_send_lock);
  g_send_stream = NULL;
  pthread_mutex_unlock(&g_send_lock);
  tw_stream_close(stream);

  if (g_signal) {
    status = EXIT_SIGNAL_BASE + g_signal;
  } else if (ended == 1) {
    tw_event *failure = NULL;
    tw_stream_failure(&failure, stream);
    status = EXIT_CLEAN;
    if (failure) {
      /* The library has already logged the failure at warn ("stream ended: ..."); only --quiet,
       * which hides warnings, leaves it to this line, so that it is said once either way. */
      char *text = NULL;
      if (o.quiet && tw_event_error_message(&text, failure) == TW_OK) fprintf(stderr, "tidewire: %s\n", text);
      tw_free(text);
      status = exit_status_of(failure);
      tw_event_destroy(failure);
    }
  } else {
    status = ended == 0 ? EXIT_CLEAN : EXIT_INTERNAL;
  }
  if (o.stats) cli_print_stats(stderr, stream);
  tw_stream_destroy(stream);
  tw_runtime_destroy(runtime);
  return status;
}
