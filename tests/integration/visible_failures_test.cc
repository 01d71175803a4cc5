// A stream that cannot connect says so: a warning naming the cause, tw_stream_state(),
// tw_stream_last_error() and the `attempts` statistic; and the texts say each thing once.
// The records are read from the runtime's own log queue (tw_runtime_log_*), which these tests
// exercise too.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <string>
#include <vector>

#include "harness.h"

namespace tidewire::test {
namespace {

struct Record {
  tw_log_level level;
  std::string message;
};

// A runtime whose log is queued, and the records read from it so far.
class LoggedRuntime {
 public:
  explicit LoggedRuntime(tw_log_level level = TW_LOG_INFO, size_t capacity = 1024) {
    EXPECT_EQ(tw_runtime_log_enable(rt_.get(), level, capacity), TW_OK) << tw_last_error_message();
  }
  tw_runtime* get() const { return rt_.get(); }

  // Reads records until one contains `text` (returning it), or timeout_ms passes (nullptr).
  const Record* wait_for(const std::string& text, int timeout_ms = 10000) {
    for (const Record& r : records_)
      if (r.message.find(text) != std::string::npos) return &r;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      int left = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
      if (left <= 0) return nullptr;
      tw_log_record* batch[16];
      size_t count = 0;
      tw_err err = tw_runtime_log_next_batch(batch, &count, rt_.get(), 16, left);
      if (err == TW_ERR_TIMEOUT) return nullptr;
      EXPECT_EQ(err, TW_OK) << tw_err_name(err);
      if (err != TW_OK) return nullptr;
      size_t first = records_.size();
      for (size_t i = 0; i < count; i++) {
        records_.push_back({tw_log_record_level(batch[i]), tw_log_record_message(batch[i])});
        tw_log_record_destroy(batch[i]);
      }
      for (size_t i = first; i < records_.size(); i++)
        if (records_[i].message.find(text) != std::string::npos) return &records_[i];
    }
  }
  const std::vector<Record>& records() const { return records_; }

 private:
  Runtime rt_;
  std::vector<Record> records_;
};

std::string last_error(const Stream& s) {
  char* text = nullptr;
  EXPECT_EQ(tw_stream_last_error(&text, s.get()), TW_OK);
  std::string out = text ? text : "";
  tw_free(text);
  return out;
}

std::string failure_text(const Stream& s) {
  auto f = s.failure();
  return f ? std::string(tw_event_data(f.get()), tw_event_data_len(f.get())) : "(no failure)";
}

bool waiting_to_retry(const Stream& s) {
  tw_state state = tw_stream_state(s.get());
  return state == TW_STATE_BACKOFF || state == TW_STATE_CONNECTING;
}

TEST(VisibleFailures, UnreachableHostWarnsAtFirstFailureAndAtMaximumBackoff) {
  LoggedRuntime rt;
  const std::string url = "http://no-such-host.invalid/sse";
  Stream s(rt.get(), {{"transport", "sse"},
                      {"url", url},
                      {"reconnect.initial_ms", "20"},
                      {"reconnect.max_ms", "80"}});
  const std::string cause = url + ": could not resolve host no-such-host.invalid (";
  // Ceilings 20, 40, 80: the first failure and the third (at reconnect.max_ms) warn, the second not.
  const Record* first = rt.wait_for("(attempt 2)");
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->level, TW_LOG_WARN);
  EXPECT_EQ(first->message.rfind(cause, 0), 0u) << first->message;
  EXPECT_NE(first->message.find("; retrying in "), std::string::npos) << first->message;
  const Record* second = rt.wait_for("(attempt 3)");
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->level, TW_LOG_INFO) << second->message;
  const Record* at_max = rt.wait_for("(attempt 4, backoff at reconnect.max_ms=80)");
  ASSERT_NE(at_max, nullptr);
  EXPECT_EQ(at_max->level, TW_LOG_WARN);

  EXPECT_TRUE(waiting_to_retry(s)) << tw_state_name(tw_stream_state(s.get()));
  EXPECT_EQ(last_error(s).rfind(cause, 0), 0u) << last_error(s);
  EXPECT_EQ(last_error(s).back(), ')') << last_error(s);
  EXPECT_GE(s.stat("attempts"), 3u);
  tw_stream_close(s.get());
  s.until_end();
  EXPECT_EQ(tw_stream_state(s.get()), TW_STATE_ENDED);
}

