// Security matrix for the webhook receiver and the event queue, over the C ABI: slow bodies, a
// connection flood, request smuggling, acknowledgments before queueing, events after the end,
// status floods and the byte bound of the queue. Raw sockets play the hostile senders.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace tidewire::test {
namespace {

using Clock = std::chrono::steady_clock;

int64_t ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

int ms_until(Clock::time_point deadline) {
  return static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
}

// Unsigned deliveries (ids from X-Id): these tests are about HTTP and the queue, not signatures.
Settings receiver(Settings extra = {}) {
  Settings s = {{"transport", "webhook"},     {"url", "http://127.0.0.1:0/hooks"}, {"webhook.scheme", "none"},
                {"webhook.id_header", "X-Id"}, {"webhook.dedup_window_s", "0"}};
  s.insert(s.end(), extra.begin(), extra.end());
  return s;
}

std::string request(const std::string& id, const std::string& body = "{}") {
  return "POST /hooks HTTP/1.1\r\nHost: t\r\nX-Id: " + id + "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

// A bare TCP client: holds a connection, writes what it is told, reads what comes back.
class Client {
 public:
  explicit Client(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = fd_ >= 0 && connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() {
    if (fd_ >= 0) close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }
  int fd() const { return fd_; }
  // False once the server has closed or reset the connection.
  bool send_text(const std::string& text) {
    return ::send(fd_, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
  }
  // Reads what is there without waiting; false once the peer closed (or reset) the connection.
  bool read_available() {
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 0) <= 0) return !closed_;
      char buf[4096];
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_ = true;
        return false;
      }
      received_.append(buf, static_cast<size_t>(n));
    }
  }
  // Reads until the server closes the connection (true) or timeout_ms passes (false).
  bool wait_closed(int timeout_ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (read_available()) {
      int left = ms_until(deadline);
      if (left <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      poll(&p, 1, left);
    }
    return true;
  }
  // Reads until one complete response (head, and a body of its Content-Length) has arrived (true),
  // the server closed the connection, or timeout_ms passed (false). For keep-alive connections,
  // where waiting for the close would always run to the timeout.
  bool wait_response(int timeout_ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      bool open = read_available();
      if (response_complete()) return true;
      int left = ms_until(deadline);
      if (!open || left <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      poll(&p, 1, left);
    }
  }
  bool closed() const { return closed_; }
  const std::string& received() const { return received_; }

 private:
  bool response_complete() const {
    size_t end = received_.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    size_t at = received_.find("\r\nContent-Length: ");
    size_t length = at != std::string::npos && at < end ? std::stoul(received_.substr(at + 18)) : 0;
    return received_.size() >= end + 4 + length;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string received_;
};

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) n++;
  return n;
}

// --- slow bodies and connection floods ---------------------------------------------------------

TEST(SecurityWebhook, SlowBodyTricklersAreCutAtTheRequestTimeout) {
  constexpr int kClients = 200;
  constexpr int kTimeoutMs = 1000;
  Runtime rt;
  Stream s(rt.get(), receiver({{"webhook.request_timeout_ms", std::to_string(kTimeoutMs)},
                               {"webhook.idle_timeout_ms", "10000"},
                               {"webhook.header_timeout_ms", "10000"}}));
  int port = port_of(s);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kClients; i++) {
    clients.push_back(std::make_unique<Client>(port));
    ASSERT_TRUE(clients.back()->connected()) << i;
    // A head announcing a body far larger than what will be sent in time.
    ASSERT_TRUE(clients.back()->send_text("POST /hooks HTTP/1.1\r\nHost: t\r\nX-Id: slow-" + std::to_string(i) +
                                          "\r\nContent-Length: 1000\r\n\r\n"));
  }
  auto start = Clock::now();
  // One body byte per client every 200 ms: never idle, never complete.
  size_t open = clients.size();
  while (open > 0 && ms_since(start) < kTimeoutMs + 5000) {
    open = 0;
    for (auto& c : clients) {
      if (c->closed()) continue;
      if (c->read_available()) {
        c->send_text("x");
        open++;
      }
    }
    if (open > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the trickle's pace
  }
  int64_t elapsed = ms_since(start);
  EXPECT_EQ(open, 0u) << "connections still held after " << elapsed << " ms";
  EXPECT_GE(elapsed, kTimeoutMs - 100);
  for (auto& c : clients)
    EXPECT_EQ(c->received().rfind("HTTP/1.1 408 Request Timeout\r\n", 0), 0u) << c->received();
  Received r;
  EXPECT_EQ(s.next(r, 0), TW_ERR_TIMEOUT);
}

