// The webhook receiver's HTTP path on arbitrary bytes from a real TCP client: llhttp, the head and
// body limits, chunked bodies, pipelining, Expect, and signature verification behind them. The
// server must answer or close every connection, never crash, and never answer 2xx to a request
// that does not verify.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

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
    settings_.keys = {"fuzz-secret"};
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
  WebhookServer* server;
  int port;
  Harness() {
    uv_loop_init(&loop);
    limits.max_header_bytes = 2048;
    limits.max_body_bytes = 4096;
    limits.header_timeout_ms = 200;
    limits.idle_timeout_ms = 200;
    server = new WebhookServer(&loop, limits, handler);
    port = server->listen("127.0.0.1", 0);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness* h = new Harness();
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(h->port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) std::abort();
  fcntl(fd, F_SETFL, O_NONBLOCK);
  size_t sent = 0;
  std::string reply;
  bool eof = false;
  // Drive the server's loop and the client socket together until the server has closed the
  // connection (bounded: the server's own idle timeout closes a stalled one).
  for (int round = 0; round < 20000 && !eof; round++) {
    if (sent < size) {
      ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<size_t>(n);
      if (sent == size) shutdown(fd, SHUT_WR);
    } else if (size == 0 && round == 0) {
      shutdown(fd, SHUT_WR);
    }
    uv_run(&h->loop, UV_RUN_NOWAIT);
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n > 0) reply.append(buf, static_cast<size_t>(n));
    if (n == 0) eof = true;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) eof = true;
    if (!eof && n < 0) {
      pollfd p{fd, POLLIN, 0};
      poll(&p, 1, 1);
    }
  }
  close(fd);
  if (!eof) std::abort();  // the server neither answered nor closed
  // Only a request signed with the secret can be accepted; the fuzzer cannot forge HMAC-SHA256.
  if (reply.find("HTTP/1.1 2") != std::string::npos && std::string(reinterpret_cast<const char*>(data), size).find("x-signature") == std::string::npos &&
      std::string(reinterpret_cast<const char*>(data), size).find("X-Signature") == std::string::npos)
    std::abort();
  return 0;
}
