// webhook: deliveries signed and sent by tests/peers/webhook_sender.py (the real standardwebhooks
// package, GitHub's recipe with Python's hmac, aiohttp), plus curl and raw sockets for the HTTP
// edges: statuses, keep-alive, pipelining, chunked bodies, 100-continue, timeouts and close.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "harness.h"
#include "redis_server.h"

extern char** environ;

namespace tidewire::test {
namespace {

using Clock = std::chrono::steady_clock;

const char* const kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

int64_t ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

int ms_until(Clock::time_point deadline) {
  return static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
}

Settings webhook(Settings extra = {}) {
  Settings s = {{"transport", "webhook"}, {"url", "http://127.0.0.1:0/hooks"}, {"webhook.secret", kSecret}};
  s.insert(s.end(), extra.begin(), extra.end());
  return s;
}

// Unsigned deliveries, for tests about HTTP rather than signatures.
Settings unsigned_webhook(Settings extra = {}) {
  Settings s = webhook({{"webhook.scheme", "none"}, {"webhook.secret", ""}, {"webhook.id_header", "X-Id"}});
  s.insert(s.end(), extra.begin(), extra.end());
  return s;
}

struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs argv[0] (looked up in PATH) to completion, bounded by timeout_ms (then SIGKILL).
ProcessResult run_process(const std::vector<std::string>& argv, int timeout_ms) {
  ProcessResult r;
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return r;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    close(out[0]);
    close(err[0]);
    ADD_FAILURE() << "spawning " << argv[0] << ": " << std::strerror(rc);
    return r;
  }
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open = 2;
  while (open > 0) {
    int left = ms_until(deadline);
    if (left <= 0) {
      kill(pid, SIGKILL);
      ADD_FAILURE() << argv[0] << " did not finish within " << timeout_ms << " ms";
      break;
    }
    if (poll(fds, 2, left) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; i++) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[65536];
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        open--;
      }
    }
  }
  for (auto& p : fds)
    if (p.fd >= 0) close(p.fd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// One answer the sender received, from its JSON line.
struct Answer {
  int status = 0;
  std::string id;
  std::string retry_after;
  std::string allow;
  std::string body;
  std::string error;
  int conn = 0;
  int interim = 0;
};

std::string json_field(const std::string& line, const std::string& name) {
  std::smatch m;
  if (std::regex_search(line, m, std::regex("\"" + name + R"re(": ("((?:[^"\\]|\\.)*)"|-?\d+))re")))
    return m[2].matched ? m[2].str() : m[1].str();
  return "";
}

// Runs the sender against `url` and returns one answer per delivery, in order.
std::vector<Answer> send(const std::string& url, const std::vector<std::string>& options, int timeout_ms = 30000) {
  std::vector<std::string> argv = {"python3", peer_script("webhook_sender.py"), url, "--timeout",
                                   std::to_string(timeout_ms / 1000 - 2)};
  argv.insert(argv.end(), options.begin(), options.end());
  ProcessResult r = run_process(argv, timeout_ms);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<Answer> answers;
  size_t start = 0;
  while (start < r.out.size()) {
    size_t end = r.out.find('\n', start);
    std::string line = r.out.substr(start, end == std::string::npos ? std::string::npos : end - start);
    start = end == std::string::npos ? r.out.size() : end + 1;
    if (line.empty()) continue;
    Answer a;
    a.status = std::atoi(json_field(line, "status").c_str());
    a.id = json_field(line, "id");
    a.retry_after = json_field(line, "retry_after");
    a.allow = json_field(line, "allow");
    a.body = json_field(line, "body");
    a.error = json_field(line, "error");
    a.conn = std::atoi(json_field(line, "conn").c_str());
    a.interim = std::atoi(json_field(line, "interim").c_str());
    EXPECT_TRUE(a.error.empty()) << a.error;
    answers.push_back(a);
  }
  return answers;
}

std::vector<Answer> send_signed(const std::string& url, std::vector<std::string> options = {}) {
  options.insert(options.begin(), {"--secret", kSecret});
  return send(url, options);
}

std::vector<int> statuses(const std::vector<Answer>& answers) {
  std::vector<int> out;
  for (const auto& a : answers) out.push_back(a.status);
  return out;
}

