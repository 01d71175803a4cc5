/*
 * The benchmarks' load generator: one epoll thread on 127.0.0.1 that writes pre-built bytes as fast
 * as the socket takes them, so the client under test is the only bottleneck.
 *
 *   bench_server [PORT]        prints "port N" on stdout once it listens; runs until SIGTERM
 *
 * The request path picks what a connection gets. A request with Sec-WebSocket-Key is answered as a
 * WebSocket (text frames), any other GET as an SSE response (Transfer-Encoding: chunked):
 *
 *   /push/SIZE   messages of SIZE bytes, without end: a pre-framed buffer (WebSocket) or pre-formatted
 *                events in 16 KiB chunks (SSE, as a server with a buffered writer sends them),
 *                written again and again
 *   /pace/US     one 64-byte message every US microseconds, its payload the CLOCK_MONOTONIC time of
 *                the write in nanoseconds (20 decimal digits, then padding): the latency probe
 *   /idle        the handshake, then only pongs for pings (idle-memory runs)
 *   /echo        no HTTP answer: every byte after the request head is sent back (loopback RTT)
 *   /poll        keep-alive HTTP: 304 Not Modified to If-None-Match: "v1", else 200 with that ETag
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

enum { IN_MAX = 16384, SSE_CHUNK = 16384, STREAM_TARGET = 256 * 1024, MAX_SIZES = 16 };
enum mode { M_HEAD, M_PUSH, M_PACE, M_IDLE, M_ECHO, M_POLL };

/* What epoll hands back: a listener, a connection or a connection's pacing timer. */
struct item {
  int kind; /* 0 listener, 1 connection, 2 timer */
  struct conn *conn;
};

struct conn {
  struct item item, timer_item;
  int fd, timer_fd;
  enum mode mode;
  int ws;
  int closing;   /* the last answer is queued: write what is pending, then close */
  int out_armed; /* EPOLLOUT is on */
  char in[IN_MAX];
  size_t in_len;
  char *out; /* bytes to send before anything else (answers, pongs, paced messages) */
  size_t out_len, out_off, out_cap;
  const char *stream; /* /push: the buffer written over and over */
  size_t stream_len, stream_off;
};

struct stream_buf {
  int ws;
  size_t size;
  char *data;
  size_t len;
};

static int g_epoll;
static struct stream_buf g_streams[MAX_SIZES];
static volatile sig_atomic_t g_stop;

