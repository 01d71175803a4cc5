// The mcp transport (MCP Streamable HTTP) against the official SDKs' servers, each test once per
// SDK: Python (tests/peers/mcp_server.py: MCPServer(...).streamable_http_app() under uvicorn) and
// TypeScript (tests/conformance/mcp/ts_server.mjs: McpServer + StreamableHTTPServerTransport):
// stateful and stateless, SSE and JSON answers, the GET stream, resuming a cut stream by GET +
// Last-Event-ID, session expiry (404), error answers, and DELETE on close.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "mcp_support.h"

namespace tidewire::test {
namespace {

class McpSdk : public ::testing::TestWithParam<const char*> {};

std::vector<std::map<std::string, std::string>> mcp_log(const Peer& peer) {
  return parse_log(http_get(peer.port(), "/_log").body);
}

std::vector<long> one_to(long n) {
  std::vector<long> out;
  for (long i = 1; i <= n; i++) out.push_back(i);
  return out;
}

TEST_P(McpSdk, InitializesThenEchoesSessionIdAndNegotiatedProtocolVersionOnEveryLaterRequest) {
  Peer peer(peer_script(GetParam()));
  Runtime rt;
  Stream s(rt.get(), mcp_settings(peer.url("/mcp")));
  McpClient mcp(s);
  Received init = mcp.initialize("2025-06-18");
  EXPECT_NE(init.data.find(R"("protocolVersion":"2025-06-18")"), std::string::npos) << init.data;
  int id = mcp.request("tools/list");
  Received tools = mcp.await(id);
  EXPECT_NE(tools.data.find("add_numbers"), std::string::npos) << tools.data;

  auto log = mcp_log(peer);
  ASSERT_GE(log.size(), 3u);
  EXPECT_EQ(log[0]["method"], "POST");
  EXPECT_EQ(log[0]["mcp-session-id"], "");
  EXPECT_EQ(log[0]["accept"], "application/json, text/event-stream");
  const std::string session = log[1]["mcp-session-id"];
  EXPECT_FALSE(session.empty());
  for (size_t i = 1; i < log.size(); i++) {
    EXPECT_EQ(log[i]["mcp-session-id"], session) << i;
    EXPECT_EQ(log[i]["mcp-protocol-version"], "2025-06-18") << i;
  }
}

TEST_P(McpSdk, ProgressNotificationsArriveInOrderBeforeTheToolResult) {
  Peer peer(peer_script(GetParam()));
  Runtime rt;
  Stream s(rt.get(), mcp_settings(peer.url("/mcp")));
  McpClient mcp(s);
  mcp.initialize();
  std::vector<Received> seen;
  Received result = mcp.await(mcp.call("progress", R"({"steps":5,"delay_ms":5})"), &seen);
  EXPECT_NE(result.data.find("done 5"), std::string::npos) << result.data;
  EXPECT_EQ(progress_values(seen), one_to(5));
  Received sum = mcp.await(mcp.call("add_numbers", R"({"a":2,"b":3})"));
  EXPECT_NE(sum.data.find(R"("text":"5")"), std::string::npos) << sum.data;
}

TEST_P(McpSdk, JsonAnswersAreOneMessageEventEach) {
  Peer peer(peer_script(GetParam()), {"--json"});
  Runtime rt;
  Stream s(rt.get(), mcp_settings(peer.url("/mcp")));
  McpClient mcp(s);
  mcp.initialize();
  Received sum = mcp.await(mcp.call("add_numbers", R"({"a":40,"b":2})"));
  EXPECT_EQ(sum.kind, TW_KIND_MESSAGE);
  EXPECT_NE(sum.data.find(R"("text":"42")"), std::string::npos) << sum.data;
  EXPECT_EQ(sum.data.front(), '{');
}

TEST_P(McpSdk, StatelessServerNeedsNoSessionAndItsRefusedGetStreamIsNoError) {
  Peer peer(peer_script(GetParam()), {"--stateless", "--json"});
  Runtime rt;
  Stream s(rt.get(), mcp_settings(peer.url("/mcp"), {{"status_events", "true"}}));
  McpClient mcp(s);
  mcp.initialize();
  std::vector<Received> seen;
  Received sum = mcp.await(mcp.call("add_numbers", R"({"a":1,"b":1})"), &seen);
  EXPECT_NE(sum.data.find(R"("text":"2")"), std::string::npos) << sum.data;
  for (const auto& e : seen) EXPECT_NE(e.kind, TW_KIND_ERROR) << e.data;
  for (auto& entry : mcp_log(peer)) EXPECT_EQ(entry["mcp-session-id"], "");
}

TEST_P(McpSdk, GetStreamDeliversServerInitiatedMessages) {
  Peer peer(peer_script(GetParam()));
  Runtime rt;
  Stream s(rt.get(), mcp_settings(peer.url("/mcp")));
  McpClient mcp(s);
  mcp.initialize();
  // The GET stream is open before the tool schedules its message.
  ASSERT_TRUE(eventually([&] {
    for (auto& e : mcp_log(peer))
      if (e["method"] == "GET" && e["accept"] == "text/event-stream") return true;
    return false;
  }));
  mcp.await(mcp.call("notify_later", R"({"delay_ms":50})"));
  for (;;) {
    Received r;
    ASSERT_EQ(s.next(r, 10000), TW_OK);
    if (r.kind == TW_KIND_MESSAGE && r.type == "notifications/message") {
      EXPECT_NE(r.data.find("later"), std::string::npos) << r.data;
      break;
    }
  }
}

TEST_P(McpSdk, StreamCutAfterAnEventIdResumesByGetWithLastEventIdWithoutLossOrRepeat) {
  Peer peer(peer_script(GetParam()), {"--event-store", "--retry-ms", "50"});
  Runtime rt;
  Stream s(rt.get(), mcp_settings(peer.url("/mcp")));
  McpClient mcp(s);
  mcp.initialize();
  std::vector<Received> seen;
  int id = mcp.call("cut_midway", R"({"steps":8})");
  Received result = mcp.await(id, &seen);
  EXPECT_NE(result.data.find("done 8"), std::string::npos) << result.data;
  EXPECT_EQ(progress_values(seen), one_to(8));
  bool resumed = false;
  for (auto& e : mcp_log(peer))
    if (e["method"] == "GET" && !e["last-event-id"].empty()) resumed = true;
  EXPECT_TRUE(resumed);
  for (const auto& e : seen) EXPECT_NE(e.kind, TW_KIND_ERROR) << e.data;
}

TEST_P(McpSdk, ErrorAnswerToAPostIsAnErrorEventAndTheStreamGoesOn) {
  Peer peer(peer_script(GetParam()));
  Runtime rt;
  Stream s(rt.get(), mcp_settings(peer.url("/mcp")));
  McpClient mcp(s);
  // A request before initialize has no session: the stateful server answers 400.
  int id = mcp.request("tools/list");
  Received refused = mcp.await(id);
  EXPECT_EQ(refused.kind, TW_KIND_ERROR);
  EXPECT_EQ(refused.http_status, 400);
  EXPECT_EQ(refused.id, std::to_string(id));
  EXPECT_EQ(refused.type, "http_status");
  EXPECT_FALSE(refused.data.empty());
  Received init = mcp.initialize();
  EXPECT_EQ(init.kind, TW_KIND_MESSAGE);
  EXPECT_NE(init.data.find("protocolVersion"), std::string::npos);
}

TEST_P(McpSdk, NotFoundForTheSessionEndsTheStreamAsSessionExpired) {
  Peer peer(peer_script(GetParam()));
  Runtime rt;
  Stream s(rt.get(), mcp_settings(peer.url("/mcp"), {{"mcp.listen", "false"}}));
  McpClient mcp(s);
  mcp.initialize();
  // An answer after notifications/initialized: the server has taken it (POSTs go in order), so the
  // session is not ended while it still handles that.
  mcp.await(mcp.request("tools/list"));
  ASSERT_EQ(http_get(peer.port(), "/_expire").status, 200);
  mcp.request("tools/list");
  s.until_end();
  auto failure = s.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(tw_event_http_status(failure.get()), 404);
  EXPECT_NE(std::string(tw_event_data(failure.get())).find("session expired"), std::string::npos);
}

TEST_P(McpSdk, CloseEndsTheSessionWithDelete) {
  Peer peer(peer_script(GetParam()));
  Runtime rt;
  std::string session;
  {
    Stream s(rt.get(), mcp_settings(peer.url("/mcp")));
    McpClient mcp(s);
    mcp.initialize();
    std::vector<std::map<std::string, std::string>> log;
    ASSERT_TRUE(eventually([&] { return (log = mcp_log(peer)).size() >= 2; }));
    session = log[1]["mcp-session-id"];
    ASSERT_FALSE(session.empty());
    tw_stream_close(s.get());
  }
  EXPECT_TRUE(eventually([&] {
    for (auto& e : mcp_log(peer))
      if (e["method"] == "DELETE" && e["mcp-session-id"] == session) return true;
    return false;
  })) << http_get(peer.port(), "/_log").body;
}

TEST_P(McpSdk, SendRefusesWhatIsNotAJsonRpcMessage) {
  Peer peer(peer_script(GetParam()));
  Runtime rt;
  Stream s(rt.get(), mcp_settings(peer.url("/mcp")));
  const std::string bad = "{\"jsonrpc\":\"2.0\",";
  EXPECT_EQ(tw_stream_send(s.get(), bad.data(), bad.size(), 0), TW_ERR_INVALID_VALUE);
  EXPECT_NE(std::string(tw_last_error_message()).find("JSON-RPC"), std::string::npos);
  const std::string number = "42";
  EXPECT_EQ(tw_stream_send(s.get(), number.data(), number.size(), 0), TW_ERR_INVALID_VALUE);
}

TEST(Mcp, GetStreamDroppedByTheServerIsReopenedAndKeepsDelivering) {
  Peer peer(peer_script("mcp_server.py"), {"--event-store"});
  Runtime rt;
  Stream s(rt.get(), mcp_settings(peer.url("/mcp")));
  McpClient mcp(s);
  mcp.initialize();
  ASSERT_TRUE(eventually([&] {
    for (auto& e : mcp_log(peer))
      if (e["method"] == "GET") return true;
    return false;
  }));
  // The message goes out 1 s after the drop, well after the reconnect (reconnect.max_ms=200).
  mcp.await(mcp.call("drop_get_stream", R"({"delay_ms":1000})"));
  for (;;) {
    Received r;
    ASSERT_EQ(s.next(r, 10000), TW_OK);
    if (r.kind == TW_KIND_MESSAGE && r.type == "notifications/message") {
      EXPECT_NE(r.data.find("after the drop"), std::string::npos) << r.data;
      break;
    }
  }
  int gets = 0;
  for (auto& e : mcp_log(peer))
    if (e["method"] == "GET") gets++;
  EXPECT_EQ(gets, 2);
}

TEST(Mcp, RefusedWith401TheMessageWaitsForNewCredentialsAndIsPostedWithThem) {
  Peer peer(peer_script("mcp_server.py"), {"--token", "t0k3n"});
  Runtime rt;
  Stream s(rt.get(), mcp_settings(peer.url("/mcp"), {{"reconnect.on_auth_failure", "wait"}}));
  McpClient mcp(s);
  mcp.request("initialize", R"({"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}})");
  Received r;
  ASSERT_EQ(s.next(r, 10000), TW_OK);
  ASSERT_EQ(r.kind, TW_KIND_AUTH_REQUIRED);
  EXPECT_EQ(r.http_status, 401);
  ASSERT_EQ(tw_stream_set_header(s.get(), "Authorization", "Bearer t0k3n"), TW_OK);
  Received init = mcp.await(1);
  EXPECT_EQ(init.kind, TW_KIND_MESSAGE);
  EXPECT_NE(init.data.find("protocolVersion"), std::string::npos) << init.data;
}

