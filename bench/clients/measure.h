/* What the C bench clients share: clocks, CPU time, and the one-line JSON result they print. */
#ifndef TIDEWIRE_BENCH_MEASURE_H
#define TIDEWIRE_BENCH_MEASURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static inline int64_t bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* User + system CPU time of the whole process (every thread), in ns. */
static inline int64_t bench_cpu_ns(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
         ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

/* Resident set size now, from /proc/self/status, in KiB. */
static inline long bench_rss_kib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = -1;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "VmRSS:", 6) == 0) kib = strtol(line + 6, NULL, 10);
  if (f) fclose(f);
  return kib;
}

/* Lets this process open as many descriptors as the hard limit allows (idle-memory runs). */
static inline void bench_raise_nofile(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

/* A throughput window: messages counted after the first one, for the time between them. */
struct bench_window {
  int64_t t0, cpu0, deadline;
  uint64_t messages, bytes;
};

static inline void bench_window_start(struct bench_window *w, double seconds) {
  w->t0 = bench_now_ns();
  w->cpu0 = bench_cpu_ns();
  w->deadline = w->t0 + (int64_t)(seconds * 1e9);
  w->messages = w->bytes = 0;
}

/* One JSON line; `extra` (may be empty) is more members, each starting with ", ". */
static inline void bench_window_print_with(const struct bench_window *w, const char *extra) {
  int64_t t1 = bench_now_ns(), cpu1 = bench_cpu_ns();
  printf("{\"messages\": %llu, \"bytes\": %llu, \"seconds\": %.6f, \"cpu_seconds\": %.6f%s}\n",
         (unsigned long long)w->messages, (unsigned long long)w->bytes, (double)(t1 - w->t0) / 1e9,
         (double)(cpu1 - w->cpu0) / 1e9, extra);
  fflush(stdout);
}

static inline void bench_window_print(const struct bench_window *w) { bench_window_print_with(w, ""); }

/* Latency samples: the payload starts with the server's CLOCK_MONOTONIC send time (20 digits). */
struct bench_latency {
  int64_t *ns;
  size_t count, want, skip;
};

static inline void bench_latency_init(struct bench_latency *l, size_t want, size_t skip) {
  l->ns = calloc(want, sizeof *l->ns);
  l->count = 0;
  l->want = want;
  l->skip = skip;
}

/* Records one message; returns 1 once enough samples are in. */
static inline int bench_latency_add(struct bench_latency *l, const char *payload, size_t len, int64_t now) {
  if (len < 20) return 0;
  int64_t sent = 0;
  for (int i = 0; i < 20; i++) sent = sent * 10 + (payload[i] - '0');
  if (l->skip > 0) {
    l->skip--;
    return 0;
  }
  l->ns[l->count++] = now - sent;
  return l->count >= l->want;
}

/* Prints `"name": [samples]`, a member of the JSON object the caller writes. */
static inline void bench_latency_print_member(const char *name, const struct bench_latency *l) {
  printf("\"%s\": [", name);
  for (size_t i = 0; i < l->count; i++) printf("%s%lld", i ? ", " : "", (long long)l->ns[i]);
  printf("]");
}

static inline void bench_latency_print(const struct bench_latency *l) {
  printf("{");
  bench_latency_print_member("latencies_ns", l);
  printf("}\n");
  fflush(stdout);
}

#endif