// A bare TCP client, to hold connections open, send partial requests and watch the server close.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() { close(fd_); }
  bool connected() const { return connected_; }
  void send_text(const std::string& text) {
    ASSERT_EQ(::send(fd_, text.data(), text.size(), MSG_NOSIGNAL), static_cast<ssize_t>(text.size()));
  }
  // Reads until the server closes the connection (true) or timeout_ms passes (false).
  bool wait_closed(int timeout_ms) { return read_until([] { return false; }, timeout_ms) == Read::closed; }
  // Reads until `text` has arrived (true), bounded by timeout_ms.
  bool wait_for(const std::string& text, int timeout_ms) {
    return read_until([&] { return received_.find(text) != std::string::npos; }, timeout_ms) == Read::done;
  }
  const std::string& received() const { return received_; }

 private:
  enum class Read { done, closed, timed_out };
  template <typename Done>
  Read read_until(Done done, int timeout_ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!done()) {
      int left = ms_until(deadline);
      if (left <= 0) return Read::timed_out;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, left) <= 0) continue;
      char buf[4096];
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return Read::closed;
      received_.append(buf, static_cast<size_t>(n));
    }
    return Read::done;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string received_;
};

const char* const kUnsignedRequest = "POST /hooks HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nX-Id: raw\r\n\r\n{}";

// Opens a stream expected to fail; returns the code and sets `message`.
tw_err open_error(tw_runtime* rt, const Settings& settings, std::string& message) {
  tw_config* config = nullptr;
  EXPECT_EQ(tw_config_create(&config), TW_OK);
  // Defaults first, the test's own settings after: a later one replaces an earlier one on purpose.
  for (const auto& kv : settings) {
    EXPECT_EQ(tw_config_unset(config, kv.first.c_str()), TW_OK) << kv.first;
    EXPECT_EQ(tw_config_set(config, kv.first.c_str(), kv.second.c_str()), TW_OK);
  }
  tw_stream* stream = nullptr;
  tw_err err = tw_stream_open(&stream, rt, config);
  message = tw_last_error_message();
  EXPECT_EQ(stream, nullptr);
  tw_stream_destroy(stream);
  tw_config_destroy(config);
  return err;
}

TEST(Webhook, StreamUrlReportsThePortReallyBound) {
  Runtime rt;
  Stream s(rt.get(), webhook());
  int port = port_of(s);
  EXPECT_GT(port, 0);
  RawClient c(port);
  EXPECT_TRUE(c.connected());
}

TEST(Webhook, VerifiedDeliveryIsAcknowledgedAfterItIsQueuedWithIdTypeDataAndHeaders) {
  Runtime rt;
  Stream s(rt.get(), webhook());
  auto answers = send_signed(url_of(s), {"--ids", "msg_2x6cVIEx3XNb2a", "--type", "invoice.paid"});
  ASSERT_EQ(statuses(answers), std::vector<int>{204});
  auto events = s.messages(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].id, "msg_2x6cVIEx3XNb2a");
  EXPECT_EQ(events[0].type, "invoice.paid");
  EXPECT_EQ(events[0].data, R"({"type": "invoice.paid", "id": "msg_2x6cVIEx3XNb2a", "n": 0})");
  EXPECT_EQ(events[0].headers["webhook-id"], "msg_2x6cVIEx3XNb2a");
  EXPECT_EQ(events[0].headers["content-type"], "application/json");
  EXPECT_EQ(events[0].headers["user-agent"], "tidewire-webhook-sender");
  EXPECT_EQ(events[0].headers.count("webhook-signature"), 1u);
  EXPECT_EQ(s.stat("messages"), 1u);
  EXPECT_EQ(s.stat("requests"), 1u);
  EXPECT_EQ(s.stat("errors"), 0u);
}

TEST(Webhook, ForgedSignatureIs401AndQueuesNothing) {
  Runtime rt;
  Stream s(rt.get(), webhook());
  auto answers = send_signed(url_of(s), {"--forge"});
  ASSERT_EQ(statuses(answers), std::vector<int>{401});
  EXPECT_NE(answers[0].body.find("no signature matched"), std::string::npos);
  Received r;
  // The answer is written after the decision: an event would already be queued.
  EXPECT_EQ(s.next(r, 0), TW_ERR_TIMEOUT);
  EXPECT_EQ(s.stat("errors"), 1u);
  EXPECT_EQ(s.stat("requests"), 1u);
}

