// A thin test-side owner of a runtime and one stream, over the C ABI only, with bounded waits.
#pragma once

#include <gtest/gtest.h>
#include <tidewire/tidewire.h>

#include <chrono>
#include <map>
#include <memory>
#include <regex>
#include <thread>
#include <string>
#include <utility>
#include <vector>

#include "peer.h"

namespace tidewire::test {

struct Received {
  tw_kind kind;
  std::string id;
  std::string type;
  std::string data;
  tw_err error;
  int http_status;
  int64_t retry_ms;
  std::map<std::string, std::string> headers;
};

using Settings = std::vector<std::pair<std::string, std::string>>;

class Runtime {
 public:
  Runtime() { EXPECT_EQ(tw_runtime_create(&rt_), TW_OK) << tw_last_error_message(); }
  ~Runtime() { destroy(); }
  void destroy() {
    tw_runtime_destroy(rt_);
    rt_ = nullptr;
  }
  tw_runtime* get() const { return rt_; }

 private:
  tw_runtime* rt_ = nullptr;
};

class Stream {
 public:
  Stream(tw_runtime* rt, const Settings& settings) {
    tw_config* config = nullptr;
    EXPECT_EQ(tw_config_create(&config), TW_OK);
    // The tests' helpers put their defaults first and a test's own settings after: a later setting
    // replaces an earlier one here, on purpose (tw_config_set alone refuses a key given twice).
    for (const auto& kv : settings) {
      EXPECT_EQ(tw_config_unset(config, std::string(kv.first).c_str()), TW_OK) << kv.first;
      EXPECT_EQ(tw_config_set_n(config, kv.first.data(), kv.first.size(), kv.second.data(), kv.second.size()),
                TW_OK)
          << kv.first << ": " << tw_last_error_message();
    }
    EXPECT_EQ(tw_stream_open(&stream_, rt, config), TW_OK) << tw_last_error_message();
    tw_config_destroy(config);
  }
  ~Stream() { tw_stream_destroy(stream_); }
  tw_stream* get() const { return stream_; }

  // The next event within timeout_ms; tw_err says why there is none.
  tw_err next(Received& out, int timeout_ms = 5000) {
    tw_event* e = nullptr;
    tw_err err = tw_stream_next(&e, stream_, timeout_ms);
    if (err != TW_OK) return err;
    out.kind = tw_event_kind(e);
    out.id = tw_event_id(e);
    out.type = tw_event_type(e);
    out.data.assign(tw_event_data(e), tw_event_data_len(e));
    out.error = tw_event_error(e);
    out.http_status = tw_event_http_status(e);
    out.retry_ms = tw_event_retry_ms(e);
    out.headers.clear();
    for (size_t i = 0; i < tw_event_header_count(e); i++) {
      const char *name, *value;
      tw_event_header_at(&name, &value, e, i);
      out.headers[name] = value;
    }
    tw_event_destroy(e);
    return TW_OK;
  }

  // Collects `count` message events (status events are skipped), failing the test on a timeout
  // or an early end. The whole collection is bounded by timeout_ms.
  std::vector<Received> messages(size_t count, int timeout_ms = 10000) {
    std::vector<Received> out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (out.size() < count) {
      int left = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
      Received r;
      tw_err err = next(r, left > 0 ? left : 0);
      if (err != TW_OK) {
        ADD_FAILURE() << "after " << out.size() << " of " << count << " messages: " << tw_err_name(err);
        break;
      }
      if (r.kind == TW_KIND_MESSAGE) out.push_back(std::move(r));
    }
    return out;
  }

  // Reads until the stream ends (TW_ERR_CLOSED), bounded by timeout_ms; returns every event read.
  std::vector<Received> until_end(int timeout_ms = 10000) {
    std::vector<Received> out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      int left = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
      Received r;
      tw_err err = next(r, left > 0 ? left : 0);
      if (err == TW_ERR_CLOSED) return out;
      if (err != TW_OK) {
        ADD_FAILURE() << "stream did not end: " << tw_err_name(err);
        return out;
      }
      out.push_back(std::move(r));
    }
  }

  uint64_t stat(const char* name) const {
    uint64_t v = 0;
    EXPECT_EQ(tw_stream_stat(&v, stream_, name), TW_OK) << name;
    return v;
  }

  // The error event the stream ended with, if it failed.
  std::unique_ptr<tw_event, void (*)(tw_event*)> failure() const {
    tw_event* e = nullptr;
    tw_stream_failure(&e, stream_);
    return {e, tw_event_destroy};
  }

 private:
  tw_stream* stream_ = nullptr;
};

// Slack on "ends within its timeout + slack" bounds, the one place it is chosen. In the normal
// build the bound is the product's promise (timeout + 1 s) and is tested as such. Sanitizers make
// the code 5-15x slower, so there the bound only catches a timeout that never fires (the defaults
// are minutes) and must not fail a slow run.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TW_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TW_TEST_SANITIZED 1
#endif
#endif
#ifdef TW_TEST_SANITIZED
inline constexpr int kSlackMs = 10000;
#else
inline constexpr int kSlackMs = 1000;
#endif

// Polls `condition` every few ms until it holds or timeout_ms passes (for states that have no
// event to wait on, such as a statistic or the peer's log). Returns whether it held.
template <typename F>
bool eventually(F condition, int timeout_ms = 5000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

// The URL the stream reports: for a webhook receiver, with the port it really bound.
inline std::string url_of(const Stream& s) {
  char* url = nullptr;
  EXPECT_EQ(tw_stream_url(&url, s.get()), TW_OK);
  std::string out = url ? url : "";
  tw_free(url);
  return out;
}

// The port of a webhook receiver listening at http://127.0.0.1:<port>/hooks (0, and a failure, if
// the stream reports anything else).
inline int port_of(const Stream& s) {
  std::smatch m;
  std::string url = url_of(s);
  EXPECT_TRUE(std::regex_match(url, m, std::regex(R"(http://127\.0\.0\.1:(\d+)/hooks)"))) << url;
  return m.empty() ? 0 : std::stoi(m[1]);
}

// The peer's request log for `key`.
inline std::vector<std::map<std::string, std::string>> peer_log(const Peer& peer, const std::string& key) {
  return parse_log(http_get(peer.port(), "/_log?key=" + key).body);
}

// Shared peer for a test suite: started once, on first use.
inline Peer& http_peer() {
  static Peer peer(peer_script("http_peer.py"));
  return peer;
}

}  // namespace tidewire::test
