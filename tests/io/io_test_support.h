// A uv loop for one test, run until a condition holds or its deadline passes, and an observer
// that records what a connection reports.
#pragma once

#include <gtest/gtest.h>
#include <uv.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>

#include "io/connection.h"

namespace tidewire::detail::io::test {

// Where to connect in plain TCP.
inline ConnectOptions plain_to(const std::string& host, int port) {
  ConnectOptions options;
  options.host = host;
  options.port = static_cast<uint16_t>(port);
  return options;
}

class TestLoop {
 public:
  TestLoop() { uv_loop_init(&loop_); }
  // Lets closing handles finish, then closes whatever a failed test left open so the loop can close.
  ~TestLoop() {
    for (int i = 0; i < 4; ++i) uv_run(&loop_, UV_RUN_NOWAIT);
    uv_walk(
        &loop_, [](uv_handle_t* handle, void*) { if (!uv_is_closing(handle)) uv_close(handle, nullptr); }, nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
  }
  TestLoop(const TestLoop&) = delete;
  TestLoop& operator=(const TestLoop&) = delete;

  uv_loop_t* get() { return &loop_; }

  // Runs the loop until `done()` or `timeout_ms` passed; returns whether `done()` held.
  bool run_until(const std::function<bool()>& done, uint64_t timeout_ms = 10000) {
    bool expired = false;
    uv_timer_t deadline;
    uv_timer_init(&loop_, &deadline);
    deadline.data = &expired;
    uv_timer_start(&deadline, [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; }, timeout_ms, 0);
    // Wakes the loop every few ms so that `done()` is also re-checked for states no loop event
    // reports (e.g. a FIN waiting in a socket whose reading is paused), instead of at the deadline.
    uv_timer_t recheck;
    uv_timer_init(&loop_, &recheck);
    uv_timer_start(&recheck, [](uv_timer_t*) {}, 5, 5);
    while (!done() && !expired) uv_run(&loop_, UV_RUN_ONCE);
    uv_close(reinterpret_cast<uv_handle_t*>(&deadline), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&recheck), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);  // lets both closes finish before the timers go
    return done();
  }

  // Runs the loop for `ms` regardless: only to show that something does NOT happen meanwhile.
  void run_for(uint64_t ms) {
    run_until([] { return false; }, ms);
  }

  size_t tcp_handles() {
    size_t count = 0;
    uv_walk(
        &loop_,
        [](uv_handle_t* handle, void* arg) {
          if (handle->type == UV_TCP) ++*static_cast<size_t*>(arg);
        },
        &count);
    return count;
  }

 private:
  uv_loop_t loop_;
};

// Records everything; hooks let a test act from inside a callback.
struct Recorder : Connection::Observer {
  bool opened = false;
  bool closed = false;
  Error error;
  std::string data;
  size_t data_calls = 0;
  size_t largest_read = 0;
  std::function<void(const char*, size_t)> data_hook;
  std::function<void()> open_hook;

  void on_open() override {
    opened = true;
    if (open_hook) open_hook();
  }
  void on_data(const char* bytes, size_t size) override {
    ++data_calls;
    largest_read = std::max(largest_read, size);
    data.append(bytes, size);
    if (data_hook) data_hook(bytes, size);
  }
  void on_close(const Error& e) override {
    closed = true;
    error = e;
  }
  bool settled() const { return opened || closed; }
};

// Opens a connection and runs the loop until it is open or has failed: the connection once open,
// nullptr (and a test failure) otherwise.
inline Connection* open_connection(TestLoop& loop, TlsContextCache& contexts, const ConnectOptions& options,
                                   Recorder* recorder) {
  Connection* connection = Connection::open(loop.get(), options, &contexts, recorder);
  EXPECT_TRUE(loop.run_until([&] { return recorder->settled(); }));
  EXPECT_TRUE(recorder->opened) << recorder->error.message;
  return recorder->opened ? connection : nullptr;
}

// The body of a complete HTTP/1.1 response with Content-Length in `raw` (nullptr until complete).
inline bool response_complete(const std::string& raw, std::string* body = nullptr, std::string* head = nullptr) {
  size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  std::string response_head = raw.substr(0, end);
  size_t at = response_head.find("Content-Length: ");
  if (at == std::string::npos) return false;
  size_t length = std::stoul(response_head.substr(at + 16));
  if (raw.size() < end + 4 + length) return false;
  if (body != nullptr) *body = raw.substr(end + 4, length);
  if (head != nullptr) *head = response_head;
  return true;
}

inline std::string expected_body(size_t n) {
  std::string body(n, '\0');
  for (size_t i = 0; i < n; ++i) body[i] = static_cast<char>('a' + i % 26);
  return body;
}

inline std::string get_request(const std::string& path, const std::string& host = "127.0.0.1") {
  return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
}

}  // namespace tidewire::detail::io::test
