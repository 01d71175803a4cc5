// The log: a process-wide hook (tw_log_set; stderr by default), and per runtime an optional queue
// of records that the application pulls (tw_runtime_log_*), so that a managed runtime (Python,
// Java, Node) receives the log on a thread of its own instead of an upcall from the I/O thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fifo.h"
#include "level_fd.h"
#include "tidewire/tidewire.h"

// One record of a runtime's log queue (the ABI's opaque tw_log_record).
struct tw_log_record {
  tw_log_level level = TW_LOG_INFO;
  std::string message;
  int64_t time_ns = 0;  // CLOCK_REALTIME: when the record was made
};

namespace tidewire::detail {

void log_set(tw_log_level max_level, tw_log_fn fn, void* user);
// Back to the default: WARN and above to stderr.
void log_reset();
bool log_enabled(tw_log_level level);
// Every line goes through redact_urls() (url.h) first: URLs are logged without their secrets.
// Header values are never logged at all.
// On a runtime's I/O thread whose log queue is on, the line goes to that queue only; elsewhere
// (and when the queue is off) to the process-wide hook.
void log(tw_log_level level, const std::string& message);
// Runs one piece of loop-thread work (a uv or llhttp callback, a command, a flush). An
// exception ends only that piece: it is logged at TW_LOG_ERROR and never unwinds into libuv or
// llhttp (C code: it would terminate the process). Returns false if fn threw.
bool run_contained(const char* what, const std::function<void()>& fn);

// A runtime's log queue. Off until enable(); bounded: a record that finds it full is dropped and
// counted (the oldest are kept: the first failure says more than the hundredth retry), and once
// the records kept are read, a WARN record says how many were dropped. Like an
// event queue it owns a level-triggered eventfd, readable while records wait.
// Producers: the runtime's I/O thread. Consumers: any thread.
class LogQueue {
 public:
  LogQueue() = default;
  ~LogQueue();
  LogQueue(const LogQueue&) = delete;
  LogQueue& operator=(const LogQueue&) = delete;

  void enable(tw_log_level max_level, size_t capacity);
  // Whether a record at `level` would be taken (the queue is on and the level is kept).
  bool wants(tw_log_level level) const;
  // False when the queue is off (the caller then uses the process-wide hook).
  bool push(tw_log_level level, const std::string& message);
  // TW_OK with 1..max records, TW_ERR_TIMEOUT, TW_ERR_WAKEUP, or TW_ERR_INVALID_ARGUMENT when off.
  tw_err pop(std::vector<tw_log_record*>& out, size_t max, int timeout_ms);
  void wakeup();
  int fd();
  uint64_t dropped() const;

 private:
  bool readable_locked() const;
  void update_fd_locked();

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  Fifo<std::unique_ptr<tw_log_record>> records_;
  bool enabled_ = false;
  std::atomic<int> max_level_{-1};  // -1 while off: read without the lock on every log call
  size_t capacity_ = 0;
  uint64_t dropped_ = 0;
  uint64_t reported_ = 0;  // of dropped_, told to a reader by a record of its own
  uint64_t pending_wakeups_ = 0;
  LevelFd fd_;
};

// The I/O thread of a runtime names its queue here once, at start: log() on that thread reaches it.
void log_route_this_thread(LogQueue* queue);

}  // namespace tidewire::detail
