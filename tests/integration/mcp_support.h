// MCP client steps over the C ABI for the mcp transport's tests: JSON-RPC requests sent with
// tw_stream_send, answers and notifications read as events, against tests/peers/mcp_server.py
// (the official Python SDK's server).
#pragma once

#include <gtest/gtest.h>
#include <tidewire/tidewire.h>

#include <chrono>
#include <string>
#include <vector>

#include "harness.h"

namespace tidewire::test {

inline Settings mcp_settings(const std::string& url, Settings extra = {}) {
  Settings s = {{"transport", "mcp"}, {"url", url}, {"reconnect.initial_ms", "10"}, {"reconnect.max_ms", "200"}};
  s.insert(s.end(), extra.begin(), extra.end());
  return s;
}

class McpClient {
 public:
  explicit McpClient(Stream& stream) : s_(stream) {}

  void send(const std::string& json) {
    EXPECT_EQ(tw_stream_send(s_.get(), json.data(), json.size(), 0), TW_OK) << tw_last_error_message();
  }

  // Sends a request; returns its id.
  int request(const std::string& method, const std::string& params = "{}") {
    const int id = next_id_++;
    send(R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":")" + method + R"(","params":)" + params +
         "}");
    return id;
  }

  // Reads events until the answer to request `id` (a message event whose data has "id":<id> and a
  // result or an error) or an error event for it; every event read is appended to `seen`.
  // Fails the test on a timeout or an end of the stream.
  Received await(int id, std::vector<Received>* seen = nullptr, int timeout_ms = 15000) {
    const std::string key = "\"id\":" + std::to_string(id);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      int left = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
      Received r;
      tw_err err = s_.next(r, left > 0 ? left : 0);
      if (err != TW_OK) {
        ADD_FAILURE() << "no answer to request " << id << ": " << tw_err_name(err);
        return r;
      }
      if (seen) seen->push_back(r);
      if (r.kind == TW_KIND_ERROR && r.id == std::to_string(id)) return r;
      if (r.kind == TW_KIND_MESSAGE && r.data.find(key) != std::string::npos &&
          (r.data.find("\"result\"") != std::string::npos || r.data.find("\"error\"") != std::string::npos))
        return r;
    }
  }

  // initialize, then notifications/initialized; returns the initialize answer.
  Received initialize(const std::string& version = "2025-11-25") {
    int id = request("initialize", R"({"protocolVersion":")" + version +
                                       R"(","capabilities":{},"clientInfo":{"name":"tidewire-test","version":"1"}})");
    Received answer = await(id);
    send(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
    return answer;
  }

  // tools/call of `tool` with `arguments` and a progressToken; returns the id.
  int call(const std::string& tool, const std::string& arguments = "{}") {
    return request("tools/call", R"({"name":")" + tool + R"(","arguments":)" + arguments +
                                     R"(,"_meta":{"progressToken":"p)" + std::to_string(next_id_) + R"("}})");
  }

 private:
  Stream& s_;
  int next_id_ = 1;
};

// The `progress` values of the notifications/progress messages among `events`, in order.
inline std::vector<long> progress_values(const std::vector<Received>& events) {
  std::vector<long> out;
  for (const auto& e : events) {
    if (e.kind != TW_KIND_MESSAGE || e.type != "notifications/progress") continue;
    auto at = e.data.find("\"progress\":");
    if (at == std::string::npos) continue;
    out.push_back(std::stol(e.data.substr(at + 11)));
  }
  return out;
}

}  // namespace tidewire::test