TEST(SecurityWebhook, ConnectionsBeyondMaxConnectionsGet503WithRetryAfterAndAreClosed) {
  constexpr int kMax = 50;
  Runtime rt;
  Stream s(rt.get(), receiver({{"webhook.max_connections", std::to_string(kMax)}, {"webhook.retry_after_s", "7"}}));
  int port = port_of(s);
  std::vector<std::unique_ptr<Client>> held;
  for (int i = 0; i < kMax; i++) {
    held.push_back(std::make_unique<Client>(port));
    ASSERT_TRUE(held.back()->connected());
  }
  // The held ones are served: a request on the last one is answered.
  ASSERT_TRUE(held.back()->send_text(request("held")));
  ASSERT_EQ(s.messages(1).size(), 1u);
  // As many again (refusals pending at once are capped at webhook.max_connections too).
  std::vector<std::unique_ptr<Client>> flood;
  for (int i = 0; i < kMax; i++) {
    flood.push_back(std::make_unique<Client>(port));
    ASSERT_TRUE(flood.back()->connected());
  }
  for (auto& c : flood) {
    EXPECT_TRUE(c->wait_closed(5000));
    EXPECT_EQ(c->received().rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << c->received();
    EXPECT_NE(c->received().find("Retry-After: 7\r\n"), std::string::npos) << c->received();
    EXPECT_NE(c->received().find("webhook.max_connections=50"), std::string::npos) << c->received();
  }
  // Room again once one held connection goes.
  held.pop_back();
  ASSERT_TRUE(eventually([&] {
    Client c(port);
    if (!c.send_text(request("after"))) return false;
    c.wait_response(5000);  // keep-alive when accepted: waiting for the close would time out
    return c.received().rfind("HTTP/1.1 204", 0) == 0;
  }, 20000));
}

// --- request smuggling -------------------------------------------------------------------------

struct Smuggle {
  const char* name;
  std::string text;
};

TEST(SecurityWebhook, AmbiguousFramingIsRefusedWith400AndQueuesNothing) {
  const std::vector<Smuggle> cases = {
      {"CL+TE", "POST /hooks HTTP/1.1\r\nHost: t\r\nX-Id: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
                "2\r\n{}\r\n0\r\n\r\n"},
      {"TE+CL", "POST /hooks HTTP/1.1\r\nHost: t\r\nX-Id: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"
                "2\r\n{}\r\n0\r\n\r\n"},
      {"CL,CL", "POST /hooks HTTP/1.1\r\nHost: t\r\nX-Id: a\r\nContent-Length: 2\r\nContent-Length: 9\r\n\r\n{}"},
      {"CL list", "POST /hooks HTTP/1.1\r\nHost: t\r\nX-Id: a\r\nContent-Length: 2, 9\r\n\r\n{}"},
      {"TE identity", "POST /hooks HTTP/1.1\r\nHost: t\r\nX-Id: a\r\nTransfer-Encoding: identity\r\n"
                      "Content-Length: 2\r\n\r\n{}"},
      {"TE identity alone", "POST /hooks HTTP/1.1\r\nHost: t\r\nX-Id: a\r\nTransfer-Encoding: identity\r\n\r\n{}"},
      {"TE chunked not last", "POST /hooks HTTP/1.1\r\nHost: t\r\nX-Id: a\r\nTransfer-Encoding: chunked, identity\r\n"
                              "\r\n2\r\n{}\r\n0\r\n\r\n"},
      {"bare CR in a header value", "POST /hooks HTTP/1.1\r\nHost: t\r\nX-Id: a\rX-Evil: 1\r\nContent-Length: 2\r\n\r\n{}"},
      {"bare CR as a line end", "POST /hooks HTTP/1.1\r\nHost: t\rX-Id: a\r\nContent-Length: 2\r\n\r\n{}"},
      {"obs-fold", "POST /hooks HTTP/1.1\r\nHost: t\r\nX-Id: a\r\n b\r\nContent-Length: 2\r\n\r\n{}"},
      {"obs-fold of Content-Length", "POST /hooks HTTP/1.1\r\nHost: t\r\nX-Id: a\r\nContent-Length:\r\n 2\r\n\r\n{}"},
      {"space before colon", "POST /hooks HTTP/1.1\r\nHost: t\r\nX-Id: a\r\nContent-Length : 2\r\n\r\n{}"},
  };
  Runtime rt;
  Stream s(rt.get(), receiver());
  int port = port_of(s);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Client client(port);
    ASSERT_TRUE(client.connected());
    client.send_text(c.text);
    EXPECT_TRUE(client.wait_closed(5000));
    EXPECT_EQ(client.received().rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << client.received();
    EXPECT_EQ(count_of(client.received(), "HTTP/1.1 "), 1u) << client.received();
  }
  // A fold that starts a new read is seen too.
  {
    Client client(port);
    client.send_text("POST /hooks HTTP/1.1\r\nHost: t\r\nX-Id: a\r\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // two reads, as a fold split by the network
    client.send_text(" b\r\nContent-Length: 2\r\n\r\n{}");
    EXPECT_TRUE(client.wait_closed(5000));
    EXPECT_EQ(client.received().rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << client.received();
  }
  // Nothing was queued; a well-formed delivery still is.
  Client good(port);
  good.send_text(request("good"));
  auto events = s.messages(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].id, "good");
  EXPECT_EQ(s.stat("messages"), 1u);
}

// --- acknowledgments and the end ---------------------------------------------------------------

// Many rounds of pipelined deliveries: whenever the client has read k acknowledgments, at least
// k events can be taken from the queue at that instant.
TEST(SecurityWebhook, DeliveriesAnswered2xxAreInTheQueueBeforeTheAnswerArrives) {
  constexpr int kRounds = 30;
  constexpr int kPerRound = 200;
  Runtime rt;
  Stream s(rt.get(), receiver({{"queue.max_events", "1000000"}}));
  int port = port_of(s);
  size_t violations = 0;
  for (int round = 0; round < kRounds; round++) {
    Client client(port);
    ASSERT_TRUE(client.connected());
    std::string burst;
    for (int i = 0; i < kPerRound; i++) burst += request(std::to_string(round) + "-" + std::to_string(i));
    ASSERT_TRUE(client.send_text(burst));
    size_t taken = 0;
    auto deadline = Clock::now() + std::chrono::seconds(10);
    size_t acked = 0;
    while (acked < kPerRound && ms_until(deadline) > 0) {
      pollfd p{client.fd(), POLLIN, 0};
      poll(&p, 1, ms_until(deadline));
      client.read_available();
      acked = count_of(client.received(), "HTTP/1.1 204");
      // What the queue holds right now, without waiting.
      tw_event* batch[256];
      size_t n = 0;
      while (taken < acked && tw_stream_next_batch(batch, &n, s.get(), 256, 0) == TW_OK) {
        taken += n;
        for (size_t i = 0; i < n; i++) tw_event_destroy(batch[i]);
      }
      if (taken < acked) violations++;
      while (taken < acked) {  // catch up, so that the next reads are judged on their own
        if (tw_stream_next_batch(batch, &n, s.get(), 256, 1000) != TW_OK) break;
        taken += n;
        for (size_t i = 0; i < n; i++) tw_event_destroy(batch[i]);
      }
    }
    ASSERT_EQ(acked, static_cast<size_t>(kPerRound)) << client.received().size();
    while (taken < acked) {
      tw_event* e = nullptr;
      ASSERT_EQ(tw_stream_next(&e, s.get(), 1000), TW_OK);
      tw_event_destroy(e);
      taken++;
    }
  }
  EXPECT_EQ(violations, 0u) << "times acknowledgments were read before their events could be taken";
}

// A sender keeps delivering while the stream is closed: every delivery answered 2xx is queued,
// and CLOSED is the last event. Each round races the close against deliveries in flight; a few
// rounds suffice to hit "acknowledged after CLOSED" while staying short under TSan.
TEST(SecurityWebhook, NothingFollowsClosedAndEveryAcknowledgedDeliveryIsQueued) {
  for (int round = 0; round < 4; round++) {
    SCOPED_TRACE(round);
    Runtime rt;
    Stream s(rt.get(), receiver({{"status_events", "true"}, {"queue.max_events", "1000000"}}));
    int port = port_of(s);
    std::vector<std::unique_ptr<Client>> senders;
    for (int c = 0; c < 8; c++) senders.push_back(std::make_unique<Client>(port));
    std::atomic<bool> stop{false};
    std::thread writer([&] {
      std::vector<bool> alive(senders.size(), true);
      size_t left = senders.size();
      for (int i = 0; !stop && left > 0; i++)
        for (size_t c = 0; c < senders.size(); c++)
          if (alive[c] && !senders[c]->send_text(request(std::to_string(c) + "-" + std::to_string(i)))) {
            alive[c] = false;  // closed by the receiver: nothing more to send there
            left--;
          }
    });
    // Runs on every exit path, so a failed expectation never leaves the writer joinable (which
    // would terminate) or blocked in send(): shutting down the write side wakes a blocked send
    // and still lets the answers already sent be read.
    auto stop_writer = [&] {
      stop = true;
      for (auto& c : senders) ::shutdown(c->fd(), SHUT_WR);
      if (writer.joinable()) writer.join();
    };
    struct Guard {
      decltype(stop_writer)& f;
      ~Guard() { f(); }
    } guard{stop_writer};
    EXPECT_TRUE(eventually([&] { return s.stat("messages") >= 200; }, 30000)) << s.stat("messages");
    tw_stream_close(s.get());
    auto events = s.until_end(30000);
    stop = true;
    // Read before shutting anything down, so that a connection the closed stream left open is
    // seen (our own FIN could make the receiver close it). Reading alongside the writer is safe:
    // it only sends.
    size_t acked = 0;
    for (size_t c = 0; c < senders.size(); c++) {
      EXPECT_TRUE(senders[c]->wait_closed(10000)) << "sender " << c << " still open after CLOSED";
      acked += count_of(senders[c]->received(), "HTTP/1.1 204");
    }
    stop_writer();
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().kind, TW_KIND_CLOSED);
    size_t closed_at = events.size();
    for (size_t i = 0; i < events.size(); i++)
      if (events[i].kind == TW_KIND_CLOSED) closed_at = std::min(closed_at, i);
    EXPECT_EQ(closed_at, events.size() - 1) << "events after CLOSED: " << events.size() - 1 - closed_at;
    std::set<std::string> queued;
    for (const auto& e : events)
      if (e.kind == TW_KIND_MESSAGE) queued.insert(e.id);
    // Answers go out in request order per connection, so the acknowledged ones are the first.
    EXPECT_LE(acked, queued.size());
  }
}

// --- status floods and the byte bound ----------------------------------------------------------

TEST(SecurityWebhook, ReconnectingStatusFloodStaysWithinTheQueueCapacity) {
  RefusingPort refusing;  // outlives the stream, so the port cannot go to another test's peer
  Runtime rt;
  Stream s(rt.get(), {{"transport", "poll"},
                      {"url", "http://127.0.0.1:" + std::to_string(refusing.port()) + "/flood"},
                      {"status_events", "true"},
                      {"queue.max_events", "8"},
                      {"reconnect.initial_ms", "0"},
                      {"reconnect.max_ms", "0"}});
  ASSERT_TRUE(eventually([&] { return s.stat("reconnects") >= 500; }, 20000)) << s.stat("reconnects");
  EXPECT_LE(s.stat("queue_depth"), 8u);
  EXPECT_LE(s.stat("queue_peak"), 8u);
  EXPECT_GT(s.stat("dropped"), 0u);
  // The newest state is still there, and the end still comes last.
  tw_stream_close(s.get());
  auto events = s.until_end();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().kind, TW_KIND_CLOSED);
  EXPECT_EQ(events[events.size() - 2].kind, TW_KIND_RECONNECTING);
}

