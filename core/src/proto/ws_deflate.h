#pragma once
// permessage-deflate (RFC 7692) on zlib raw deflate: the compression half of the WebSocket
// protocol, sans-I/O. Bytes in, bytes out; no socket, no event loop.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace tidewire::detail::ws {

// A growable byte buffer that never zero-fills and grows only as far as the caller allows, so a
// bounded message (max_message_bytes) never allocates much past its bound.
class ByteBuffer {
 public:
  ByteBuffer() = default;
  ByteBuffer(ByteBuffer&&) noexcept = default;
  ByteBuffer& operator=(ByteBuffer&&) noexcept = default;

  const uint8_t* data() const { return data_.get(); }
  uint8_t* data() { return data_.get(); }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data_.get()), size_}; }

  // Makes the capacity at least `capacity` (exactly that when it has to grow), keeping the bytes.
  void reserve(size_t capacity);
  // Appends with one memcpy, growing geometrically (but never past size()+len when that is larger).
  void append(const void* bytes, size_t len);
  // Free space after size(), for writers such as zlib; commit() then adds what they wrote.
  uint8_t* spare() { return data_.get() + size_; }
  size_t spare_size() const { return capacity_ - size_; }
  void commit(size_t written) { size_ += written; }
  void clear() { size_ = 0; }
  // Gives the memory back (after a large message, so an idle stream holds nothing).
  void release() {
    data_.reset();
    size_ = capacity_ = 0;
  }

 private:
  std::unique_ptr<uint8_t[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// The parameters both sides agreed on in the handshake (RFC 7692 section 7.1).
struct DeflateParams {
  bool server_no_context_takeover = false;  // the server resets its compressor per message
  bool client_no_context_takeover = false;  // we reset ours per message
  int server_max_window_bits = 15;          // 8..15: the window the server compresses with
  int client_max_window_bits = 15;          // 8..15: the window we may compress with
};

// Decompresses the messages a server sent (RSV1 set), one message at a time, possibly in many
// pieces. Output is bounded: a zip bomb fails as soon as it passes the limit, having allocated
// at most limit + 1 bytes of output.
class Inflater {
 public:
  enum class Result { ok, too_big, bad_data };

  explicit Inflater(const DeflateParams& params);
  ~Inflater();
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // Inflates `len` compressed bytes of the current message, appending to `out`; fails with
  // too_big once out.size() would exceed `max_total`. `in` is read only during the call.
  Result inflate(const uint8_t* in, size_t len, ByteBuffer& out, size_t max_total);
  // Ends the current message: inflates the 00 00 ff ff tail RFC 7692 removes on the wire, then
  // resets the window when the server does not keep its context.
  Result finish_message(ByteBuffer& out, size_t max_total);
  // Drops the message in progress (after an error); the next message starts cleanly.
  void reset();

 private:
  struct State;
  std::unique_ptr<State> state_;
  bool reset_per_message_;
};

// Compresses the messages we send. Output is the RFC 7692 payload: the sync-flushed deflate
// stream without its trailing 00 00 ff ff.
class Deflater {
 public:
  // `level` is zlib's (1..9); the window is client_max_window_bits (8 is raised to 9, which zlib
  // requires for raw deflate, so callers must not compress when 8 was negotiated: see ws.h).
  explicit Deflater(const DeflateParams& params, int level = 6);
  ~Deflater();
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  // Appends the compressed form of one whole message to `out`. Returns false only if zlib fails
  // (out of memory); `out` then holds an unusable partial result.
  bool compress(std::string_view message, std::string& out);

 private:
  struct State;
  std::unique_ptr<State> state_;
  bool reset_per_message_;
};

}  // namespace tidewire::detail::ws