TEST(Mcp, RefusedWith401EndsTheStreamByDefault) {
  Peer peer(peer_script("mcp_server.py"), {"--token", "t0k3n"});
  Runtime rt;
  Stream s(rt.get(), mcp_settings(peer.url("/mcp")));
  McpClient mcp(s);
  mcp.request("initialize", R"({"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}})");
  s.until_end();
  auto failure = s.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(tw_event_http_status(failure.get()), 401);
}

TEST(Mcp, ARedirectedRequestIsReportedNotFollowedAndItsCredentialsGoNowhere) {
  // The endpoint answers 302 to another origin (the real MCP server): the request, and the
  // Authorization header with it, must not go there; the application hears of it, the stream goes on.
  Peer mcp_peer(peer_script("mcp_server.py"));
  Peer redirector(peer_script("http_peer.py"));
  const std::string target = url_encode(mcp_peer.url("/mcp"));
  Runtime rt;
  Stream s(rt.get(), mcp_settings(redirector.url("/redirect?key=" + unique_key() + "&n=0&to=" + target),
                                  {{"header.Authorization", "Bearer sk-never-forwarded"}}));
  McpClient mcp(s);
  int id = mcp.request("initialize", R"({"protocolVersion":"2025-11-25","capabilities":{},)"
                                     R"("clientInfo":{"name":"tidewire-test","version":"1"}})");
  Received answer = mcp.await(id);
  EXPECT_EQ(answer.kind, TW_KIND_ERROR);
  EXPECT_EQ(answer.type, "http_status");
  EXPECT_EQ(answer.http_status, 302);
  EXPECT_EQ(answer.data.find("sk-never-forwarded"), std::string::npos) << answer.data;
  EXPECT_EQ(tw_stream_ended(s.get()), 0);
  EXPECT_TRUE(mcp_log(mcp_peer).empty());
}