TEST(SecurityWebhook, OpenIsQueuedOnceForManySuccessfulPolls) {
  Runtime rt;
  Stream s(rt.get(), {{"transport", "poll"},
                      {"url", http_peer().url("/poll/plain?key=" + unique_key())},
                      {"status_events", "true"},
                      {"poll.interval_ms", "0"}});
  size_t opens = 0, got = 0;
  while (got < 20) {
    Received r;
    ASSERT_EQ(s.next(r), TW_OK);
    if (r.kind == TW_KIND_OPEN) opens++;
    if (r.kind == TW_KIND_MESSAGE) got++;
  }
  EXPECT_EQ(opens, 1u);
}

TEST(SecurityWebhook, QueueMaxBytesRefusesDeliveriesLikeAFullQueueAndTakesOneOversizedAlone) {
  Runtime rt;
  Stream s(rt.get(), receiver({{"queue.max_bytes", "4096"}, {"webhook.retry_after_s", "3"}}));
  int port = port_of(s);
  auto deliver = [&](const std::string& id, size_t size) {
    Client c(port);
    c.send_text(request(id, std::string(size, 'x')));
    EXPECT_TRUE(c.wait_response(10000)) << id << ": " << c.received();
    std::string head = c.received();
    return head.substr(0, head.find("\r\n"));
  };
  EXPECT_EQ(deliver("a", 2100), "HTTP/1.1 204 No Content");
  EXPECT_EQ(deliver("b", 2100), "HTTP/1.1 204 No Content");
  // Past the limit (4200 body bytes, and the ids and headers): the queue is full.
  EXPECT_EQ(deliver("c", 2100), "HTTP/1.1 503 Service Unavailable");
  auto events = s.messages(2);
  ASSERT_EQ(events.size(), 2u);
  // Emptied, it takes one delivery larger than the whole limit, so nothing is stuck.
  EXPECT_EQ(deliver("big", 10000), "HTTP/1.1 204 No Content");
  events = s.messages(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data.size(), 10000u);
}

