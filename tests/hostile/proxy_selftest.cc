// The fault proxy itself: each fault does exactly what the suites rely on, against a plain
// in-process upstream that sends a known byte sequence.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "fault_proxy.h"
#include "peer.h"

namespace tidewire::test {
namespace {

using Clock = std::chrono::steady_clock;

// Accepts connections and sends `payload` on each, then keeps it open until the client leaves
// (so a cut or stall is the proxy's doing, not the upstream's).
class Upstream {
 public:
  explicit Upstream(std::string payload) : payload_(std::move(payload)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) continue;
        accepted_++;
        size_t off = 0;
        while (off < payload_.size()) {
          ssize_t n = ::send(c, payload_.data() + off, payload_.size() - off, MSG_NOSIGNAL);
          if (n <= 0) break;
          off += static_cast<size_t>(n);
        }
        char buf[4096];
        for (;;) {  // until the client (the proxy) closes
          pollfd q{c, POLLIN, 0};
          if (stop_) break;
          if (::poll(&q, 1, 50) <= 0) continue;
          if (::recv(c, buf, sizeof buf, 0) <= 0) break;
        }
        ::close(c);
      }
    });
  }
  ~Upstream() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  std::string payload_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

struct ReadResult {
  std::string data;
  enum End { eof, reset, timeout } end = timeout;
  int reads = 0;
};

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << std::strerror(errno);
  return fd;
}

// Reads until EOF, reset, or `quiet_ms` without data.
ReadResult read_all(int fd, int quiet_ms) {
  ReadResult r;
  char buf[65536];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, quiet_ms) == 0) return r;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      r.data.append(buf, static_cast<size_t>(n));
      r.reads++;
      continue;
    }
    r.end = n == 0 ? ReadResult::eof : ReadResult::reset;
    return r;
  }
}

std::string numbered(size_t bytes) {
  std::string s;
  for (int i = 0; s.size() < bytes; ++i) s += "id: " + std::to_string(i) + "\n";
  return s.substr(0, bytes);
}

TEST(FaultProxy, PassesEverythingThroughAndCounts) {
  const std::string payload = numbered(1 << 20);
  Upstream up(payload);
  FaultProxy proxy(up.port());
  int fd = connect_to(proxy.port());
  ::send(fd, "hello", 5, MSG_NOSIGNAL);
  ReadResult r = read_all(fd, 500);
  ::close(fd);
  EXPECT_EQ(r.data, payload);
  EXPECT_EQ(proxy.accepted(), 1u);
  EXPECT_TRUE(proxy.wait_for([&](const std::vector<ConnInfo>&) { return proxy.bytes_down() == payload.size(); }, 2000));
  EXPECT_TRUE(proxy.wait_for([](const std::vector<ConnInfo>& c) { return c.size() == 1 && c[0].bytes_up == 5; }, 2000));
}

TEST(FaultProxy, CutsAtAnExactOffset) {
  const std::string payload = numbered(100000);
  Upstream up(payload);
  FaultProxy proxy(up.port(), [](size_t) { return FaultPlan::at(Fault::cut, 12345); });
  int fd = connect_to(proxy.port());
  ReadResult r = read_all(fd, 2000);
  ::close(fd);
  EXPECT_EQ(r.end, ReadResult::eof);
  EXPECT_EQ(r.data, payload.substr(0, 12345));
  EXPECT_EQ(proxy.faults_triggered(), 1u);
}

TEST(FaultProxy, CutsRightAfterTheKthOccurrenceOfAPattern) {
  const std::string payload = numbered(100000);
  Upstream up(payload);
  // Right after the newline that ends "id: 500": the start of "id: 501" is the 502nd "id: ".
  FaultProxy proxy(up.port(), [](size_t) { return FaultPlan::after_pattern(Fault::cut, "id: ", 502, 0); });
  int fd = connect_to(proxy.port());
  ReadResult r = read_all(fd, 2000);
  ::close(fd);
  size_t expected = payload.find("id: 501\n");
  EXPECT_EQ(r.data, payload.substr(0, expected));
  EXPECT_EQ(r.data.substr(r.data.size() - 8), "id: 500\n");
}

TEST(FaultProxy, CutsAtTheEndOfTheLineAfterAPattern) {
  const std::string payload = numbered(100000);
  Upstream up(payload);
  // "right after the line that holds the 10th `id: `" (id: 9), whatever its length.
  FaultProxy proxy(up.port(), [](size_t) { return FaultPlan::after_pattern_then(Fault::cut, "id: ", 10, "\n"); });
  int fd = connect_to(proxy.port());
  ReadResult r = read_all(fd, 2000);
  ::close(fd);
  EXPECT_EQ(r.data, payload.substr(0, payload.find("id: 10\n")));
}

