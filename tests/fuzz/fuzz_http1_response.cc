// The HTTP/1.1 response reader on arbitrary bytes: it must never crash, must give the same events
// however the input is split across reads (the first bytes choose the cuts), and must keep its
// promises: nothing after an error, no CR, LF or NUL in a header, a body within its limit.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "proto/http1.h"

using namespace tidewire::detail::http1;

namespace {

// Events as text; consecutive body pieces merged, since how the body is cut into calls follows the
// slicing and only its bytes must not.
struct Recorder : ResponseSink {
  std::vector<std::string> events;
  uint64_t body_bytes = 0;
  bool errored = false;

  void check_not_after_error() const {
    if (errored) std::abort();
  }
  static void check_field(const Header& h) {
    if (h.name.empty() || h.value.find_first_of(std::string("\r\n\0", 3)) != std::string::npos) std::abort();
  }
  void on_head(const ResponseHead& head) override {
    check_not_after_error();
    std::string e = "head " + std::to_string(head.status) + " " + head.reason;
    for (const Header& h : head.headers) {
      check_field(h);
      e += "|" + h.name + "=" + h.value;
    }
    events.push_back(std::move(e));
  }
  void on_body(std::string_view data) override {
    check_not_after_error();
    body_bytes += data.size();
    if (!events.empty() && events.back().rfind("body ", 0) == 0)
      events.back().append(data);
    else
      events.push_back("body " + std::string(data));
  }
  void on_end(const ResponseEnd& end) override {
    check_not_after_error();
    std::string e = std::string("end ") + (end.keep_alive ? "1" : "0");
    for (const Header& h : end.trailers) {
      check_field(h);
      e += "|" + h.name + "=" + h.value;
    }
    events.push_back(std::move(e));
  }
  void on_upgrade(std::string_view) override {
    check_not_after_error();
    events.push_back("upgrade");
  }
  void on_error(const ResponseError& error) override {
    check_not_after_error();
    errored = true;
    events.push_back("error " + std::to_string(static_cast<int>(error.kind)) + " " + error.message);
  }
};

struct Setup {
  ResponseLimits limits;
  bool head_request = false;
  bool connect_request = false;
};

std::vector<std::string> read(const char* data, size_t size, const Setup& setup, const std::vector<size_t>& cuts) {
  Recorder sink;
  ResponseReader reader(sink, setup.limits);
  reader.set_head_request(setup.head_request);
  reader.set_connect_request(setup.connect_request);
  std::string tunnel;
  size_t start = 0;
  auto slice = [&](size_t end) {
    // A copy of exactly the slice, so that a read past it is caught by AddressSanitizer.
    const std::string piece(data + start, end - start);
    start = end;
    if (reader.upgraded()) return tunnel.append(piece), void();
    const size_t used = reader.feed(piece.data(), piece.size());
    if (used > piece.size()) std::abort();
    if (reader.upgraded()) tunnel.append(piece, used, std::string::npos);
  };
  for (size_t cut : cuts)
    if (cut > start && cut < size) slice(cut);
  slice(size);
  if (!reader.upgraded()) reader.eof();
  if (sink.body_bytes > setup.limits.max_body_bytes) std::abort();
  if (reader.upgraded()) sink.events.push_back("tunnel " + tunnel);
  return sink.events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size < 3) return 0;
  // Byte 0: the request kind and the limits; bytes 1-2: the cuts. The rest is the response.
  Setup setup;
  setup.head_request = bytes[0] & 1;
  setup.connect_request = bytes[0] & 2;
  if (bytes[0] & 4) {
    setup.limits.max_header_bytes = 32 + (bytes[0] >> 3) * 8;
    setup.limits.max_headers = 1 + (bytes[0] >> 5);
    setup.limits.max_body_bytes = bytes[0] >> 3;
  }
  const size_t first_cut = bytes[1];
  const size_t stride = 1 + bytes[2] % 16;
  const char* data = reinterpret_cast<const char*>(bytes + 3);
  size -= 3;

  const std::vector<std::string> whole = read(data, size, setup, {});
  if (read(data, size, setup, {first_cut % (size + 1)}) != whole) std::abort();
  std::vector<size_t> cuts;
  for (size_t i = first_cut % (stride + 1); i < size; i += stride) cuts.push_back(i);
  if (read(data, size, setup, cuts) != whole) std::abort();
  return 0;
}
