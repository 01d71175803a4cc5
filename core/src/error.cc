#include "error.h"

namespace tidewire::detail {
namespace {
thread_local std::string t_last_error;

struct ErrInfo {
  tw_err code;
  const char* name;
  const char* text;
  const char* category;  // what a binding picks its exception class by (docs/errors.md)
};

constexpr ErrInfo kErrors[] = {
    {TW_OK, "TW_OK", "success", "ok"},
    {TW_ERR_INVALID_ARGUMENT, "TW_ERR_INVALID_ARGUMENT", "invalid argument", "usage"},
    {TW_ERR_UNKNOWN_KEY, "TW_ERR_UNKNOWN_KEY", "unknown configuration key", "config"},
    {TW_ERR_INVALID_VALUE, "TW_ERR_INVALID_VALUE", "invalid configuration value", "config"},
    {TW_ERR_TIMEOUT, "TW_ERR_TIMEOUT", "timed out", "wait"},
    {TW_ERR_CLOSED, "TW_ERR_CLOSED", "stream ended", "closed"},
    {TW_ERR_NO_MEMORY, "TW_ERR_NO_MEMORY", "out of memory", "resource"},
    {TW_ERR_UNSUPPORTED, "TW_ERR_UNSUPPORTED", "not supported by this transport", "usage"},
    {TW_ERR_WOULD_BLOCK, "TW_ERR_WOULD_BLOCK", "buffer full", "busy"},
    {TW_ERR_SHUTDOWN, "TW_ERR_SHUTDOWN", "runtime is shutting down", "closed"},
    {TW_ERR_WAKEUP, "TW_ERR_WAKEUP", "wait interrupted by tw_stream_wakeup", "wait"},
    {TW_ERR_IO, "TW_ERR_IO", "network error", "network"},
    {TW_ERR_HTTP_STATUS, "TW_ERR_HTTP_STATUS", "HTTP status ends the stream", "http"},
    {TW_ERR_PROTOCOL, "TW_ERR_PROTOCOL", "protocol error", "protocol"},
    {TW_ERR_TLS, "TW_ERR_TLS", "TLS error", "tls"},
    {TW_ERR_LIMIT, "TW_ERR_LIMIT", "limit exceeded", "limit"},
    {TW_ERR_GAVE_UP, "TW_ERR_GAVE_UP", "gave up reconnecting", "network"},
    {TW_ERR_INTERNAL, "TW_ERR_INTERNAL", "internal error", "internal"},
};

const ErrInfo* find(tw_err err) {
  for (const auto& e : kErrors)
    if (e.code == err) return &e;
  return nullptr;
}
}  // namespace

void set_last_error(const std::string& message) { t_last_error = message; }
void clear_last_error() { t_last_error.clear(); }
const char* last_error() { return t_last_error.c_str(); }

const char* err_name(tw_err err) {
  const ErrInfo* e = find(err);
  return e ? e->name : "TW_ERR_UNKNOWN";
}

const char* err_str(tw_err err) {
  const ErrInfo* e = find(err);
  return e ? e->text : "unknown error code";
}

const char* err_category(tw_err err) {
  const ErrInfo* e = find(err);
  return e ? e->category : "unknown";
}

std::string error_text(const std::string& reason, tw_err code, int http_status, int close_code) {
  // What the reason already says is not said again ("answered HTTP 404 ..." gets no ", HTTP 404").
  std::string detail = err_name(code);
  std::string status = "HTTP " + std::to_string(http_status);
  if (http_status && reason.find(status) == std::string::npos) detail += ", " + status;
  // The transports say a close code as "closed the WebSocket with 1008" or "closed with 1002".
  std::string close = "close code " + std::to_string(close_code);
  if (close_code && reason.find(close) == std::string::npos &&
      reason.find("with " + std::to_string(close_code)) == std::string::npos)
    detail += ", " + close;
  return (reason.empty() ? err_str(code) : reason) + " (" + detail + ")";
}

}  // namespace tidewire::detail
