#include "log.h"

#include <libwebsockets.h>

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
thread_local std::string t_lws_error;

}  // namespace

void log_set(tw_log_level max_level, tw_log_fn fn, void* user) {
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    g_fn = fn;
    g_user = user;
  }
  g_max_level.store(fn ? max_level : -1);
  lws_set_log_level(lws_log_mask(), lws_log_emit);
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

int lws_log_mask() {
  // lws "notice" is chatty about every connection; it maps to our debug level.
  int mask = LLL_ERR;  // always: error details are kept for take_lws_error()
  if (log_enabled(TW_LOG_WARN)) mask |= LLL_WARN;
  if (log_enabled(TW_LOG_DEBUG)) mask |= LLL_NOTICE | LLL_INFO | LLL_CLIENT;
  return mask;
}

void lws_log_emit(int lws_level, const char* line) {
  if (lws_level & LLL_ERR) {
    t_lws_error = line;
    while (!t_lws_error.empty() && (t_lws_error.back() == '\n' || t_lws_error.back() == '\r')) t_lws_error.pop_back();
  }
  tw_log_level level = TW_LOG_DEBUG;
  if (lws_level & LLL_ERR)
    level = TW_LOG_ERROR;
  else if (lws_level & LLL_WARN)
    level = TW_LOG_WARN;
  std::string text = std::string("lws: ") + line;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  log(level, text);
}

std::string take_lws_error() {
  std::string e;
  e.swap(t_lws_error);
  return e;
}

}  // namespace tidewire::detail
