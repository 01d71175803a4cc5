// The SSE parser on arbitrary bytes, split at arbitrary points: it must never crash, never hold a
// line longer than its limit, and give the same events however the input is split.
#include <cstdlib>
#include <string>
#include <vector>

#include "proto/sse_parser.h"

using tidewire::detail::SseEvent;
using tidewire::detail::SseParser;

namespace {

struct Outcome {
  std::vector<SseEvent> events;
  SseParser::Result result = SseParser::Result::ok;
  std::string last_id;
};

Outcome parse(const uint8_t* data, size_t size, size_t limit, const std::vector<size_t>& cuts) {
  Outcome o;
  SseParser parser(limit);
  size_t start = 0;
  for (size_t cut : cuts) {
    if (cut < start || cut > size) continue;
    if (parser.feed(reinterpret_cast<const char*>(data) + start, cut - start, o.events) != SseParser::Result::ok)
      o.result = SseParser::Result::line_too_long;
    start = cut;
  }
  if (parser.feed(reinterpret_cast<const char*>(data) + start, size - start, o.events) != SseParser::Result::ok)
    o.result = SseParser::Result::line_too_long;
  o.last_id = parser.last_event_id();
  return o;
}

bool same(const Outcome& a, const Outcome& b) {
  if (a.result != b.result || a.last_id != b.last_id || a.events.size() != b.events.size()) return false;
  for (size_t i = 0; i < a.events.size(); i++)
    if (a.events[i].id != b.events[i].id || a.events[i].type != b.events[i].type || a.events[i].data != b.events[i].data)
      return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // The first two bytes choose the line limit and the split pattern; the rest is the stream.
  size_t limit = 16 + data[0] * 4;
  unsigned stride = 1 + data[1] % 7;
  data += 2;
  size -= 2;
  std::vector<size_t> cuts;
  for (size_t i = stride; i < size; i += stride + (i % 3)) cuts.push_back(i);
  Outcome whole = parse(data, size, limit, {});
  Outcome split = parse(data, size, limit, cuts);
  if (!same(whole, split)) std::abort();
  for (const auto& e : whole.events)
    if (e.id.find('\0') != std::string::npos) std::abort();
  return 0;
}
