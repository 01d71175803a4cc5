// WebSocket frames from a hostile server: the parser must never crash, never deliver a message over
// its limit, and give the same events and the same error however the stream is cut into reads,
// with and without permessage-deflate. Also: whatever the writer sends, compressed and fragmented,
// reads back as the message it was given.
#include <cstdlib>
#include <string>
#include <vector>

#include "../unit/proto/ws_test_support.h"

using tidewire::detail::ws::DeflateParams;
using tidewire::detail::ws::FrameWriter;
using namespace tidewire::detail::ws::testing;

namespace {

constexpr size_t kLimit = 64 * 1024;

void check_split_invariance(std::string_view stream, size_t cut, const std::optional<DeflateParams>& deflate) {
  Outcome whole = run(stream, {}, kLimit, deflate);
  for (const auto& e : whole.events)
    if (e.size() > kLimit + 16) std::abort();  // "binary:"/"text:" prefixes aside
  if (!(run(stream, {cut}, kLimit, deflate) == whole)) std::abort();
  if (!(run_in_slices(stream, 1 + cut % 13, kLimit, deflate) == whole)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // The first byte picks the split position (as a fraction of the rest) and the deflate settings.
  uint8_t control = data[0];
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t cut = stream.empty() ? 0 : (control * stream.size()) / 256;

  check_split_invariance(stream, cut, std::nullopt);
  DeflateParams deflate;
  deflate.server_no_context_takeover = (control & 1) != 0;
  deflate.server_max_window_bits = 8 + (control >> 5);
  check_split_invariance(stream, cut, deflate);

  // The writer's side: the stream as one binary message, compressed when the low bit says so,
  // fragmented by the next bits.
  std::optional<DeflateParams> send_deflate;
  if (control & 2) send_deflate = DeflateParams{};
  size_t fragment = (control >> 2) & 7;
  FrameWriter writer([] { return std::array<uint8_t, 4>{0x5a, 0x01, 0xff, 0x80}; }, send_deflate, fragment * 7);
  std::string wire;
  if (!writer.write_binary(stream, wire)) std::abort();
  auto frames = unmask_client_frames(wire);
  if (!frames) std::abort();
  Outcome back = run(*frames, {}, SIZE_MAX, send_deflate);
  if (back.close_code != 0 || back.events.size() != 1 || back.events[0] != "binary:" + std::string(stream)) std::abort();
  return 0;
}