TEST(SecurityWebhook, QueueMaxBytesWithDropOldestKeepsTheNewestWithinTheBound) {
  Runtime rt;
  Stream s(rt.get(), receiver({{"queue.max_bytes", "5000"}, {"queue.overflow", "drop_oldest"}}));
  int port = port_of(s);
  for (int i = 0; i < 10; i++) {
    Client c(port);
    c.send_text(request(std::to_string(i), std::string(1000, 'x')));
    ASSERT_TRUE(c.wait_response(10000)) << c.received();
    ASSERT_EQ(c.received().rfind("HTTP/1.1 204", 0), 0u);
  }
  EXPECT_GE(s.stat("dropped"), 5u);
  EXPECT_LE(s.stat("queue_depth"), 5u);
  auto events = s.messages(s.stat("queue_depth"));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().id, "9");
}

// --- the C ABI's edges and the log -------------------------------------------------------------

TEST(SecurityWebhook, StreamFunctionsRefuseNullArgumentsWithoutCrashing) {
  tw_event* out[4];
  size_t n = 7;
  EXPECT_EQ(tw_stream_next_batch(out, &n, nullptr, 4, 0), TW_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(n, 0u);
  EXPECT_NE(std::string(tw_last_error_message()).find("tw_stream_next_batch"), std::string::npos);
  EXPECT_EQ(tw_stream_next_batch(nullptr, &n, nullptr, 4, 0), TW_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(tw_stream_fd(nullptr), -1);
  EXPECT_NE(std::string(tw_last_error_message()).find("tw_stream_fd"), std::string::npos);
  tw_stream_wakeup(nullptr);
  EXPECT_NE(std::string(tw_last_error_message()).find("tw_stream_wakeup"), std::string::npos);
  tw_stream_close(nullptr);
  EXPECT_NE(std::string(tw_last_error_message()).find("tw_stream_close"), std::string::npos);
  tw_stream_destroy(nullptr);
}

std::mutex g_log_mutex;
std::string g_log;

TEST(SecurityWebhook, RetriesLogTheUrlWithoutItsQuery) {
  tw_log_set(TW_LOG_DEBUG,
             [](void*, tw_log_level, const char* line) {
               std::lock_guard<std::mutex> lock(g_log_mutex);
               g_log += line;
               g_log += "\n";
             },
             nullptr);
  {
    RefusingPort refusing;
    Runtime rt;
    Stream s(rt.get(), {{"transport", "poll"},
                        {"url", "http://127.0.0.1:" + std::to_string(refusing.port()) +
                                    "/feed?token=s3cr3t-t0ken&x=1"},
                        {"reconnect.initial_ms", "0"},
                        {"reconnect.max_ms", "0"}});
    ASSERT_TRUE(eventually([&] { return s.stat("reconnects") >= 3; }));
  }
  tw_log_set(TW_LOG_WARN, nullptr, nullptr);
  std::lock_guard<std::mutex> lock(g_log_mutex);
  EXPECT_NE(g_log.find("retrying"), std::string::npos) << g_log;
  EXPECT_NE(g_log.find("/feed?REDACTED"), std::string::npos) << g_log;
  EXPECT_EQ(g_log.find("s3cr3t-t0ken"), std::string::npos) << g_log;
}

}  // namespace
}  // namespace tidewire::test