TEST(Mcp, JsonAnswerLargerThanMaxMessageBytesEndsTheStreamNamingTheKey) {
  Peer peer(peer_script("mcp_server.py"), {"--json"});
  Runtime rt;
  Stream s(rt.get(), mcp_settings(peer.url("/mcp"), {{"mcp.max_message_bytes", "4096"}}));
  McpClient mcp(s);
  mcp.initialize();
  mcp.call("big", R"({"size":100000})");
  s.until_end();
  auto failure = s.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(tw_event_error(failure.get()), TW_ERR_LIMIT);
  EXPECT_NE(std::string(tw_event_data(failure.get())).find("mcp.max_message_bytes=4096"), std::string::npos);
}

TEST(Mcp, SseMessageLargerThanSseMaxEventBytesEndsTheStreamNamingTheKey) {
  Peer peer(peer_script("mcp_server.py"));
  Runtime rt;
  Stream s(rt.get(), mcp_settings(peer.url("/mcp"), {{"sse.max_event_bytes", "4096"}}));
  McpClient mcp(s);
  mcp.initialize();
  mcp.call("big", R"({"size":100000})");
  s.until_end();
  auto failure = s.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(tw_event_error(failure.get()), TW_ERR_LIMIT);
  EXPECT_NE(std::string(tw_event_data(failure.get())).find("sse.max_event_bytes=4096"), std::string::npos);
}

