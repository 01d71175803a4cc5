#include "log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "url.h"

namespace tidewire::detail {
namespace {

void stderr_sink(void*, tw_log_level level, const char* message) {
  static const char* const kNames[] = {"error", "warn", "info", "debug"};
  std::fprintf(stderr, "tidewire %s: %s\n", kNames[level], message);
}

std::mutex g_mutex;
tw_log_fn g_fn = stderr_sink;
void* g_user = nullptr;
std::atomic<int> g_max_level{TW_LOG_WARN};

thread_local LogQueue* t_queue = nullptr;

int64_t realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

void log_set(tw_log_level max_level, tw_log_fn fn, void* user) {
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    g_fn = fn;
    g_user = user;
  }
  g_max_level.store(fn ? max_level : -1);
}

void log_reset() { log_set(TW_LOG_WARN, stderr_sink, nullptr); }

void log_route_this_thread(LogQueue* queue) { t_queue = queue; }

bool log_enabled(tw_log_level level) {
  if (t_queue && t_queue->wants(level)) return true;
  return static_cast<int>(level) <= g_max_level.load();
}

void log(tw_log_level level, const std::string& raw) {
  if (!log_enabled(level)) return;
  std::string message = redact_urls(raw);
  if (t_queue && t_queue->push(level, message)) return;
  if (static_cast<int>(level) > g_max_level.load()) return;
  tw_log_fn fn;
  void* user;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    fn = g_fn;
    user = g_user;
  }
  if (fn) fn(user, level, message.c_str());
}

bool run_contained(const char* what, const std::function<void()>& fn) {
  try {
    fn();
    return true;
  } catch (const std::exception& e) {
    log(TW_LOG_ERROR, std::string(what) + " failed and was skipped: " + e.what());
  } catch (...) {
    log(TW_LOG_ERROR, std::string(what) + " failed and was skipped: unknown exception");
  }
  return false;
}

LogQueue::~LogQueue() = default;

void LogQueue::enable(tw_log_level max_level, size_t capacity) {
  std::lock_guard<std::mutex> lock(mutex_);
  enabled_ = true;
  max_level_ = max_level;
  capacity_ = capacity;
  while (records_.size() > capacity_) {
    records_.pop_front();
    dropped_++;
  }
  update_fd_locked();
}

bool LogQueue::wants(tw_log_level level) const { return static_cast<int>(level) <= max_level_.load(); }

bool LogQueue::push(tw_log_level level, const std::string& message) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!enabled_) return false;
    if (static_cast<int>(level) > max_level_) return true;  // taken: this runtime does not keep it
    if (records_.size() >= capacity_) {
      dropped_++;
      return true;
    }
    auto record = std::make_unique<tw_log_record>();
    record->level = level;
    record->message = message;
    record->time_ns = realtime_ns();
    records_.push_back(std::move(record));
    update_fd_locked();
  }
  cv_.notify_one();
  return true;
}

tw_err LogQueue::pop(std::vector<tw_log_record*>& out, size_t max, int timeout_ms) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!enabled_) return TW_ERR_INVALID_ARGUMENT;
  auto ready = [this] { return !records_.empty() || dropped_ > reported_ || pending_wakeups_ > 0; };
  if (timeout_ms < 0) {
    cv_.wait(lock, ready);
  } else if (!cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), ready)) {
    return TW_ERR_TIMEOUT;
  }
  if (pending_wakeups_ > 0) {
    pending_wakeups_--;
    return TW_ERR_WAKEUP;
  }
  while (!records_.empty() && out.size() < max) {
    out.push_back(records_.front().release());
    records_.pop_front();
  }
  // The records dropped came after those kept: their count follows them, once, as a record of its
  // own, so that every reader learns of the loss the same way.
  if (records_.empty() && dropped_ > reported_ && out.size() < max) {
    auto report = std::make_unique<tw_log_record>();
    report->level = TW_LOG_WARN;
    report->message = std::to_string(dropped_ - reported_) + " log records dropped: the log queue (" +
                      std::to_string(capacity_) + " records) was full";
    report->time_ns = realtime_ns();
    reported_ = dropped_;
    out.push_back(report.release());
  }
  update_fd_locked();
  return TW_OK;
}

void LogQueue::wakeup() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_wakeups_++;
  }
  cv_.notify_all();
}

int LogQueue::fd() {
  std::lock_guard<std::mutex> lock(mutex_);
  return fd_.get(readable_locked());
}

uint64_t LogQueue::dropped() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return dropped_;
}

bool LogQueue::readable_locked() const { return !records_.empty() || dropped_ > reported_; }

void LogQueue::update_fd_locked() { fd_.set(readable_locked()); }

}  // namespace tidewire::detail