TEST(Webhook, MissingSignatureHeaderIs400) {
  Runtime rt;
  Stream s(rt.get(), webhook());
  auto answers = send_signed(url_of(s), {"--omit", "webhook-signature"});
  ASSERT_EQ(statuses(answers), std::vector<int>{400});
  EXPECT_NE(answers[0].body.find("missing webhook-signature header"), std::string::npos);
  Received r;
  EXPECT_EQ(s.next(r, 0), TW_ERR_TIMEOUT);
}

TEST(Webhook, StaleOrFutureTimestampIs401) {
  Runtime rt;
  Stream s(rt.get(), webhook({{"webhook.tolerance_s", "60"}}));
  auto stale = send_signed(url_of(s), {"--timestamp-offset", "-3600"});
  ASSERT_EQ(statuses(stale), std::vector<int>{401});
  EXPECT_NE(stale[0].body.find("timestamp outside tolerance"), std::string::npos);
  auto future = send_signed(url_of(s), {"--timestamp-offset", "3600"});
  ASSERT_EQ(statuses(future), std::vector<int>{401});
  Received r;
  EXPECT_EQ(s.next(r, 0), TW_ERR_TIMEOUT);
}

TEST(Webhook, WrongPathIs404AndWrongMethodIs405AllowingPost) {
  Runtime rt;
  Stream s(rt.get(), webhook());
  EXPECT_EQ(statuses(send_signed(url_of(s), {"--path", "/elsewhere"})), std::vector<int>{404});
  auto get = send_signed(url_of(s), {"--method", "GET"});
  ASSERT_EQ(statuses(get), std::vector<int>{405});
  EXPECT_EQ(get[0].allow, "POST");
  EXPECT_EQ(s.stat("errors"), 2u);
  Received r;
  EXPECT_EQ(s.next(r, 0), TW_ERR_TIMEOUT);
}

TEST(Webhook, BodyOverTheLimitIs413WhetherAnnouncedOrChunked) {
  Runtime rt;
  Stream s(rt.get(), webhook({{"webhook.max_body_bytes", "1024"}}));
  EXPECT_EQ(statuses(send_signed(url_of(s), {"--body-bytes", "1048576"})), std::vector<int>{413});
  EXPECT_EQ(statuses(send_signed(url_of(s), {"--body-bytes", "4096", "--mode", "chunked"})), std::vector<int>{413});
  EXPECT_EQ(statuses(send_signed(url_of(s), {"--body-bytes", "1024", "--mode", "chunked"})), std::vector<int>{204});
  auto events = s.messages(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, std::string(1024, 'x'));
}

TEST(Webhook, HeadersOverTheLimitAre431) {
  Runtime rt;
  Stream s(rt.get(), webhook({{"webhook.max_header_bytes", "4096"}}));
  EXPECT_EQ(statuses(send_signed(url_of(s), {"--pad-header-bytes", "5000"})), std::vector<int>{431});
  EXPECT_EQ(statuses(send_signed(url_of(s), {"--pad-header-bytes", "2000"})), std::vector<int>{204});
}

TEST(Webhook, FullQueueAnswers503WithRetryAfterAndAcceptsAgainOnceDrainedLosingNothing) {
  Runtime rt;
  Stream s(rt.get(), webhook({{"queue.max_events", "4"}, {"webhook.retry_after_s", "7"}}));
  auto first = send_signed(url_of(s), {"--ids", "d0,d1,d2,d3,d4"});
  ASSERT_EQ(statuses(first), (std::vector<int>{204, 204, 204, 204, 503}));
  EXPECT_EQ(first[4].retry_after, "7");
  auto drained = s.messages(4);
  ASSERT_EQ(drained.size(), 4u);
  auto again = send_signed(url_of(s), {"--ids", "d4"});
  ASSERT_EQ(statuses(again), std::vector<int>{204});
  auto last = s.messages(1);
  ASSERT_EQ(last.size(), 1u);
  std::vector<std::string> ids;
  for (const auto& e : drained) ids.push_back(e.id);
  ids.push_back(last[0].id);
  EXPECT_EQ(ids, (std::vector<std::string>{"d0", "d1", "d2", "d3", "d4"}));
  EXPECT_EQ(s.stat("dropped"), 0u);
}