// An MCP endpoint that takes POSTs but withholds every response head until release(): a server
// that has the messages and has not said so yet. Then it answers each POST 202 (a notification's
// answer), in the order received, and every later one at once; anything else is 405.
class HeldEndpoint {
 public:
  HeldEndpoint() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        listen(listen_fd_, 16) != 0 || getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0 ||
        pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0)
      throw std::runtime_error("HeldEndpoint: cannot listen on 127.0.0.1");
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~HeldEndpoint() {
    stop_ = true;
    wake();
    thread_.join();
    close(listen_fd_);
    close(wake_[0]);
    close(wake_[1]);
  }
  HeldEndpoint(const HeldEndpoint&) = delete;
  HeldEndpoint& operator=(const HeldEndpoint&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/mcp"; }
  void release() {
    released_ = true;
    wake();
  }
  // The POST bodies received so far, in order.
  std::vector<std::string> bodies() {
    std::lock_guard<std::mutex> lock(mutex_);
    return bodies_;
  }
  bool wait_for_bodies(size_t count, int timeout_ms) {
    std::unique_lock<std::mutex> lock(mutex_);
    return received_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return bodies_.size() >= count; });
  }

 private:
  struct Connection {
    int fd;
    std::string in;
    size_t held = 0;  // POSTs read and not answered
  };

  void wake() {
    char c = 1;
    (void)!write(wake_[1], &c, 1);
  }

  static void answer(int fd, const char* response) { (void)!send(fd, response, std::strlen(response), MSG_NOSIGNAL); }

  // Takes every whole request (head and Content-Length body) from c.in.
  void parse(Connection& c) {
    for (;;) {
      size_t end = c.in.find("\r\n\r\n");
      if (end == std::string::npos) return;
      size_t length = 0;
      for (size_t at = c.in.find("\r\n"); at < end; at = c.in.find("\r\n", at + 2))
        if (strncasecmp(c.in.c_str() + at + 2, "content-length:", 15) == 0) length = std::stoul(c.in.substr(at + 17));
      if (c.in.size() < end + 4 + length) return;
      const bool post = c.in.compare(0, 5, "POST ") == 0;
      std::string body = c.in.substr(end + 4, length);
      c.in.erase(0, end + 4 + length);
      if (!post) {
        answer(c.fd, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
        continue;
      }
      c.held++;
      std::lock_guard<std::mutex> lock(mutex_);
      bodies_.push_back(std::move(body));
      received_.notify_all();
    }
  }

  void run() {
    std::vector<Connection> connections;
    while (!stop_) {
      std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      for (auto& c : connections) fds.push_back({c.fd, POLLIN, 0});
      if (poll(fds.data(), fds.size(), -1) < 0) continue;
      char drain[64];
      while (read(wake_[0], drain, sizeof drain) > 0) {
      }
      for (size_t i = 0; i < connections.size(); i++) {
        if (!fds[i + 2].revents) continue;
        char buf[4096];
        ssize_t n = read(connections[i].fd, buf, sizeof buf);
        if (n <= 0) {
          close(connections[i].fd);
          connections[i].fd = -1;
          continue;
        }
        connections[i].in.append(buf, static_cast<size_t>(n));
        parse(connections[i]);
      }
      if (fds[0].revents & POLLIN) {
        int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) connections.push_back({fd, "", 0});
      }
      if (released_)
        for (auto& c : connections)
          for (; c.held > 0 && c.fd >= 0; c.held--) answer(c.fd, "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
      std::vector<Connection> open;
      for (auto& c : connections)
        if (c.fd >= 0) open.push_back(std::move(c));
      connections.swap(open);
    }
    for (auto& c : connections) close(c.fd);
  }

  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> released_{false};
  std::mutex mutex_;
  std::condition_variable received_;
  std::vector<std::string> bodies_;
  std::thread thread_;
};

