#include "log.h"

#include <libwebsockets.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <mutex>

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

std::string redacted(const std::string& url) {
  size_t scheme = url.find("://");
  size_t authority = scheme == std::string::npos ? 0 : scheme + 3;
  size_t path = url.find_first_of("/?#", authority);
  std::string out = url;
  // user:password@host -> user:REDACTED@host
  size_t at = url.rfind('@', path == std::string::npos ? url.size() : path);
  if (scheme != std::string::npos && at != std::string::npos && at >= authority) {
    size_t colon = url.find(':', authority);
    if (colon != std::string::npos && colon < at) out = url.substr(0, colon + 1) + "REDACTED" + url.substr(at);
  }
  size_t mark = out.find_first_of("?#", authority);
  if (mark != std::string::npos) out = out.substr(0, mark + 1) + "REDACTED";
  return out;
}

std::string redact_urls(const std::string& text) {
  if (text.find("://") == std::string::npos) return text;
  std::string out;
  size_t pos = 0;
  for (;;) {
    size_t sep = text.find("://", pos);
    if (sep == std::string::npos) break;
    // The URL starts at its scheme (letters, digits, + - .) and ends at a blank or a quote.
    size_t start = sep;
    while (start > pos && (std::isalnum(static_cast<unsigned char>(text[start - 1])) || text[start - 1] == '+' ||
                           text[start - 1] == '-' || text[start - 1] == '.'))
      start--;
    size_t end = text.find_first_of(" \t\r\n\"'<>", sep);
    if (end == std::string::npos) end = text.size();
    out.append(text, pos, start - pos);
    out += redacted(text.substr(start, end - start));
    pos = end;
  }
  out.append(text, pos, std::string::npos);
  return out;
}

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
