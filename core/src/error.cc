#include "error.h"

namespace tidewire::detail {
namespace {
thread_local std::string t_last_error;

struct ErrInfo {
  tw_err code;
  const char* name;
  const char* text;
};

constexpr ErrInfo kErrors[] = {
    {TW_OK, "TW_OK", "success"},
    {TW_ERR_INVALID_ARGUMENT, "TW_ERR_INVALID_ARGUMENT", "invalid argument"},
    {TW_ERR_UNKNOWN_KEY, "TW_ERR_UNKNOWN_KEY", "unknown configuration key"},
    {TW_ERR_INVALID_VALUE, "TW_ERR_INVALID_VALUE", "invalid configuration value"},
    {TW_ERR_TIMEOUT, "TW_ERR_TIMEOUT", "timed out"},
    {TW_ERR_CLOSED, "TW_ERR_CLOSED", "stream ended"},
    {TW_ERR_NO_MEMORY, "TW_ERR_NO_MEMORY", "out of memory"},
    {TW_ERR_UNSUPPORTED, "TW_ERR_UNSUPPORTED", "not supported by this transport"},
    {TW_ERR_WOULD_BLOCK, "TW_ERR_WOULD_BLOCK", "buffer full"},
    {TW_ERR_SHUTDOWN, "TW_ERR_SHUTDOWN", "runtime is shutting down"},
    {TW_ERR_WAKEUP, "TW_ERR_WAKEUP", "wait interrupted by tw_stream_wakeup"},
    {TW_ERR_IO, "TW_ERR_IO", "network error"},
    {TW_ERR_HTTP_STATUS, "TW_ERR_HTTP_STATUS", "HTTP status ends the stream"},
    {TW_ERR_PROTOCOL, "TW_ERR_PROTOCOL", "protocol error"},
    {TW_ERR_TLS, "TW_ERR_TLS", "TLS error"},
    {TW_ERR_LIMIT, "TW_ERR_LIMIT", "limit exceeded"},
    {TW_ERR_GAVE_UP, "TW_ERR_GAVE_UP", "gave up reconnecting"},
    {TW_ERR_INTERNAL, "TW_ERR_INTERNAL", "internal error"},
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

}  // namespace tidewire::detail
