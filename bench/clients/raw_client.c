/*
 * The physical reference: blocking reads on a plain socket, doing the least a receiver can do with
 * the same bytes (find the message boundaries), so a Tidewire figure can be read against what the
 * kernel and loopback allow on this machine.
 *
 *   raw_client ws|sse PORT SIZE SECONDS     throughput of /push/SIZE
 *   raw_client ws-latency|sse-latency PORT US SAMPLES
 *                                           send-to-read latency of /pace/US
 *   raw_client rtt PORT SAMPLES [US]        64-byte round trips through /echo, back to back or
 *                                           one every US microseconds
 *   raw_client poll PORT SECONDS            keep-alive GET /poll with If-None-Match, answered 304
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "measure.h"

enum { BUF = 256 * 1024 };
static char g_buf[BUF];

static int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    perror("connect");
    exit(1);
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static void write_all(int fd, const char *p, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n <= 0) {
      perror("write");
      exit(1);
    }
    p += n;
    len -= (size_t)n;
  }
}

static ssize_t read_some(int fd, char *buf, size_t cap) {
  ssize_t n = read(fd, buf, cap);
  if (n <= 0) {
    fprintf(stderr, "raw_client: connection ended\n");
    exit(1);
  }
  return n;
}

/* Sends the request and reads up to the end of the response head; returns the bytes after it
 * (left at the start of g_buf). */
static size_t open_stream(int fd, int ws, const char *path) {
  char req[512];
  int n = snprintf(req, sizeof req,
                   ws ? "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
                      : "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n",
                   path);
  write_all(fd, req, (size_t)n);
  size_t have = 0;
  for (;;) {
    have += (size_t)read_some(fd, g_buf + have, BUF - 1 - have);
    g_buf[have] = '\0';
    char *end = strstr(g_buf, "\r\n\r\n");
    if (end) {
      size_t head = (size_t)(end + 4 - g_buf);
      memmove(g_buf, g_buf + head, have - head);
      return have - head;
    }
  }
}

/* WebSocket frames from the server are unmasked: header, then payload. Counts whole frames. */
static void ws_throughput(int port, size_t size, double seconds) {
  char path[64];
  snprintf(path, sizeof path, "/push/%zu", size);
  int fd = connect_to(port);
  size_t have = open_stream(fd, 1, path);
  struct bench_window w = {0};
  int started = 0;
  uint64_t skip = 0; /* payload bytes of the current frame not yet read */
  unsigned char hdr[10];
  size_t hdr_len = 0;
  for (;;) {
    const unsigned char *p = (const unsigned char *)g_buf, *end = p + have;
    while (p < end) {
      if (skip > 0) {
        size_t take = (size_t)(end - p) < skip ? (size_t)(end - p) : skip;
        p += take;
        skip -= take;
        if (skip == 0) {
          if (!started) {
            started = 1;
            bench_window_start(&w, seconds);
          } else {
            w.messages++;
            w.bytes += size;
          }
        }
        continue;
      }
      hdr[hdr_len++] = *p++;
      size_t need = hdr_len < 2 ? 2 : (hdr[1] & 0x7f) == 126 ? 4 : (hdr[1] & 0x7f) == 127 ? 10 : 2;
      if (hdr_len < need) continue;
      uint64_t len = hdr[1] & 0x7f;
      if (len == 126) len = ((uint64_t)hdr[2] << 8) | hdr[3];
      if (len == 127) {
        len = 0;
        for (int i = 0; i < 8; i++) len = (len << 8) | hdr[2 + i];
      }
      hdr_len = 0;
      skip = len;
    }
    if (started && bench_now_ns() >= w.deadline) break;
    have = (size_t)read_some(fd, g_buf, BUF);
  }
  bench_window_print(&w);
  close(fd);
}

/* SSE events end with a blank line: counts "\n\n" (chunk framing has only CRLFs). */
static void sse_throughput(int port, size_t size, double seconds) {
  char path[64];
  snprintf(path, sizeof path, "/push/%zu", size);
  int fd = connect_to(port);
  size_t have = open_stream(fd, 0, path);
  struct bench_window w = {0};
  int started = 0, last_nl = 0;
  for (;;) {
    const char *p = g_buf, *end = g_buf + have;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
      int blank = (p > g_buf) ? p[-1] == '\n' : last_nl;
      if (blank) {
        if (!started) {
          started = 1;
          bench_window_start(&w, seconds);
        } else {
          w.messages++;
          w.bytes += size;
        }
      }
      p++;
      if (p == end) break;
    }
    last_nl = have > 0 && g_buf[have - 1] == '\n';
    if (started && bench_now_ns() >= w.deadline) break;
    have = (size_t)read_some(fd, g_buf, BUF);
  }
  bench_window_print(&w);
  close(fd);
}

