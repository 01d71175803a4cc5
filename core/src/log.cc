#include "log.h"

#include <atomic>
#include <cctype>
#include <cstdio>
#include <mutex>

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

}  // namespace

void log_set(tw_log_level max_level, tw_log_fn fn, void* user) {
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    g_fn = fn;
    g_user = user;
  }
  g_max_level.store(fn ? max_level : -1);
}

bool log_enabled(tw_log_level level) { return static_cast<int>(level) <= g_max_level.load(); }

void log(tw_log_level level, const std::string& raw) {
  if (!log_enabled(level)) return;
  std::string message = redact_urls(raw);
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

}  // namespace tidewire::detail
