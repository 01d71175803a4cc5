// The event object behind tw_event. Created on the I/O thread, owned by whoever holds it after.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tidewire/tidewire.h"

struct tw_event {
  tw_kind kind = TW_KIND_MESSAGE;
  tw_transport transport = TW_TRANSPORT_POLL;
  std::string id;
  std::string type;
  std::string data;
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
  int64_t received_ns = 0;
  tw_err error = TW_OK;
  int http_status = 0;
  int close_code = 0;
  int64_t retry_ms = 0;
};

namespace tidewire::detail {

int64_t monotonic_ns();

}  // namespace tidewire::detail