TEST(Webhook, FullQueueWithDropOldestAcceptsAndDropsTheOldest) {
  Runtime rt;
  Stream s(rt.get(), webhook({{"queue.max_events", "4"}, {"queue.overflow", "drop_oldest"}}));
  ASSERT_EQ(statuses(send_signed(url_of(s), {"--ids", "d0,d1,d2,d3,d4"})), (std::vector<int>{204, 204, 204, 204, 204}));
  auto events = s.messages(4);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].id, "d1");
  EXPECT_EQ(s.stat("dropped"), 1u);
}

TEST(Webhook, DuplicateIdIsAcknowledgedButDeliveredOnce) {
  Runtime rt;
  Stream s(rt.get(), webhook());
  ASSERT_EQ(statuses(send_signed(url_of(s), {"--ids", "dup,dup,other,dup"})), (std::vector<int>{204, 204, 204, 204}));
  auto events = s.messages(2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].id, "dup");
  EXPECT_EQ(events[1].id, "other");
  Received r;
  EXPECT_EQ(s.next(r, 0), TW_ERR_TIMEOUT);
  EXPECT_EQ(s.stat("messages"), 2u);
  EXPECT_EQ(s.stat("requests"), 4u);
}

TEST(Webhook, DedupWindowZeroDeliversRedeliveries) {
  Runtime rt;
  Stream s(rt.get(), webhook({{"webhook.dedup_window_s", "0"}}));
  ASSERT_EQ(statuses(send_signed(url_of(s), {"--ids", "dup,dup"})), (std::vector<int>{204, 204}));
  EXPECT_EQ(s.messages(2).size(), 2u);
}

TEST(Webhook, ChunkedBodiesAreReassembled) {
  Runtime rt;
  Stream s(rt.get(), webhook());
  ASSERT_EQ(statuses(send_signed(url_of(s), {"--mode", "chunked", "--count", "3"})), (std::vector<int>{204, 204, 204}));
  auto events = s.messages(3);
  ASSERT_EQ(events.size(), 3u);
  for (size_t i = 0; i < 3; i++)
    EXPECT_EQ(events[i].data, R"({"type": "test.event", "id": "msg_)" + std::to_string(i) + R"(", "n": )" +
                                  std::to_string(i) + "}");
}

TEST(Webhook, KeepAliveServesSeveralRequestsOnOneConnection) {
  Runtime rt;
  Stream s(rt.get(), webhook());
  auto answers = send_signed(url_of(s), {"--mode", "keepalive", "--count", "5"});
  ASSERT_EQ(statuses(answers), (std::vector<int>{204, 204, 204, 204, 204}));
  for (const auto& a : answers) EXPECT_EQ(a.conn, answers[0].conn);
  EXPECT_EQ(s.messages(5).size(), 5u);
}

TEST(Webhook, PipelinedRequestsAreAnsweredInOrder) {
  Runtime rt;
  Stream s(rt.get(), webhook());
  auto answers = send_signed(url_of(s), {"--mode", "pipelined", "--count", "5", "--forge-at", "2"});
  ASSERT_EQ(statuses(answers), (std::vector<int>{204, 204, 401, 204, 204}));
  auto events = s.messages(4);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[2].id, "msg_3");
}

TEST(Webhook, ExpectContinueGets100BeforeTheBodyOrTheRefusalAtOnce) {
  Runtime rt;
  Stream s(rt.get(), webhook({{"webhook.max_body_bytes", "1024"}}));
  auto ok = send_signed(url_of(s), {"--mode", "expect"});
  ASSERT_EQ(statuses(ok), std::vector<int>{204});
  EXPECT_EQ(ok[0].interim, 100);
  auto too_large = send_signed(url_of(s), {"--mode", "expect", "--body-bytes", "4096"});
  ASSERT_EQ(statuses(too_large), std::vector<int>{413});
  EXPECT_EQ(too_large[0].interim, 0);  // refused without asking for the body
  auto wrong_path = send_signed(url_of(s), {"--mode", "expect", "--path", "/elsewhere"});
  ASSERT_EQ(statuses(wrong_path), std::vector<int>{404});
  EXPECT_EQ(wrong_path[0].interim, 0);
  EXPECT_EQ(s.messages(1).size(), 1u);
}