TEST(VisibleFailures, RefusedPortNamesTheAddressOnce) {
  RefusingPort refusing;
  LoggedRuntime rt;
  const std::string address = "127.0.0.1:" + std::to_string(refusing.port());
  const std::string url = "http://" + address + "/sse";
  Stream s(rt.get(), {{"transport", "sse"}, {"url", url}, {"reconnect.initial_ms", "10000"}});
  const std::string text = url + ": could not connect to " + address + ": connection refused";
  const Record* warn = rt.wait_for(text + "; retrying in ");
  ASSERT_NE(warn, nullptr);
  EXPECT_EQ(warn->level, TW_LOG_WARN);
  EXPECT_NE(warn->message.find(" ms (attempt 2)"), std::string::npos) << warn->message;
  EXPECT_EQ(tw_stream_state(s.get()), TW_STATE_BACKOFF);
  EXPECT_EQ(last_error(s), text);
  EXPECT_EQ(s.stat("attempts"), 1u);
}

TEST(VisibleFailures, SelfSignedPeerEndsNamingTlsCaFile) {
  TlsPeer tls;
  LoggedRuntime rt;
  const std::string url = tls.url("/sse?key=" + unique_key());
  Stream s(rt.get(), {{"transport", "sse"}, {"url", url}});
  s.until_end();
  const std::string where = "https://127.0.0.1:" + std::to_string(tls.peer.port()) + "/sse?REDACTED";
  const std::string text = where + ": TLS: certificate of 127.0.0.1:" + std::to_string(tls.peer.port()) +
                           " not trusted (self-signed certificate) — set tls.ca_file to the CA certificate "
                           "that issued it, or set tls.verify=false to skip verification (testing only)";
  EXPECT_EQ(failure_text(s), text);
  EXPECT_EQ(s.failure() ? tw_event_error(s.failure().get()) : TW_OK, TW_ERR_TLS);
  const Record* warn = rt.wait_for("stream ended: " + text);
  ASSERT_NE(warn, nullptr);
  EXPECT_EQ(warn->level, TW_LOG_WARN);
  EXPECT_EQ(tw_stream_state(s.get()), TW_STATE_ENDED);
  EXPECT_EQ(last_error(s), text);
  EXPECT_EQ(s.stat("attempts"), 1u);
}

TEST(VisibleFailures, TlsCaFileThatDoesNotHoldTheIssuerIsNamed) {
  TlsPeer tls;
  TlsPeer other;  // its certificate is another CA
  LoggedRuntime rt;
  Stream s(rt.get(), {{"transport", "sse"}, {"url", tls.url("/sse")}, {"tls.ca_file", other.ca_file()}});
  s.until_end();
  EXPECT_NE(failure_text(s).find("not trusted ("), std::string::npos) << failure_text(s);
  EXPECT_NE(failure_text(s).find("— tls.ca_file \"" + other.ca_file() +
                                 "\" does not hold the CA certificate that issued it, or set tls.verify=false"),
            std::string::npos)
      << failure_text(s);
}

TEST(VisibleFailures, NotFoundSaysTheStatusOnce) {
  LoggedRuntime rt;
  Stream s(rt.get(), {{"transport", "sse"}, {"url", http_peer().url("/framework404?key=" + unique_key())}});
  s.until_end();
  const std::string text = "http://127.0.0.1:" + std::to_string(http_peer().port()) +
                           "/framework404?REDACTED answered HTTP 404 Not Found";
  EXPECT_EQ(failure_text(s), text);
  const Record* warn = rt.wait_for("stream ended: " + text);
  ASSERT_NE(warn, nullptr);
  EXPECT_EQ(warn->level, TW_LOG_WARN);
  EXPECT_EQ(warn->message, "stream ended: " + text);
  EXPECT_EQ(tw_stream_state(s.get()), TW_STATE_ENDED);
  EXPECT_EQ(last_error(s), text);
  EXPECT_EQ(s.stat("attempts"), 1u);
}

TEST(VisibleFailures, WebSocketRefusalSaysTheStatusOnce) {
  LoggedRuntime rt;
  Stream s(rt.get(), {{"transport", "ws"}, {"url", "ws://127.0.0.1:" + std::to_string(http_peer().port()) + "/nowhere"}});
  s.until_end();
  EXPECT_EQ(failure_text(s),
            "ws://127.0.0.1:" + std::to_string(http_peer().port()) + "/nowhere refused the WebSocket handshake with HTTP 404 Not Found");
}

TEST(VisibleFailures, OpenStreamIsOpenWithNoFailedAttempt) {
  LoggedRuntime rt;
  Stream s(rt.get(), {{"transport", "sse"}, {"url", http_peer().url("/sse?key=" + unique_key() + "&count=1&hold=1")}});
  EXPECT_EQ(s.messages(1).size(), 1u);
  EXPECT_EQ(tw_stream_state(s.get()), TW_STATE_OPEN);
  EXPECT_EQ(last_error(s), "");
  EXPECT_EQ(s.stat("attempts"), 0u);
  EXPECT_STREQ(tw_state_name(TW_STATE_OPEN), "open");
}