/* Paced 64-byte messages: the payload is at a fixed offset of each read once a message is whole;
 * messages are 1 ms apart, so a read holds one message. */
static void latency(int port, int ws, long interval_us, size_t samples) {
  char path[64];
  snprintf(path, sizeof path, "/pace/%ld", interval_us);
  int fd = connect_to(port);
  size_t have = open_stream(fd, ws, path);
  struct bench_latency l;
  bench_latency_init(&l, samples, 50);
  size_t msg = ws ? 66 : 4 + 6 + 64 + 2 + 2; /* ws: 2-byte header; sse: "48\r\n" "data: " ... "\n\n" "\r\n" */
  size_t off = ws ? 2 : 10;
  for (;;) {
    while (have >= msg) {
      if (bench_latency_add(&l, g_buf + off, 64, bench_now_ns())) {
        bench_latency_print(&l);
        close(fd);
        return;
      }
      memmove(g_buf, g_buf + msg, have - msg);
      have -= msg;
    }
    have += (size_t)read_some(fd, g_buf + have, BUF - have);
  }
}

/* Round trips back to back (interval 0), or one every interval_us, as the paced push runs. */
static void rtt(int port, size_t samples, long interval_us) {
  int fd = connect_to(port);
  static const char head[] = "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  write_all(fd, head, sizeof head - 1);
  struct bench_latency l;
  bench_latency_init(&l, samples, 50);
  char msg[64];
  memset(msg, 'x', sizeof msg);
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  for (;;) {
    if (interval_us > 0) {
      next.tv_nsec += interval_us * 1000;
      while (next.tv_nsec >= 1000000000) {
        next.tv_nsec -= 1000000000;
        next.tv_sec++;
      }
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    }
    int64_t t0 = bench_now_ns();
    snprintf(msg, sizeof msg, "%020lld", (long long)t0);
    write_all(fd, msg, sizeof msg);
    size_t got = 0;
    while (got < sizeof msg) got += (size_t)read_some(fd, g_buf + got, sizeof msg - got);
    if (bench_latency_add(&l, g_buf, got, bench_now_ns())) break;
  }
  bench_latency_print(&l);
  close(fd);
}

static void poll_loop(int port, double seconds) {
  int fd = connect_to(port);
  static const char req[] = "GET /poll HTTP/1.1\r\nHost: 127.0.0.1\r\nIf-None-Match: \"v1\"\r\n\r\n";
  struct bench_window w;
  bench_window_start(&w, seconds);
  while (bench_now_ns() < w.deadline) {
    write_all(fd, req, sizeof req - 1);
    size_t have = 0;
    for (;;) {
      have += (size_t)read_some(fd, g_buf + have, BUF - 1 - have);
      g_buf[have] = '\0';
      if (strstr(g_buf, "\r\n\r\n")) break;
    }
    if (strncmp(g_buf, "HTTP/1.1 304", 12) != 0) {
      fprintf(stderr, "raw_client: expected 304, got %.40s\n", g_buf);
      exit(1);
    }
    w.messages++;
  }
  bench_window_print(&w);
  close(fd);
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: raw_client ws|sse|ws-latency|sse-latency|rtt|poll PORT ...\n");
    return 2;
  }
  const char *mode = argv[1];
  int port = atoi(argv[2]);
  if ((strcmp(mode, "ws") == 0 || strcmp(mode, "sse") == 0) && argc == 5) {
    if (mode[0] == 'w')
      ws_throughput(port, strtoul(argv[3], NULL, 10), atof(argv[4]));
    else
      sse_throughput(port, strtoul(argv[3], NULL, 10), atof(argv[4]));
  } else if (strcmp(mode, "ws-latency") == 0 || strcmp(mode, "sse-latency") == 0) {
    if (argc != 5) return 2;
    latency(port, mode[0] == 'w', atol(argv[3]), strtoul(argv[4], NULL, 10));
  } else if (strcmp(mode, "rtt") == 0) {
    rtt(port, strtoul(argv[3], NULL, 10), argc > 4 ? atol(argv[4]) : 0);
  } else if (strcmp(mode, "poll") == 0) {
    poll_loop(port, atof(argv[3]));
  } else {
    fprintf(stderr, "raw_client: bad arguments\n");
    return 2;
  }
  return 0;
}