TEST(Webhook, CurlExpectContinueDeliveryIsAcceptedWithoutWaitingOutItsTimeout) {
  Runtime rt;
  Stream s(rt.get(), unsigned_webhook());
  auto start = Clock::now();
  // curl would wait --expect100-timeout (20 s) for a 100 Continue that never came.
  ProcessResult r = run_process({"curl", "-sS", "-v", "--expect100-timeout", "20", "-H", "Expect: 100-continue",
                                 "-H", "X-Id: curl-1", "-H", "Content-Type: application/json", "--data-binary",
                                 R"({"type": "curl"})", "-o", "/dev/null", "-w", "%{http_code}", url_of(s)},
                                15000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "204");
  EXPECT_NE(r.err.find("HTTP/1.1 100 Continue"), std::string::npos) << r.err;
  EXPECT_LT(ms_since(start), 10000);
  auto events = s.messages(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].id, "curl-1");
  EXPECT_EQ(events[0].type, "curl");
}

TEST(Webhook, IdleConnectionIsClosedAfterTheIdleTimeout) {
  Runtime rt;
  Stream s(rt.get(), unsigned_webhook({{"webhook.idle_timeout_ms", "300"}}));
  RawClient silent(port_of(s));
  RawClient after_request(port_of(s));
  after_request.send_text(kUnsignedRequest);
  auto start = Clock::now();
  ASSERT_TRUE(silent.wait_closed(5000));
  EXPECT_GE(ms_since(start), 200);
  ASSERT_TRUE(after_request.wait_closed(5000));
  EXPECT_EQ(after_request.received().rfind("HTTP/1.1 204 No Content\r\n", 0), 0u) << after_request.received();
}

TEST(Webhook, SlowRequestHeadIsCutOffAtTheHeaderTimeout) {
  Runtime rt;
  Stream s(rt.get(), unsigned_webhook({{"webhook.header_timeout_ms", "300"}, {"webhook.idle_timeout_ms", "10000"}}));
  RawClient slow(port_of(s));
  auto start = Clock::now();
  slow.send_text("POST /hooks HTTP/1.1\r\n");
  // A header line every 50 ms keeps the connection from being idle, never completing the head.
  bool closed = false;
  for (int i = 0; i < 100 && !closed; i++) {
    closed = slow.wait_closed(50);
    if (!closed) slow.send_text("X-Slow: " + std::to_string(i) + "\r\n");
  }
  EXPECT_TRUE(closed);
  EXPECT_GE(ms_since(start), 250);
  EXPECT_LT(ms_since(start), 4000);
}

TEST(Webhook, ThousandConcurrentDeliveriesAreNeitherLostNorDuplicated) {
  Runtime rt;
  Stream s(rt.get(), webhook());
  auto answers = send_signed(url_of(s), {"--mode", "concurrent", "--count", "1000", "--concurrency", "50"});
  ASSERT_EQ(answers.size(), 1000u);
  for (const auto& a : answers) ASSERT_EQ(a.status, 204) << a.id << ": " << a.body;
  auto events = s.messages(1000, 20000);
  ASSERT_EQ(events.size(), 1000u);
  std::set<std::string> ids;
  for (const auto& e : events) ids.insert(e.id);
  EXPECT_EQ(ids.size(), 1000u);
  for (int i = 0; i < 1000; i++) EXPECT_EQ(ids.count("msg_" + std::to_string(i)), 1u) << i;
  Received r;
  EXPECT_EQ(s.next(r, 0), TW_ERR_TIMEOUT);
  EXPECT_EQ(s.stat("requests"), 1000u);
}

