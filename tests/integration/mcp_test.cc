// The mcp transport (MCP Streamable HTTP) against the official SDKs' servers, each test once per
// SDK: Python (tests/peers/mcp_server.py: MCPServer(...).streamable_http_app() under uvicorn) and
// TypeScript (tests/conformance/mcp/ts_server.mjs: McpServer + StreamableHTTPServerTransport):
// stateful and stateless, SSE and JSON answers, the GET stream, resuming a cut stream by GET +
// Last-Event-ID, session expiry (404), error answers, and DELETE on close.
#include <gtest/gtest.h>

#include <string>
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

INSTANTIATE_TEST_SUITE_P(Servers, McpSdk, ::testing::Values("mcp_server.py", "mcp_ts_server.py"),
                         [](const ::testing::TestParamInfo<const char*>& server) {
                           return std::string(server.param) == "mcp_server.py" ? "PythonSdk" : "TypeScriptSdk";
                         });

}  // namespace
}  // namespace tidewire::test
