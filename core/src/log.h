// The process-wide log hook. libwebsockets' log is process-wide too, so it is routed here.
#pragma once

#include <functional>
#include <string>

#include "tidewire/tidewire.h"

namespace tidewire::detail {

void log_set(tw_log_level max_level, tw_log_fn fn, void* user);
bool log_enabled(tw_log_level level);
// Every line goes through redact_urls() (url.h) first: URLs are logged without their secrets.
// Header values are never logged at all.
void log(tw_log_level level, const std::string& message);
// Runs one piece of loop-thread work (an lws, uv or llhttp callback, a command, a flush). An
// exception ends only that piece: it is logged at TW_LOG_ERROR and never unwinds into libuv, lws or
// llhttp (C code: it would terminate the process). Returns false if fn threw.
bool run_contained(const char* what, const std::function<void()>& fn);
// The lws log mask that matches the current level; applied when a runtime starts.
int lws_log_mask();
// libwebsockets' emit hook (installed by the runtime).
void lws_log_emit(int lws_level, const char* line);
// The last error lws logged on this thread, then forgotten. lws reports some failures (TLS
// verification above all) only in its log, while its callbacks get a coarse string.
std::string take_lws_error();

}  // namespace tidewire::detail