TEST(Webhook, GithubDeliverySignedPerTheDocsIsAcceptedWithItsEventAsType) {
  Runtime rt;
  Stream s(rt.get(), webhook({{"webhook.scheme", "github"}, {"webhook.secret", "It's a Secret to Everybody"}}));
  auto answers = send(url_of(s), {"--scheme", "github", "--secret", "It's a Secret to Everybody", "--type", "push",
                                  "--ids", "72d3162e-cc78-11e3-81ab-4c9367dc0958"});
  ASSERT_EQ(statuses(answers), std::vector<int>{204});
  auto events = s.messages(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "push");
  EXPECT_EQ(events[0].id, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
  EXPECT_EQ(events[0].headers["x-github-event"], "push");
  auto forged = send(url_of(s), {"--scheme", "github", "--secret", "It's a Secret to Everybody", "--forge"});
  EXPECT_EQ(statuses(forged), std::vector<int>{401});
}

TEST(Webhook, OpenFailsNamingUrlWhenThePortIsInUseOrTheAddressIsNotLocal) {
  Runtime rt;
  Stream first(rt.get(), webhook());
  std::string message;
  std::string taken = "http://127.0.0.1:" + std::to_string(port_of(first)) + "/hooks";
  EXPECT_EQ(open_error(rt.get(), webhook({{"url", taken}}), message), TW_ERR_IO);
  EXPECT_NE(message.find("url: cannot listen on 127.0.0.1:"), std::string::npos) << message;
  EXPECT_NE(message.find("address already in use"), std::string::npos) << message;
  EXPECT_EQ(open_error(rt.get(), webhook({{"url", "http://192.0.2.1:0/hooks"}}), message), TW_ERR_IO);
  EXPECT_NE(message.find("url: cannot listen on 192.0.2.1:0"), std::string::npos) << message;
  EXPECT_EQ(open_error(rt.get(), webhook({{"url", "http://no-such-host.invalid:0/hooks"}}), message),
            TW_ERR_INVALID_VALUE);
  EXPECT_NE(message.find("url: cannot listen on \"no-such-host.invalid\""), std::string::npos) << message;
  EXPECT_EQ(open_error(rt.get(), webhook({{"url", "https://127.0.0.1:0/hooks"}}), message), TW_ERR_INVALID_VALUE);
  EXPECT_NE(message.find("url:"), std::string::npos) << message;
}

TEST(Webhook, OpenFailsNamingTheKeyWhenTheSecretIsMissingAndNeverQuotesOne) {
  Runtime rt;
  std::string message;
  EXPECT_EQ(open_error(rt.get(), webhook({{"webhook.secret", ""}}), message), TW_ERR_INVALID_VALUE);
  EXPECT_NE(message.find("webhook.secret is required"), std::string::npos) << message;
  EXPECT_EQ(open_error(rt.get(), webhook({{"webhook.secret", "whsec_%%%%"}}), message), TW_ERR_INVALID_VALUE);
  EXPECT_NE(message.find("webhook.secret"), std::string::npos) << message;
  EXPECT_EQ(message.find("%%%%"), std::string::npos) << message;
}

TEST(Webhook, ClosingTheStreamClosesTheListenerAndOpenConnections) {
  Runtime rt;
  Stream s(rt.get(), unsigned_webhook({{"status_events", "true"}}));
  int port = port_of(s);
  RawClient idle(port);
  RawClient partial(port);
  partial.send_text("POST /hooks HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{\"half\":");
  RawClient served(port);
  served.send_text(kUnsignedRequest);
  ASSERT_TRUE(served.wait_for("\r\n\r\n", 5000));  // the receiver is serving these connections
  tw_stream_close(s.get());
  auto events = s.until_end();
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.front().kind, TW_KIND_OPEN);
  EXPECT_EQ(events[1].kind, TW_KIND_MESSAGE);
  EXPECT_EQ(events.back().kind, TW_KIND_CLOSED);
  EXPECT_TRUE(idle.wait_closed(5000));
  EXPECT_TRUE(partial.wait_closed(5000));
  EXPECT_TRUE(served.wait_closed(5000));
  EXPECT_FALSE(RawClient(port).connected());
}

std::mutex g_log_mutex;
std::vector<std::string> g_warnings;

TEST(Webhook, DestroyingTheRuntimeWithOpenConnectionsClosesEveryHandle) {
  tw_log_set(TW_LOG_WARN,
             [](void*, tw_log_level level, const char* message) {
               std::fprintf(stderr, "tidewire %d: %s\n", level, message);
               std::lock_guard<std::mutex> lock(g_log_mutex);
               g_warnings.push_back(message);
             },
             nullptr);
  Runtime rt;
  Stream s(rt.get(), unsigned_webhook());
  int port = port_of(s);
  RawClient idle(port);
  RawClient partial(port);
  partial.send_text("POST /hooks HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabc");
  RawClient served(port);
  served.send_text(kUnsignedRequest);
  ASSERT_TRUE(served.wait_for("\r\n\r\n", 5000));
  rt.destroy();
  EXPECT_TRUE(idle.wait_closed(5000));
  EXPECT_TRUE(partial.wait_closed(5000));
  EXPECT_EQ(s.messages(1).size(), 1u);  // what was queued stays readable
  std::lock_guard<std::mutex> lock(g_log_mutex);
  for (const auto& w : g_warnings) EXPECT_EQ(w.find("handles still open"), std::string::npos) << w;
}


