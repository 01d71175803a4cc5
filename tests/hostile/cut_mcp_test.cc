// MCP Streamable HTTP through a proxy that cuts: a tool call whose SSE answer (and every GET that
// resumes it) is cut mid-stream, after an `id:` line or inside an event, must still deliver every
// progress notification exactly once, in order, then the result (the official Python SDK's server
// with an event store, tests/peers/mcp_server.py). Without event ids the cut is reported as an
// `error` event of type "cut" for the request, which is not sent again.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fault_proxy.h"
#include "harness.h"
#include "mcp_support.h"

namespace tidewire::test {
namespace {

std::vector<long> one_to(long n) {
  std::vector<long> out;
  for (long i = 1; i <= n; i++) out.push_back(i);
  return out;
}

TEST(CutMcp, ToolAnswerCutOverAndOverResumesByGetWithLastEventIdWithNothingLostOrRepeated) {
  Peer peer(peer_script("mcp_server.py"), {"--event-store", "--retry-ms", "20"});
  // Only streams with progress notifications are cut: the initialize answer and the GET stream
  // pass. Each connection is cut at its 2nd progress event, alternately right after the `id:` line
  // (the event not yet dispatched) and after its data line (the blank line that ends it missing).
  FaultProxy proxy(peer.port(), [](size_t index) {
    return index % 2 == 0 ? FaultPlan::after_pattern_then(Fault::cut, "notifications/progress", 2, "\n")
                          : FaultPlan::after_pattern_then(Fault::rst, "notifications/progress", 3, "\n", -1);
  });
  Runtime rt;
  Stream s(rt.get(), mcp_settings(proxy.url("http", "/mcp"), {{"mcp.listen", "false"}}));
  McpClient mcp(s);
  mcp.initialize();
  constexpr long kSteps = 30;
  std::vector<Received> seen;
  Received result = mcp.await(mcp.call("progress", R"({"steps":30,"delay_ms":5})"), &seen, 60000);
  EXPECT_NE(result.data.find("done 30"), std::string::npos) << result.data;
  SequenceReport report = compare_sequence(progress_values(seen), one_to(kSteps));
  EXPECT_TRUE(report.ok()) << report.summary();
  EXPECT_GE(proxy.faults_triggered(), 5u);
  for (const auto& e : seen) EXPECT_NE(e.kind, TW_KIND_ERROR) << e.data;
}

TEST(CutMcp, CutWithoutAnEventIdIsReportedForTheRequestAndNotSentAgain) {
  Peer peer(peer_script("mcp_server.py"));
  FaultProxy proxy(peer.port(), [](size_t) {
    return FaultPlan::after_pattern_then(Fault::cut, "notifications/progress", 2, "\n");
  });
  Runtime rt;
  Stream s(rt.get(), mcp_settings(proxy.url("http", "/mcp"), {{"mcp.listen", "false"}}));
  McpClient mcp(s);
  mcp.initialize();
  int id = mcp.call("progress", R"({"steps":5,"delay_ms":20})");
  Received cut = mcp.await(id);
  EXPECT_EQ(cut.kind, TW_KIND_ERROR) << cut.data;
  EXPECT_EQ(cut.type, "cut");
  EXPECT_EQ(cut.id, std::to_string(id));
  // The stream goes on: the next call is answered.
  Received sum = mcp.await(mcp.call("add_numbers", R"({"a":2,"b":3})"));
  EXPECT_NE(sum.data.find(R"("text":"5")"), std::string::npos) << sum.data;
  int calls = 0;
  for (auto& e : parse_log(http_get(peer.port(), "/_log").body))
    if (e["method"] == "POST") calls++;
  EXPECT_EQ(calls, 4);  // initialize, initialized, the cut call once, add_numbers
}

}  // namespace
}  // namespace tidewire::test