TEST(VisibleFailures, AServerEndingAnOpenStreamIsRetriedAtInfoAndIsNoFailedAttempt) {
  LoggedRuntime rt;
  Stream s(rt.get(), {{"transport", "sse"},
                      {"url", http_peer().url("/sse?key=" + unique_key() + "&count=1")},
                      {"reconnect.initial_ms", "10000"}});
  EXPECT_EQ(s.messages(1).size(), 1u);
  const Record* retry = rt.wait_for("ended the event stream; retrying in ");
  ASSERT_NE(retry, nullptr);
  EXPECT_EQ(retry->level, TW_LOG_INFO) << retry->message;
  EXPECT_EQ(s.stat("attempts"), 0u);
  EXPECT_EQ(tw_stream_state(s.get()), TW_STATE_BACKOFF);
  EXPECT_NE(last_error(s).find("ended the event stream"), std::string::npos) << last_error(s);
}

TEST(VisibleFailures, FullQueueIsPaused) {
  Runtime rt;
  Stream s(rt.get(), {{"transport", "sse"},
                      {"url", http_peer().url("/sse?key=" + unique_key() + "&count=50&hold=1")},
                      {"queue.max_events", "2"}});
  EXPECT_TRUE(eventually([&] { return tw_stream_state(s.get()) == TW_STATE_PAUSED; }))
      << tw_state_name(tw_stream_state(s.get()));
  EXPECT_EQ(s.messages(50).size(), 50u);
  EXPECT_EQ(tw_stream_state(s.get()), TW_STATE_OPEN);
}

TEST(VisibleFailures, AttemptsAreResetByASuccess) {
  LoggedRuntime rt;
  // Two 503s, then the stream.
  Stream s(rt.get(), {{"transport", "sse"},
                      {"url", http_peer().url("/sse/status?key=" + unique_key() + "&code=503&times=2&then=" +
                                              "/sse%3Fcount%3D1%26hold%3D1")},
                      {"reconnect.initial_ms", "10"}});
  EXPECT_EQ(s.messages(1).size(), 1u);
  EXPECT_EQ(s.stat("attempts"), 0u);
  EXPECT_EQ(tw_stream_state(s.get()), TW_STATE_OPEN);
  // The last failure is kept after the success, naming why the stream flapped.
  EXPECT_EQ(last_error(s), "http://127.0.0.1:" + std::to_string(http_peer().port()) +
                               "/sse/status?REDACTED answered HTTP 503 Service Unavailable");
}

TEST(StatInfo, DescribesEveryStatisticInOrder) {
  size_t i = 0;
  for (; tw_stat_name(i); i++) {
    const char *name = nullptr, *doc = nullptr;
    ASSERT_EQ(tw_stat_info(&name, &doc, i), TW_OK);
    EXPECT_STREQ(name, tw_stat_name(i));
    EXPECT_GT(std::string(doc).size(), 10u) << name;
  }
  EXPECT_EQ(tw_stat_info(nullptr, nullptr, i), TW_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(tw_stat_name(i - 1), "attempts");
}

// ---- the log queue ------------------------------------------------------------------------------

struct HookCapture {
  std::mutex mutex;
  std::vector<std::string> lines;
  static void hook(void* user, tw_log_level, const char* message) {
    auto* self = static_cast<HookCapture*>(user);
    std::lock_guard<std::mutex> lock(self->mutex);
    self->lines.emplace_back(message);
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mutex);
    return lines.size();
  }
};

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

TEST(LogQueue, RecordsGoToTheQueueNotTheHookAndTheFdTellsWhenTheyWait) {
  HookCapture hook;
  tw_log_set(TW_LOG_DEBUG, HookCapture::hook, &hook);
  {
    RefusingPort refusing;
    Runtime rt;
    ASSERT_EQ(tw_runtime_log_enable(rt.get(), TW_LOG_WARN, 16), TW_OK);
    int fd = tw_runtime_log_fd(rt.get());
    ASSERT_GE(fd, 0);
    EXPECT_FALSE(readable(fd));
    Stream s(rt.get(), {{"transport", "poll"},
                        {"url", "http://127.0.0.1:" + std::to_string(refusing.port()) + "/x"},
                        {"reconnect.initial_ms", "10000"}});
    pollfd p{fd, POLLIN, 0};
    ASSERT_EQ(poll(&p, 1, 10000), 1);
    tw_log_record* r = nullptr;
    ASSERT_EQ(tw_runtime_log_next(&r, rt.get(), 0), TW_OK);
    EXPECT_EQ(tw_log_record_level(r), TW_LOG_WARN);
    EXPECT_NE(std::string(tw_log_record_message(r)).find("connection refused"), std::string::npos);
    EXPECT_GT(tw_log_record_time_ns(r), 0);
    tw_log_record_destroy(r);
    EXPECT_FALSE(readable(fd));
    EXPECT_EQ(tw_runtime_log_next(&r, rt.get(), 0), TW_ERR_TIMEOUT);
  }
  tw_log_reset();
  EXPECT_EQ(hook.count(), 0u);
}