// Scale-out: receivers that share their dedup set in Redis and hand each delivery to a Redis
// Stream before answering (webhook.dedup_store, webhook.handoff).

Settings receiver(const RedisServer& redis, Settings extra = {}) {
  Settings s = webhook({{"webhook.dedup_store", redis.url()},
                        {"webhook.handoff", redis.url("?stream=deliveries")},
                        {"webhook.local_queue", "false"},
                        {"reconnect.initial_ms", "50"},
                        {"reconnect.max_ms", "200"}});
  s.insert(s.end(), extra.begin(), extra.end());
  return s;
}

TEST(WebhookRedis, EachVerifiedDeliveryIsInTheStreamBeforeItIsAcknowledged) {
  RedisServer redis;
  Runtime rt;
  Stream s(rt.get(), receiver(redis));
  ASSERT_TRUE(eventually([&] { return statuses(send_signed(url_of(s), {"--ids", "first"})) == std::vector<int>{204}; }));
  ASSERT_EQ(statuses(send_signed(url_of(s), {"--ids", "d1,d2", "--forge-at", "1"})), (std::vector<int>{204, 401}));
  // Answered: already in Redis, no waiting.
  EXPECT_EQ(redis.integer({"XLEN", "deliveries"}), 2);
  // Read back through a worker: the entry carries the delivery's id, type, body and scheme.
  Stream worker(rt.get(), {{"url", redis.url("?stream=deliveries&group=g")}});
  auto got = worker.messages(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].headers["id"], "d1");
  EXPECT_EQ(got[1].type, "test.event");
  EXPECT_EQ(got[1].data, R"({"type": "test.event", "id": "d1", "n": 0})");
  EXPECT_EQ(got[1].headers["scheme"], "standard");
  EXPECT_EQ(got[1].headers["h.content-type"], "application/json");
  EXPECT_FALSE(got[1].headers["received_at"].empty());
  // webhook.local_queue=false: nothing is queued here.
  EXPECT_EQ(s.stat("messages"), 0u);
}

TEST(WebhookRedis, AnIdAcceptedByOneReceiverIsADuplicateAtAnother) {
  RedisServer redis;
  Runtime rt;
  Stream a(rt.get(), receiver(redis));
  Stream b(rt.get(), receiver(redis));
  ASSERT_TRUE(eventually([&] { return statuses(send_signed(url_of(a), {"--ids", "x1"})) == std::vector<int>{204}; }));
  ASSERT_TRUE(eventually([&] { return statuses(send_signed(url_of(b), {"--ids", "x2"})) == std::vector<int>{204}; }));
  EXPECT_EQ(statuses(send_signed(url_of(a), {"--ids", "x3,x2,x3"})), (std::vector<int>{204, 204, 204}));
  EXPECT_EQ(statuses(send_signed(url_of(b), {"--ids", "x1,x3,x4"})), (std::vector<int>{204, 204, 204}));
  EXPECT_EQ(redis.integer({"XLEN", "deliveries"}), 4);
  EXPECT_EQ(redis.integer({"EXISTS", "tidewire:dedup:standard:x4"}), 1);
}

TEST(WebhookRedis, RedisDownIsAnswered503WithRetryAfterAndTheRetryIsAcceptedOnce) {
  RedisServer redis;
  Runtime rt;
  Stream s(rt.get(), receiver(redis, {{"webhook.retry_after_s", "2"}}));
  ASSERT_TRUE(eventually([&] { return statuses(send_signed(url_of(s), {"--ids", "up"})) == std::vector<int>{204}; }));
  redis.stop();
  auto refused = send_signed(url_of(s), {"--ids", "during"});
  ASSERT_EQ(statuses(refused), (std::vector<int>{503}));
  EXPECT_EQ(refused[0].retry_after, "2");
  redis.start();
  // The sender retries, as senders do, until the receiver has Redis back.
  ASSERT_TRUE(eventually([&] { return statuses(send_signed(url_of(s), {"--ids", "during"})) == std::vector<int>{204}; },
                         10000));
  EXPECT_EQ(statuses(send_signed(url_of(s), {"--ids", "during"})), (std::vector<int>{204}));
  EXPECT_EQ(redis.integer({"XLEN", "deliveries"}), 2);
}

