// The JSON-RPC scanner of the mcp transport: ids, methods, results and the initialize result's
// protocolVersion picked out of JSON text; batches split into their messages; invalid JSON and
// nesting past the limit refused.
#include "proto/jsonrpc.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tidewire::detail::jsonrpc {
namespace {

TEST(JsonRpc, RequestHasItsIdAsWrittenAndItsMethod) {
  Message m;
  ASSERT_TRUE(scan(R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x","id":99}})", m));
  EXPECT_EQ(m.id, "7");
  EXPECT_EQ(m.method, "tools/call");
  EXPECT_TRUE(m.is_request());
  EXPECT_FALSE(m.is_response());
  ASSERT_TRUE(scan(R"( { "id" : "req-1" , "method":"ping" } )", m));
  EXPECT_EQ(m.id, R"("req-1")");
}

TEST(JsonRpc, NotificationHasNoIdAndNullIdCountsAsNone) {
  Message m;
  ASSERT_TRUE(scan(R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}})", m));
  EXPECT_TRUE(m.is_notification());
  ASSERT_TRUE(scan(R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"bad"}})", m));
  EXPECT_TRUE(m.id.empty());
  EXPECT_TRUE(m.has_error);
}

TEST(JsonRpc, InitializeResultGivesProtocolVersionOfTheResultOnly) {
  Message m;
  ASSERT_TRUE(scan(R"({"jsonrpc":"2.0","id":1,"result":{"capabilities":{"x":{"protocolVersion":"no"}},)"
                   R"("protocolVersion":"2025-11-25","serverInfo":{"name":"s"}}})",
                   m));
  EXPECT_TRUE(m.is_response());
  EXPECT_EQ(m.protocol_version, "2025-11-25");
  ASSERT_TRUE(scan(R"({"jsonrpc":"2.0","id":1,"params":{"protocolVersion":"2025-06-18"},"method":"initialize"})", m));
  EXPECT_TRUE(m.protocol_version.empty());
  ASSERT_TRUE(scan(R"({"jsonrpc":"2.0","id":2,"result":[{"protocolVersion":"x"}]})", m));
  EXPECT_TRUE(m.protocol_version.empty());
}

TEST(JsonRpc, BatchSplitsIntoItsObjectsAndAnObjectIsItsOwnBatch) {
  std::vector<std::string_view> out;
  const std::string batch = R"([ {"id":1,"result":{}} , {"method":"a","params":[1,[2,{"b":"]"}]]} ])";
  ASSERT_TRUE(split(batch, out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], R"({"id":1,"result":{}})");
  EXPECT_EQ(out[1], R"({"method":"a","params":[1,[2,{"b":"]"}]]})");
  out.clear();
  ASSERT_TRUE(split(" {\"id\":1,\"result\":true}\n", out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], R"({"id":1,"result":true})");
}

TEST(JsonRpc, RefusesWhatIsNotOneObjectOrABatchOfObjects) {
  std::vector<std::string_view> out;
  for (const char* bad : {"", "42", "\"s\"", "[]", "[1]", "[{}, 2]", "{", "{\"a\":}", "{\"a\":1,}", "{} {}",
                          "{\"a\":01}", "{\"a\":1.}", "{\"a\":\"\\x\"}", "{\"a\":\"\x01\"}", "{\"a\":tru}",
                          "[{},]", "{\"a\":\"\\u12G4\"}", "{\"a\" 1}"}) {
    out.clear();
    EXPECT_FALSE(split(bad, out)) << bad;
  }
  Message m;
  EXPECT_FALSE(scan("[{\"id\":1}]", m));
  EXPECT_TRUE(scan(R"({"a":[-0.5e+3,true,false,null,"\u00e9\n"],"b":{}})", m));
}

TEST(JsonRpc, NestingPastTheLimitIsRefusedWithoutExhaustingTheStack) {
  std::string deep = "{\"a\":";
  for (int i = 0; i < 100000; i++) deep += "[";
  std::vector<std::string_view> out;
  EXPECT_FALSE(split(deep, out));
  std::string ok = "{\"a\":";
  for (int i = 0; i < kMaxDepth - 2; i++) ok += "[";
  for (int i = 0; i < kMaxDepth - 2; i++) ok += "]";
  ok += "}";
  EXPECT_TRUE(split(ok, out));
  Message m;
  EXPECT_FALSE(scan(deep, m));
}

}  // namespace
}  // namespace tidewire::detail::jsonrpc