// Ordered POSTs wait for each response head: while the server withholds it, what the application
// sends waits in the send buffer, bounded by mcp.send_buffer_bytes. A send beyond it is refused at
// once (TW_ERR_WOULD_BLOCK, naming the key); every message accepted is posted, once and in order,
// when the server answers.
TEST(Mcp, SendsBeyondTheSendBufferWhileHeadsAreWithheldWouldBlockAndNothingAcceptedIsLost) {
  HeldEndpoint server;
  Runtime rt;
  Stream s(rt.get(), mcp_settings(server.url(), {{"mcp.send_buffer_bytes", "1000"}}));
  auto note = [](size_t i) {
    char n[8];
    std::snprintf(n, sizeof n, "%04zu", i);
    return std::string(R"({"jsonrpc":"2.0","method":"notifications/n","params":{"i":")") + n + "\"}}";
  };
  auto send = [&](const std::string& json) { return tw_stream_send(s.get(), json.data(), json.size(), 0); };
  const size_t size = note(0).size();
  // The first is posted at once and waits for its head: it has left the buffer.
  ASSERT_EQ(send(note(0)), TW_OK) << tw_last_error_message();
  ASSERT_TRUE(server.wait_for_bodies(1, 5000));
  size_t accepted = 1;
  tw_err err = TW_OK;
  while (accepted < 1000 && (err = send(note(accepted))) == TW_OK) accepted++;
  ASSERT_EQ(err, TW_ERR_WOULD_BLOCK);
  const std::string message = tw_last_error_message();
  EXPECT_NE(message.find("mcp.send_buffer_bytes=1000"), std::string::npos) << message;
  EXPECT_EQ(accepted - 1, 1000 / size);  // what fits, and no more
  EXPECT_EQ(server.bodies().size(), 1u);  // the next POST waits for the first one's head
  server.release();
  ASSERT_TRUE(server.wait_for_bodies(accepted, 10000)) << server.bodies().size() << " of " << accepted;
  // The buffer has room again.
  ASSERT_EQ(send(note(accepted)), TW_OK) << tw_last_error_message();
  ASSERT_TRUE(server.wait_for_bodies(accepted + 1, 10000));
  std::vector<std::string> expected;
  for (size_t i = 0; i <= accepted; i++) expected.push_back(note(i));
  EXPECT_EQ(server.bodies(), expected);
  EXPECT_EQ(tw_stream_ended(s.get()), 0);
}