TEST(WebhookRedis, ASlowRedisIsAnswered503AfterTheTimeout) {
  RedisServer redis;
  Runtime rt;
  Stream s(rt.get(), receiver(redis, {{"redis.timeout_ms", "300"}}));
  ASSERT_TRUE(eventually([&] { return statuses(send_signed(url_of(s), {"--ids", "up"})) == std::vector<int>{204}; }));
  redis.pause();
  auto answers = send_signed(url_of(s), {"--ids", "slow"});
  redis.resume();
  EXPECT_EQ(statuses(answers), (std::vector<int>{503}));
  ASSERT_TRUE(eventually([&] { return statuses(send_signed(url_of(s), {"--ids", "slow"})) == std::vector<int>{204}; },
                         10000));
  EXPECT_EQ(redis.integer({"XLEN", "deliveries"}), 2);
}

TEST(WebhookRedis, WithALocalQueueTheDeliveryIsBothInTheStreamAndQueued) {
  RedisServer redis;
  Runtime rt;
  Stream s(rt.get(), receiver(redis, {{"webhook.local_queue", "true"}}));
  ASSERT_TRUE(eventually([&] { return statuses(send_signed(url_of(s), {"--ids", "both"})) == std::vector<int>{204}; }));
  auto got = s.messages(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, "both");
  EXPECT_EQ(redis.integer({"XLEN", "deliveries"}), 1);
}

TEST(WebhookRedis, PipelinedDeliveriesWaitingOnRedisAreAnsweredInOrder) {
  RedisServer redis;
  Runtime rt;
  Stream s(rt.get(), receiver(redis));
  ASSERT_TRUE(eventually([&] { return statuses(send_signed(url_of(s), {"--ids", "up"})) == std::vector<int>{204}; }));
  auto answers = send_signed(url_of(s), {"--mode", "pipelined", "--count", "5", "--forge-at", "2"});
  EXPECT_EQ(statuses(answers), (std::vector<int>{204, 204, 401, 204, 204}));
  EXPECT_EQ(redis.integer({"XLEN", "deliveries"}), 5);
}

TEST(WebhookRedis, SettingsThatCannotWorkAreRefusedAtOpen) {
  RedisServer one, two;
  Runtime rt;
  std::string message;
  EXPECT_EQ(open_error(rt.get(), webhook({{"webhook.local_queue", "false"}}), message), TW_ERR_INVALID_VALUE);
  EXPECT_NE(message.find("webhook.local_queue=false needs webhook.handoff"), std::string::npos) << message;
  EXPECT_EQ(open_error(rt.get(), webhook({{"webhook.dedup_store", one.url()}, {"webhook.handoff", two.url("?stream=s")}}),
                       message),
            TW_ERR_INVALID_VALUE);
  EXPECT_NE(message.find("must name the same Redis"), std::string::npos) << message;
  EXPECT_EQ(open_error(rt.get(), webhook({{"webhook.handoff", one.url()}}), message), TW_ERR_INVALID_VALUE);
  EXPECT_NE(message.find("?stream=NAME"), std::string::npos) << message;
  tw_config* c = nullptr;
  ASSERT_EQ(tw_config_create(&c), TW_OK);
  EXPECT_EQ(tw_config_set(c, "webhook.handoff", "http://127.0.0.1/x"), TW_ERR_INVALID_VALUE);
  EXPECT_EQ(tw_config_set(c, "webhook.dedup_store", "redis://:secret@127.0.0.1:1/notanumber"), TW_ERR_INVALID_VALUE);
  EXPECT_EQ(std::string(tw_last_error_message()).find("secret"), std::string::npos) << tw_last_error_message();
  tw_config_destroy(c);
}

}  // namespace
}  // namespace tidewire::test
