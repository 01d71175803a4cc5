// Internal error type: thrown inside the core, turned into a tw_err + thread-local message at the
// C ABI boundary (capi.cc), which is the only place that catches.
#pragma once

#include <stdexcept>
#include <string>

#include "tidewire/tidewire.h"

namespace tidewire::detail {

class Error : public std::runtime_error {
 public:
  Error(tw_err code, const std::string& message) : std::runtime_error(message), code_(code) {}
  tw_err code() const { return code_; }

 private:
  tw_err code_;
};

// Records the detail of a failed ABI call for tw_last_error_message() on this thread.
void set_last_error(const std::string& message);
void clear_last_error();
const char* last_error();

const char* err_name(tw_err err);
const char* err_str(tw_err err);
const char* err_category(tw_err err);
// The one text of a stream's error that every binding shows: the reason, then the code and, when
// the reason does not say them already, the HTTP status and the WebSocket close code:
// "the server answered 401 Unauthorized (TW_ERR_HTTP_STATUS, HTTP 401)".
std::string error_text(const std::string& reason, tw_err code, int http_status, int close_code);

}  // namespace tidewire::detail