// A server that never answers: each POST is given up after connect_timeout_ms and reported (an
// `error` event of type send_failed naming the bound; it is not sent again, the server may have
// acted on it), and the next message waiting is posted: none stays stuck behind it.
TEST(Mcp, PostsWhoseHeadNeverComesAreReportedOneByOneAndTheRestStillGoOut) {
  HeldEndpoint server;
  Runtime rt;
  Stream s(rt.get(), mcp_settings(server.url(), {{"connect_timeout_ms", "200"}}));
  std::vector<std::string> sent;
  for (int i = 0; i < 3; i++) {
    sent.push_back(R"({"jsonrpc":"2.0","id":)" + std::to_string(i + 1) + R"(,"method":"tools/list"})");
    ASSERT_EQ(tw_stream_send(s.get(), sent.back().data(), sent.back().size(), 0), TW_OK) << tw_last_error_message();
  }
  // A notification has no id to be reported by: its report names it.
  sent.push_back(R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}})");
  ASSERT_EQ(tw_stream_send(s.get(), sent.back().data(), sent.back().size(), 0), TW_OK) << tw_last_error_message();
  for (int i = 0; i < 4; i++) {
    Received r;
    do {
      ASSERT_EQ(s.next(r, 5000 + kSlackMs), TW_OK);
    } while (r.kind != TW_KIND_ERROR);
    EXPECT_EQ(r.type, "send_failed");
    EXPECT_NE(r.data.find("connect_timeout_ms=200"), std::string::npos) << r.data;
    if (i < 3) {
      EXPECT_EQ(r.id, std::to_string(i + 1));  // the request it was, in order
    } else {
      EXPECT_EQ(r.id, "");
      EXPECT_NE(r.data.find("the notification notifications/progress was not sent again"), std::string::npos) << r.data;
    }
  }
  EXPECT_EQ(server.bodies(), sent);  // each posted once
  EXPECT_EQ(tw_stream_ended(s.get()), 0);
}

INSTANTIATE_TEST_SUITE_P(Servers, McpSdk, ::testing::Values("mcp_server.py", "mcp_ts_server.py"),
                         [](const ::testing::TestParamInfo<const char*>& server) {
                           return std::string(server.param) == "mcp_server.py" ? "PythonSdk" : "TypeScriptSdk";
                         });

}  // namespace
}  // namespace tidewire::test
