// The webhook receiver's HTTP path on arbitrary bytes from a real TCP client: llhttp, the head and
// body limits, chunked bodies, pipelining, Expect, and signature verification behind them. The
// server must answer or close every connection, never crash, and never answer 2xx to a request
// that does not verify.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "transport/webhook_server.h"

using namespace tidewire::detail;

namespace {

class VerifyingHandler : public WebhookServer::Handler {
 public:
  VerifyingHandler() {
    settings_.scheme = WebhookScheme::hmac_sha256;
    settings_.keys = {HmacKey("fuzz-secret")};
    settings_.signature_header = "x-signature";
    settings_.id_header = "x-id";
  }
  std::optional<ServerResponse> on_head(const ServerRequest& head) override {
    if (head.path != "/hooks") return ServerResponse{404, {}, "no such path\n"};
    if (head.method != "POST") return ServerResponse{405, {{"Allow", "POST"}}, "POST only\n"};
    return std::nullopt;
  }
  ServerResponse on_request(ServerRequest& request) override {
    WebhookVerdict v = verify_webhook(settings_, request.headers, request.body, 1700000000);
    return v.ok() ? ServerResponse{204, {}, ""} : ServerResponse{v.status, {}, v.reason + "\n"};
  }
  void on_answered(int) override {}

 private:
  SignatureSettings settings_;
};

struct Harness {
  uv_loop_t loop;
  VerifyingHandler handler;
  ServerLimits limits;
  WebhookServer* server = nullptr;
  int port = 0;
};

// The harness cannot run its own server or reach it (out of descriptors or ports, say): that is no
// finding about any input, so it is not reported as a crash. A fault that persists ends the run with
// its own exit status (scripts/fuzz.sh reports it as a harness fault), skipping libFuzzer's crash
// handling, which would save an innocent input as a reproducer.
constexpr int kHarnessFaultExit = 3;
constexpr int kMaxConsecutiveFaults = 20;

[[noreturn]] void harness_fault(const std::string& what) {
  fprintf(stderr, "fuzz_webhook_request: HARNESS FAULT (not a finding): %s\n", what.c_str());
  _exit(kHarnessFaultExit);
}

[[noreturn]] void finding(const char* what) {
  fprintf(stderr, "fuzz_webhook_request: FINDING: %s\n", what);
  std::abort();
}

Harness* make_harness() {
  auto* h = new Harness();
  if (int rc = uv_loop_init(&h->loop)) harness_fault(std::string("uv_loop_init: ") + uv_strerror(rc));
  h->limits.max_header_bytes = 2048;
  h->limits.max_body_bytes = 4096;
  h->limits.header_timeout_ms = 200;
  h->limits.idle_timeout_ms = 200;
  h->server = new WebhookServer(&h->loop, h->limits, h->handler);
  try {
    h->port = h->server->listen("127.0.0.1", 0);
  } catch (const std::exception& e) {
    harness_fault(e.what());
  }
  return h;
}

// Waits until the client socket is ready for `events` or the server's loop has work, at most
// `timeout_ms`, then runs the loop once. A signal (libFuzzer's -timeout alarm) only shortens the wait.
void pump(Harness& h, int fd, short events, int timeout_ms) {
  int loop_timeout = uv_backend_timeout(&h.loop);
  if (loop_timeout >= 0 && loop_timeout < timeout_ms) timeout_ms = loop_timeout;
  pollfd p[2] = {{fd, events, 0}, {uv_backend_fd(&h.loop), POLLIN, 0}};
  poll(p, 2, timeout_ms);
  uv_run(&h.loop, UV_RUN_NOWAIT);
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A non-blocking connect, completed while the server's loop runs (so it accepts), within `deadline`.
// Returns the connected socket, or -1 with errno set. Never fails for a signal (EINTR).
int connect_client(Harness& h, int64_t deadline) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(h.port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
  if (errno != EINPROGRESS && errno != EINTR) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  // In progress (EINTR also leaves it in progress): done when the socket turns writable.
  while (now_ms() < deadline) {
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, 0) == 1) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == 0) return fd;
      close(fd);
      errno = err;
      return -1;
    }
    pump(h, fd, POLLOUT, 10);
  }
  close(fd);
  errno = ETIMEDOUT;
  return -1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness* h = make_harness();
  static int consecutive_faults = 0;
  // Far above the server's own 200 ms deadlines (a loaded machine), below libFuzzer's -timeout (10 s in
  // scripts/fuzz.sh).
  const int64_t deadline = now_ms() + 8000;
  int fd = -1;
  for (int attempt = 0; attempt < 3 && fd < 0; attempt++) {
    fd = connect_client(*h, deadline);
    if (fd < 0) fprintf(stderr, "fuzz_webhook_request: harness: connect to 127.0.0.1:%d failed: %s\n", h->port, strerror(errno));
  }
  if (fd < 0) {
    if (++consecutive_faults >= kMaxConsecutiveFaults) {
      harness_fault(std::to_string(consecutive_faults) + " inputs in a row could not connect");
    }
    return 0;
  }
  consecutive_faults = 0;
  size_t sent = 0;
  std::string reply;
  bool eof = false;
  if (size == 0) shutdown(fd, SHUT_WR);
  // Drive the server's loop and the client socket together until the server has closed the
  // connection; the server's own idle timeout closes a stalled one well before the deadline.
  while (!eof && now_ms() < deadline) {
    if (sent < size) {
      ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<size_t>(n);
      if (sent == size) shutdown(fd, SHUT_WR);
    }
    uv_run(&h->loop, UV_RUN_NOWAIT);
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n > 0) reply.append(buf, static_cast<size_t>(n));
    if (n == 0) eof = true;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) eof = true;
    if (!eof && n <= 0) pump(*h, fd, static_cast<short>(sent < size ? POLLIN | POLLOUT : POLLIN), 50);
  }
  close(fd);
  if (!eof) finding("the server neither answered nor closed the connection within 8 s");
  // Only a request signed with the secret can be accepted; the fuzzer cannot forge HMAC-SHA256.
  std::string input(reinterpret_cast<const char*>(data), size);
  if (reply.find("HTTP/1.1 2") != std::string::npos && input.find("x-signature") == std::string::npos &&
      input.find("X-Signature") == std::string::npos)
    finding("the server answered 2xx to a request without a signature");
  return 0;
}
