// The process-wide log hook.
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
// Runs one piece of loop-thread work (a uv or llhttp callback, a command, a flush). An
// exception ends only that piece: it is logged at TW_LOG_ERROR and never unwinds into libuv or
// llhttp (C code: it would terminate the process). Returns false if fn threw.
bool run_contained(const char* what, const std::function<void()>& fn);

}  // namespace tidewire::detail
