// Server hints on arbitrary header values: Retry-After (seconds or HTTP-date), X-Poll-Interval.
#include <cstdlib>
#include <string>

#include "policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string value(reinterpret_cast<const char*>(data), size);
  if (auto ms = tidewire::detail::parse_retry_after(value, 1700000000)) {
    if (*ms < 0) std::abort();
  }
  if (auto ms = tidewire::detail::parse_seconds_ms(value)) {
    if (*ms < 0) std::abort();
  }
  (void)tidewire::detail::parse_http_date(value);
  return 0;
}
