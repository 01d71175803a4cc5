// URL parsing, Location resolution and query editing on arbitrary text: a parsed URL always
// prints back to something that parses to the same URL.
#include <cstdlib>
#include <string>

#include "error.h"
#include "url.h"

using tidewire::detail::Error;
using tidewire::detail::Url;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  size_t split = input.find('\n');
  std::string first = input.substr(0, split);
  std::string second = split == std::string::npos ? "" : input.substr(split + 1);
  try {
    Url u = Url::parse(first);
    Url again = Url::parse(u.to_string());
    if (again.to_string() != u.to_string()) std::abort();
    try {
      Url r = u.resolve(second);
      (void)r.with_query_param("index", second).to_string();
    } catch (const Error&) {
    }
  } catch (const Error&) {
  }
  return 0;
}
