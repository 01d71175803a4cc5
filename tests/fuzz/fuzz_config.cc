// The configuration on arbitrary key/value pairs: every answer is OK or a tidewire error naming a
// key; nothing else escapes, a rejected set leaves the previous value in place, and what is stored
// is a canonical form that is kept as it is when set again.
#include <cstdlib>
#include <string>

#include "config.h"
#include "error.h"

using tidewire::detail::Config;
using tidewire::detail::Error;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  Config config;
  size_t pos = 0;
  // Lines of "key=value".
  while (pos < input.size()) {
    size_t end = input.find('\n', pos);
    if (end == std::string::npos) end = input.size();
    std::string line = input.substr(pos, end - pos);
    pos = end + 1;
    size_t eq = line.find('=');
    std::string key = line.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : line.substr(eq + 1);
    std::string before;
    bool known = true;
    try {
      before = config.get(key);
    } catch (const Error&) {
      known = false;
    }
    try {
      config.set(key, value);
      // A value is kept in canonical form ("True" as "true", "30s" as "30000"): that form is
      // accepted as it is and kept unchanged.
      if (key.rfind("header.", 0) != 0) {
        std::string stored = config.get(key);
        Config again;
        again.set(key, stored);
        if (again.get(key) != stored) std::abort();
      }
    } catch (const Error& e) {
      if (std::string(e.what()).empty()) std::abort();
      if (known && config.get(key) != before) std::abort();
    }
  }
  try {
    config.validated_transport();
  } catch (const Error&) {
  }
  return 0;
}