static void die(const char *what) {
  perror(what);
  exit(1);
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static size_t ws_header(unsigned char *h, size_t len, int opcode) {
  h[0] = (unsigned char)(0x80 | opcode);
  if (len < 126) {
    h[1] = (unsigned char)len;
    return 2;
  }
  if (len < 65536) {
    h[1] = 126;
    h[2] = (unsigned char)(len >> 8);
    h[3] = (unsigned char)len;
    return 4;
  }
  h[1] = 127;
  for (int i = 0; i < 8; i++) h[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
  return 10;
}

/* Whole messages back to back, about STREAM_TARGET bytes, so wrapping around stays on a boundary. */
static const struct stream_buf *stream_for(int ws, size_t size) {
  for (int i = 0; i < MAX_SIZES; i++)
    if (g_streams[i].data && g_streams[i].ws == ws && g_streams[i].size == size) return &g_streams[i];
  struct stream_buf *s = NULL;
  for (int i = 0; i < MAX_SIZES && !s; i++)
    if (!g_streams[i].data) s = &g_streams[i];
  if (!s) return NULL;
  char *payload = malloc(size + 1);
  memset(payload, 'x', size);
  size_t cap = STREAM_TARGET + size + 64;
  char *data = malloc(cap), *p = data;
  if (ws) {
    unsigned char h[10];
    size_t hl = ws_header(h, size, 1);
    do {
      memcpy(p, h, hl);
      memcpy(p + hl, payload, size);
      p += hl + size;
    } while ((size_t)(p - data) + hl + size <= STREAM_TARGET);
  } else {
    size_t event = size + 8; /* "data: " + payload + "\n\n" */
    size_t per_chunk = event >= SSE_CHUNK ? 1 : SSE_CHUNK / event;
    do {
      p += sprintf(p, "%zx\r\n", per_chunk * event);
      for (size_t i = 0; i < per_chunk; i++) {
        memcpy(p, "data: ", 6);
        memcpy(p + 6, payload, size);
        memcpy(p + 6 + size, "\n\n", 2);
        p += event;
      }
      memcpy(p, "\r\n", 2);
      p += 2;
    } while ((size_t)(p - data) + per_chunk * event + 32 <= STREAM_TARGET);
  }
  free(payload);
  s->ws = ws;
  s->size = size;
  s->data = data;
  s->len = (size_t)(p - data);
  return s;
}

static void out_append(struct conn *c, const void *data, size_t len) {
  if (c->out_off == c->out_len) c->out_off = c->out_len = 0;
  if (c->out_len + len > c->out_cap) {
    c->out_cap = (c->out_len + len) * 2;
    c->out = realloc(c->out, c->out_cap);
    if (!c->out) die("realloc");
  }
  memcpy(c->out + c->out_len, data, len);
  c->out_len += len;
}

static void conn_close(struct conn *c) {
  close(c->fd);
  if (c->timer_fd >= 0) close(c->timer_fd);
  free(c->out);
  free(c);
}

static void want_write(struct conn *c, int on) {
  if (c->out_armed == on) return;
  c->out_armed = on;
  struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = &c->item};
  epoll_ctl(g_epoll, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Writes what is pending, then (for /push) the stream; returns -1 when the peer is gone. */
static int conn_write(struct conn *c) {
  while (c->out_off < c->out_len) {
    ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
    if (n < 0 && errno == EAGAIN) want_write(c, 1);
    if (n < 0) return errno == EAGAIN ? 0 : -1;
    c->out_off += (size_t)n;
  }
  if (c->closing) return -1;
  if (c->mode != M_PUSH) {
    want_write(c, 0);
    return 0;
  }
  /* At most 4 MiB per wake-up, so other connections and timers are served too. */
  for (size_t budget = 4u << 20; budget > 0;) {
    size_t len = c->stream_len - c->stream_off;
    ssize_t n = write(c->fd, c->stream + c->stream_off, len);
    if (n < 0) return errno == EAGAIN ? 0 : -1;
    c->stream_off = (c->stream_off + (size_t)n) % c->stream_len;
    budget = (size_t)n >= budget ? 0 : budget - (size_t)n;
  }
  return 0;
}

static const char *header_value(const char *head, const char *name, size_t *len) {
  size_t nl = strlen(name);
  for (const char *p = strstr(head, "\r\n"); p && p[2] != '\r'; p = strstr(p + 2, "\r\n")) {
    const char *line = p + 2;
    if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
      const char *v = line + nl + 1;
      while (*v == ' ') v++;
      const char *end = strstr(v, "\r\n");
      *len = (size_t)(end - v);
      return v;
    }
  }
  return NULL;
}

static void send_paced(struct conn *c) {
  char payload[65];
  snprintf(payload, sizeof payload, "%020lld%044d", (long long)now_ns(), 0);
  if (c->ws) {
    unsigned char frame[2 + 64];
    ws_header(frame, 64, 1);
    memcpy(frame + 2, payload, 64);
    out_append(c, frame, sizeof frame);
  } else {
    char event[128];
    int n = snprintf(event, sizeof event, "48\r\ndata: %s\n\n\r\n", payload); /* 0x48 = 72 bytes */
    out_append(c, event, (size_t)n);
  }
}

/* Answers a complete request head in c->in (NUL-terminated at its end). */
static int start_mode(struct conn *c, char *head) {
  char path[256];
  if (sscanf(head, "GET %255s HTTP/1.", path) != 1) return -1;
  size_t key_len = 0;
  const char *key = header_value(head, "Sec-WebSocket-Key", &key_len);
  c->ws = key != NULL;
  if (strcmp(path, "/echo") == 0) {
    c->mode = M_ECHO;
    return 0;
  }
  if (strcmp(path, "/poll") == 0) {
    c->mode = M_POLL;
    return 0;
  }
  if (c->ws) {
    char buf[128];
    unsigned char sha[SHA_DIGEST_LENGTH], accept[64];
    snprintf(buf, sizeof buf, "%.*s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", (int)key_len, key);
    SHA1((const unsigned char *)buf, strlen(buf), sha);
    EVP_EncodeBlock(accept, sha, SHA_DIGEST_LENGTH);
    char answer[256];
    int n = snprintf(answer, sizeof answer,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n\r\n",
                     accept);
    out_append(c, answer, (size_t)n);
  } else {
    static const char sse[] =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        "Transfer-Encoding: chunked\r\n\r\n";
    out_append(c, sse, sizeof sse - 1);
  }
  unsigned long arg = 0;
  if (sscanf(path, "/push/%lu", &arg) == 1 && arg > 0) {
    const struct stream_buf *s = stream_for(c->ws, arg);
    if (!s) return -1;
    c->mode = M_PUSH;
    c->stream = s->data;
    c->stream_len = s->len;
  } else if (sscanf(path, "/pace/%lu", &arg) == 1 && arg > 0) {
    c->mode = M_PACE;
    c->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct itimerspec its = {{(time_t)(arg / 1000000), (long)(arg % 1000000) * 1000},
                             {(time_t)(arg / 1000000), (long)(arg % 1000000) * 1000}};
    timerfd_settime(c->timer_fd, 0, &its, NULL);
    c->timer_item.kind = 2;
    c->timer_item.conn = c;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &c->timer_item};
    epoll_ctl(g_epoll, EPOLL_CTL_ADD, c->timer_fd, &ev);
  } else if (strcmp(path, "/idle") == 0) {
    c->mode = M_IDLE;
  } else {
    return -1;
  }
  return 0;
}

/* /poll: answers every complete request in c->in; keep-alive unless the client says close. */
static void serve_polls(struct conn *c) {
  for (;;) {
    c->in[c->in_len] = '\0';
    char *end = strstr(c->in, "\r\n\r\n");
    if (!end) return;
    end[2] = '\0';
    size_t len = 0;
    const char *inm = header_value(c->in, "If-None-Match", &len);
    const char *conn = header_value(c->in, "Connection", &len);
    int close_after = conn && strncasecmp(conn, "close", 5) == 0;
    static const char not_modified[] = "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n";
    static const char ok[] =
        "HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n"
        "{\"version\":1}";
    if (inm && strncmp(inm, "\"v1\"", 4) == 0)
      out_append(c, not_modified, sizeof not_modified - 1);
    else
      out_append(c, ok, sizeof ok - 1);
    size_t used = (size_t)(end + 4 - c->in);
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
    if (close_after) {
      c->closing = 1;
      return;
    }
  }
}

/* Client frames after the handshake: pongs for pings (not inside a /push stream, which has no
 * frame boundary to put them at), the close handshake for a close; the rest is discarded. */
static int ws_client_frames(struct conn *c) {
  for (;;) {
    unsigned char *b = (unsigned char *)c->in;
    if (c->in_len < 2) return 0;
    size_t len = b[1] & 0x7f, hl = 2;
    if (len == 126) {
      if (c->in_len < 4) return 0;
      len = ((size_t)b[2] << 8) | b[3];
      hl = 4;
    } else if (len == 127) {
      if (c->in_len < 10) return 0;
      len = 0;
      for (int i = 0; i < 8; i++) len = (len << 8) | b[2 + i];
      hl = 10;
    }
    if (b[1] & 0x80) hl += 4;
    if (len > IN_MAX - 16) return -1;
    if (c->in_len < hl + len) return 0;
    int opcode = b[0] & 0x0f;
    unsigned char *payload = b + hl, *mask = b + hl - 4;
    if (b[1] & 0x80)
      for (size_t i = 0; i < len; i++) payload[i] ^= mask[i % 4];
    if ((opcode == 8 || opcode == 9) && len <= 125 && c->mode != M_PUSH) {
      unsigned char frame[2 + 125];
      ws_header(frame, len, opcode == 8 ? 8 : 10);
      memcpy(frame + 2, payload, len);
      out_append(c, frame, 2 + len);
      want_write(c, 1);
    }
    if (opcode == 8) {
      c->closing = 1;
      if (c->mode == M_PUSH) return -1;
      return 0;
    }
    memmove(c->in, c->in + hl + len, c->in_len - hl - len);
    c->in_len -= hl + len;
  }
}

static int conn_read(struct conn *c) {
  ssize_t n = read(c->fd, c->in + c->in_len, IN_MAX - 1 - c->in_len);
  if (n <= 0) return n < 0 && errno == EAGAIN ? 0 : -1;
  c->in_len += (size_t)n;
  if (c->mode == M_ECHO) {
    out_append(c, c->in, c->in_len);
    c->in_len = 0;
    return conn_write(c);
  }
  if (c->mode == M_POLL) {
    serve_polls(c);
    return conn_write(c);
  }
  if (c->mode != M_HEAD) return c->ws ? ws_client_frames(c) : (c->in_len = 0, 0);
  c->in[c->in_len] = '\0';
  char *end = strstr(c->in, "\r\n\r\n");
  if (!end) return c->in_len >= IN_MAX - 1 ? -1 : 0;
  end[2] = '\0';
  int rc = start_mode(c, c->in);
  end[2] = '\r';
  if (rc < 0) return -1;
  if (c->mode == M_POLL) {
    serve_polls(c); /* the head just read is the first poll */
  } else {
    size_t used = (size_t)(end + 4 - c->in);
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
    if (c->mode == M_ECHO && c->in_len) {
      out_append(c, c->in, c->in_len);
      c->in_len = 0;
    }
  }
  if (c->mode == M_PUSH) want_write(c, 1);
  return conn_write(c);
}

static void on_accept(int listener) {
  for (;;) {
    int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct conn *c = calloc(1, sizeof *c);
    if (!c) die("calloc");
    c->fd = fd;
    c->timer_fd = -1;
    c->item.kind = 1;
    c->item.conn = c;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &c->item};
    epoll_ctl(g_epoll, EPOLL_CTL_ADD, fd, &ev);
  }
}