TEST(LogHook, ResetGoesBackToStderr) {
  TempDir dir;
  const std::string path = dir.path + "/stderr";
  HookCapture hook;
  tw_log_set(TW_LOG_DEBUG, HookCapture::hook, &hook);
  tw_log_reset();
  int saved = dup(2);
  int file = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(file, 0);
  dup2(file, 2);
  close(file);
  {
    RefusingPort refusing;
    LoggedRuntime unused(TW_LOG_WARN);  // another runtime's queue takes only its own records
    Runtime rt;                         // no queue: its records go to the process-wide sink
    Stream s(rt.get(), {{"transport", "poll"},
                        {"url", "http://127.0.0.1:" + std::to_string(refusing.port()) + "/x"},
                        {"reconnect.initial_ms", "10000"}});
    EXPECT_TRUE(eventually([&] { return s.stat("attempts") >= 1; }));
  }
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("tidewire warn: http://127.0.0.1:"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find(": connection refused; retrying in "), std::string::npos) << text.str();
  EXPECT_EQ(hook.count(), 0u);
}

TEST(LogQueue, AFullQueueDropsAndCounts) {
  RefusingPort refusing;
  Runtime rt;
  ASSERT_EQ(tw_runtime_log_enable(rt.get(), TW_LOG_INFO, 1), TW_OK);
  Stream s(rt.get(), {{"transport", "poll"},
                      {"url", "http://127.0.0.1:" + std::to_string(refusing.port()) + "/x"},
                      {"reconnect.initial_ms", "1"},
                      {"reconnect.max_ms", "2"}});
  uint64_t dropped = 0;
  EXPECT_TRUE(eventually([&] { return tw_runtime_log_dropped(&dropped, rt.get()) == TW_OK && dropped >= 3; }));
  tw_log_record* r = nullptr;
  ASSERT_EQ(tw_runtime_log_next(&r, rt.get(), 0), TW_OK);
  // The oldest record is the one kept: the first failure.
  EXPECT_NE(std::string(tw_log_record_message(r)).find("(attempt 2)"), std::string::npos) << tw_log_record_message(r);
  tw_log_record_destroy(r);
  // Then, once, how many were lost (after at most one record that found room meanwhile).
  tw_stream_close(s.get());
  std::string report;
  for (int i = 0; i < 2 && report.find("dropped") == std::string::npos; i++) {
    ASSERT_EQ(tw_runtime_log_next(&r, rt.get(), 0), TW_OK);
    report = tw_log_record_message(r);
    if (report.find("dropped") == std::string::npos) tw_log_record_destroy(r);
  }
  ASSERT_NE(report.find("dropped"), std::string::npos) << report;
  EXPECT_EQ(tw_log_record_level(r), TW_LOG_WARN);
  EXPECT_NE(report.find(" log records dropped: the log queue (1 records) was full"), std::string::npos) << report;
  EXPECT_GE(std::stoull(report), dropped);
  tw_log_record_destroy(r);
}

TEST(LogQueue, WakeupEndsAWaitAndAnOffQueueIsRefused) {
  Runtime rt;
  tw_log_record* r = nullptr;
  EXPECT_EQ(tw_runtime_log_next(&r, rt.get(), 0), TW_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tw_last_error_message()).find("tw_runtime_log_enable"), std::string::npos);
  ASSERT_EQ(tw_runtime_log_enable(rt.get(), TW_LOG_WARN, 4), TW_OK);
  std::thread waker([&] { tw_runtime_log_wakeup(rt.get()); });
  EXPECT_EQ(tw_runtime_log_next(&r, rt.get(), 10000), TW_ERR_WAKEUP);
  waker.join();
  EXPECT_EQ(r, nullptr);
  EXPECT_EQ(tw_runtime_log_enable(rt.get(), TW_LOG_WARN, 0), TW_ERR_INVALID_ARGUMENT);
  EXPECT_STREQ(tw_log_level_name(TW_LOG_WARN), "warn");
}

}  // namespace
}  // namespace tidewire::test
