// The JSON-RPC scanner on arbitrary bytes: it must never crash or read past its input, every span
// it returns lies inside the input, and a message split out of a batch scans on its own.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "proto/jsonrpc.h"

namespace jsonrpc = tidewire::detail::jsonrpc;

namespace {

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  jsonrpc::Message m;
  if (jsonrpc::scan(input, m)) {
    if (!inside(m.id, input) || !inside(m.method, input) || !inside(m.protocol_version, input)) abort();
  }
  std::vector<std::string_view> messages;
  if (jsonrpc::split(input, messages)) {
    if (messages.empty()) abort();
    for (auto message : messages) {
      if (!inside(message, input)) abort();
      jsonrpc::Message each;
      if (!jsonrpc::scan(message, each)) abort();  // an element split out is one valid object
    }
  }
  return 0;
}