static void on_stop(int sig) {
  (void)sig;
  g_stop = 1;
}

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 0;
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_stop);
  signal(SIGINT, on_stop);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }

  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listener < 0) die("socket");
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
  if (listen(listener, 4096) < 0) die("listen");
  socklen_t alen = sizeof addr;
  getsockname(listener, (struct sockaddr *)&addr, &alen);

  g_epoll = epoll_create1(EPOLL_CLOEXEC);
  struct item listen_item = {0, NULL};
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &listen_item};
  epoll_ctl(g_epoll, EPOLL_CTL_ADD, listener, &ev);
  printf("port %d\n", ntohs(addr.sin_port));
  fflush(stdout);

  struct epoll_event events[256];
  while (!g_stop) {
    int n = epoll_wait(g_epoll, events, 256, 200);
    for (int i = 0; i < n; i++) {
      struct item *it = events[i].data.ptr;
      if (it->kind == 0) {
        on_accept(listener);
        continue;
      }
      struct conn *c = it->conn;
      int rc = 0;
      if (it->kind == 2) {
        uint64_t ticks;
        if (read(c->timer_fd, &ticks, sizeof ticks) > 0 && c->out_off == c->out_len) {
          send_paced(c);
          rc = conn_write(c);
        }
      } else {
        if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) rc = conn_read(c);
        if (rc == 0 && (events[i].events & EPOLLOUT)) rc = conn_write(c);
      }
      if (rc < 0) {
        /* The other items of this batch may point at c: drop them before freeing it. */
        for (int j = i + 1; j < n; j++) {
          struct item *other = events[j].data.ptr;
          if (other->kind != 0 && other->conn == c) events[j].data.ptr = &listen_item, events[j].events = 0;
        }
        conn_close(c);
      }
    }
  }
  return 0;
}