TEST(FaultProxy, CutsTheClientsRequestMidway) {
  Upstream up("");
  FaultProxy proxy(up.port(), [](size_t) { return FaultPlan::at(Fault::cut, 100, Dir::up); });
  int fd = connect_to(proxy.port());
  const std::string request(1000, 'r');
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  ReadResult r = read_all(fd, 2000);
  ::close(fd);
  EXPECT_EQ(r.end, ReadResult::eof);
  EXPECT_TRUE(proxy.wait_for([](const std::vector<ConnInfo>& c) { return c.size() == 1 && c[0].closed; }, 2000));
  EXPECT_EQ(proxy.connections()[0].bytes_up, 100u);
}

TEST(FaultProxy, ResetsAfterNBytes) {
  const std::string payload = numbered(100000);
  Upstream up(payload);
  FaultProxy proxy(up.port(), [](size_t) { return FaultPlan::at(Fault::rst, 5000); });
  int fd = connect_to(proxy.port());
  ReadResult r = read_all(fd, 2000);
  ::close(fd);
  EXPECT_EQ(r.end, ReadResult::reset);
  EXPECT_LE(r.data.size(), 5000u);
  EXPECT_EQ(r.data, payload.substr(0, r.data.size()));
}

TEST(FaultProxy, StallsAfterNBytesWithTheSocketOpen) {
  const std::string payload = numbered(100000);
  Upstream up(payload);
  FaultProxy proxy(up.port(), [](size_t) { return FaultPlan::at(Fault::stall, 777); });
  auto start = Clock::now();  // before connecting: the stall may begin before connect() returns
  int fd = connect_to(proxy.port());
  ReadResult r = read_all(fd, 300);
  EXPECT_EQ(r.end, ReadResult::timeout);  // still open, silent
  EXPECT_EQ(r.data, payload.substr(0, 777));
  auto conns = proxy.connections();
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_TRUE(conns[0].triggered);
  EXPECT_GE(conns[0].triggered_at, start);
  ::close(fd);
  // The client leaving ends the stalled connection.
  EXPECT_TRUE(proxy.wait_for([](const std::vector<ConnInfo>& c) { return c[0].closed; }, 2000));
}

TEST(FaultProxy, SlicesIntoSingleBytes) {
  const std::string payload = numbered(2000);
  Upstream up(payload);
  FaultProxy proxy(up.port(), [](size_t) { return FaultPlan::at(Fault::slice, 0); });
  int fd = connect_to(proxy.port());
  ReadResult r;
  char c;
  // Read one byte at a time, slowly enough that the proxy's 1-byte segments arrive separately.
  while (r.data.size() < payload.size()) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0 || ::recv(fd, &c, 1, 0) != 1) break;
    r.data.push_back(c);
  }
  ::close(fd);
  EXPECT_EQ(r.data, payload);
  EXPECT_TRUE(proxy.wait_for([&](const std::vector<ConnInfo>&) { return proxy.bytes_down() == payload.size(); }, 2000));
}

TEST(FaultProxy, HoldAcceptsButNeverAnswers) {
  Upstream up("never seen");
  FaultProxy proxy(up.port(), [](size_t) { FaultPlan p; p.fault = Fault::hold; return p; });
  int fd = connect_to(proxy.port());
  ReadResult r = read_all(fd, 300);
  ::close(fd);
  EXPECT_EQ(r.end, ReadResult::timeout);
  EXPECT_TRUE(r.data.empty());
  EXPECT_EQ(up.accepted(), 0);
}

TEST(FaultProxy, UnansweredEndpointLeavesConnectPending) {
  UnansweredEndpoint endpoint;
  EXPECT_TRUE(endpoint.probe_hangs(500));
}

TEST(FaultProxy, ScriptChoosesPerConnection) {
  const std::string payload = numbered(10000);
  Upstream up(payload);
  FaultProxy proxy(up.port(), [](size_t i) { return i == 0 ? FaultPlan::at(Fault::cut, 10) : FaultPlan{}; });
  int a = connect_to(proxy.port());
  EXPECT_EQ(read_all(a, 2000).data.size(), 10u);
  ::close(a);
  int b = connect_to(proxy.port());
  EXPECT_EQ(read_all(b, 300).data, payload);
  ::close(b);
  EXPECT_EQ(proxy.accepted(), 2u);
}

}  // namespace
}  // namespace tidewire::test
