// The process-wide log hook. libwebsockets' log is process-wide too, so it is routed here.
#pragma once

#include <string>

#include "tidewire/tidewire.h"

namespace tidewire::detail {

void log_set(tw_log_level max_level, tw_log_fn fn, void* user);
bool log_enabled(tw_log_level level);
// Every line goes through redact_urls() (url.h) first: URLs are logged without their secrets.
// Header values are never logged at all.
void log(tw_log_level level, const std::string& message);
// The lws log mask that matches the current level; applied when a runtime starts.
int lws_log_mask();
// libwebsockets' emit hook (installed by the runtime).
void lws_log_emit(int lws_level, const char* line);
// The last error lws logged on this thread, then forgotten. lws reports some failures (TLS
// verification above all) only in its log, while its callbacks get a coarse string.
std::string take_lws_error();

}  // namespace tidewire::detail
