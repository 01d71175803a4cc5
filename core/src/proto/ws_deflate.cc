#include "proto/ws_deflate.h"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <new>

namespace tidewire::detail::ws {

namespace {
// RFC 7692 section 7.2.1: the sender removes this empty stored block, the receiver puts it back.
constexpr uint8_t kDeflateTail[4] = {0x00, 0x00, 0xff, 0xff};
// Output is produced in pieces of at least this size, so small messages grow the buffer once.
constexpr size_t kMinOutputStep = 16 * 1024;
}  // namespace

void ByteBuffer::reserve(size_t capacity) {
  if (capacity <= capacity_) return;
  std::unique_ptr<uint8_t[]> grown(new uint8_t[capacity]);
  if (size_ != 0) std::memcpy(grown.get(), data_.get(), size_);
  data_ = std::move(grown);
  capacity_ = capacity;
}

void ByteBuffer::append(const void* bytes, size_t len) {
  if (len == 0) return;
  if (spare_size() < len) reserve(std::max(size_ + len, capacity_ * 2));
  std::memcpy(data_.get() + size_, bytes, len);
  size_ += len;
}

struct Inflater::State {
  z_stream z{};
};

Inflater::Inflater(const DeflateParams& params)
    : state_(std::make_unique<State>()), reset_per_message_(params.server_no_context_takeover) {
  // Always the full 32 KiB window, whatever server_max_window_bits says. zlib checks distances
  // against its window only for output of earlier calls (within one call it reaches back into the
  // output buffer), so with a small window the same stream could pass or fail depending on how
  // the reads were cut; deflate never reaches past 32 KiB, so at 15 it cannot. It also accepts
  // peers whose zlib silently turned an agreed 8 into 9. zlib allocates the window lazily.
  if (inflateInit2(&state_->z, -15) != Z_OK) throw std::bad_alloc();
}

Inflater::~Inflater() { inflateEnd(&state_->z); }

Inflater::Result Inflater::inflate(const uint8_t* in, size_t len, ByteBuffer& out, size_t max_total) {
  z_stream& z = state_->z;
  // zlib counts in uInt; a read buffer is far smaller, but stay correct for any size.
  while (len > 0 || z.avail_in > 0) {
    if (z.avail_in == 0) {
      size_t piece = std::min<size_t>(len, UINT_MAX);
      z.next_in = const_cast<Bytef*>(in);  // zlib's API is not const-correct; it only reads
      z.avail_in = static_cast<uInt>(piece);
      in += piece;
      len -= piece;
    }
    for (;;) {
      if (out.size() > max_total) return Result::too_big;
      if (out.spare_size() == 0) {
        // Room for one byte past the limit is enough to tell "too big"; never allocate beyond.
        size_t ceiling = max_total == SIZE_MAX ? SIZE_MAX : max_total + 1;
        size_t want = std::min(ceiling, std::max(out.capacity() * 2, out.size() + kMinOutputStep));
        if (want <= out.size()) return Result::too_big;
        out.reserve(want);
      }
      size_t room = std::min<size_t>(out.spare_size(), UINT_MAX);
      z.next_out = out.spare();
      z.avail_out = static_cast<uInt>(room);
      int rc = ::inflate(&z, Z_SYNC_FLUSH);
      out.commit(room - z.avail_out);
      if (rc == Z_STREAM_END) {
        // A final block ends the deflate stream; whatever follows starts a fresh one.
        inflateReset(&z);
        if (z.avail_in == 0) break;
        continue;
      }
      if (rc == Z_BUF_ERROR) {
        // No progress possible: either all input is used or the output was full.
        if (z.avail_out == 0) continue;
        if (z.avail_in == 0) break;
        return Result::bad_data;
      }
      if (rc != Z_OK) return Result::bad_data;
      if (z.avail_out != 0 && z.avail_in == 0) break;  // input consumed, nothing held back
    }
  }
  return out.size() > max_total ? Result::too_big : Result::ok;
}

Inflater::Result Inflater::finish_message(ByteBuffer& out, size_t max_total) {
  Result r = inflate(kDeflateTail, sizeof kDeflateTail, out, max_total);
  if (r == Result::ok && reset_per_message_) inflateReset(&state_->z);
  return r;
}

void Inflater::reset() {
  inflateReset(&state_->z);
  state_->z.avail_in = 0;
}

struct Deflater::State {
  z_stream z{};
};

Deflater::Deflater(const DeflateParams& params, int level)
    : state_(std::make_unique<State>()), reset_per_message_(params.client_no_context_takeover) {
  int bits = std::clamp(params.client_max_window_bits, 9, 15);
  // memLevel 8 is zlib's default; the window bounds what the server must keep.
  if (deflateInit2(&state_->z, level, Z_DEFLATED, -bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::bad_alloc();
}

Deflater::~Deflater() { deflateEnd(&state_->z); }

bool Deflater::compress(std::string_view message, std::string& out) {
  z_stream& z = state_->z;
  size_t start = out.size();
  const auto* in = reinterpret_cast<const Bytef*>(message.data());
  size_t left = message.size();
  for (;;) {
    size_t piece = std::min<size_t>(left, UINT_MAX);
    z.next_in = const_cast<Bytef*>(in);
    z.avail_in = static_cast<uInt>(piece);
    in += piece;
    left -= piece;
    int flush = left == 0 ? Z_SYNC_FLUSH : Z_NO_FLUSH;
    do {
      size_t used = out.size();
      size_t room = std::max<size_t>(deflateBound(&z, z.avail_in) + 16, 256);
      out.resize(used + room);
      z.next_out = reinterpret_cast<Bytef*>(&out[used]);
      z.avail_out = static_cast<uInt>(std::min<size_t>(room, UINT_MAX));
      int rc = ::deflate(&z, flush);
      out.resize(out.size() - z.avail_out);
      if (rc != Z_OK && rc != Z_BUF_ERROR) return false;
    } while (z.avail_out == 0 || z.avail_in > 0);
    if (left == 0) break;
  }
  // Nothing to flush (an empty message after a flushed one): zlib writes no block at all. The
  // receiver appends the tail's LEN/NLEN, so the message must still carry the empty stored block's
  // header byte (RFC 7692 7.2.3.6); without it the tail would be read as a block header.
  if (out.size() == start) {
    out.push_back('\0');
    if (reset_per_message_) deflateReset(&z);
    return true;
  }
  // A sync flush always ends with the empty stored block; the wire form leaves it out.
  if (out.size() - start >= sizeof kDeflateTail &&
      std::memcmp(out.data() + out.size() - sizeof kDeflateTail, kDeflateTail, sizeof kDeflateTail) == 0)
    out.resize(out.size() - sizeof kDeflateTail);
  if (reset_per_message_) deflateReset(&z);
  return true;
}

}  // namespace tidewire::detail::ws
