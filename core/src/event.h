// The event object behind tw_event. Created on the I/O thread, owned by whoever holds it after.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tidewire/tidewire.h"

namespace tidewire::detail {

// An event's payload: bytes stored right after the event, in the event's own allocation
// (tw_event::with_payload, the receive path: one allocation and one copy from the read buffer), or
// a string built elsewhere and moved in (an SSE event's data lines, a poll body). A copy always
// owns its bytes.
class Payload {
 public:
  Payload() = default;
  Payload(const Payload& other) : owned_(other.view()) {}
  Payload& operator=(const Payload& other) {
    if (this != &other) *this = std::string(other.view());
    return *this;
  }
  Payload& operator=(std::string bytes) {
    owned_ = std::move(bytes);
    inline_ = nullptr;
    inline_size_ = 0;
    return *this;
  }

  std::string_view view() const { return inline_ ? std::string_view(inline_, inline_size_) : std::string_view(owned_); }
  // NUL-terminated in both forms.
  const char* c_str() const { return inline_ ? inline_ : owned_.c_str(); }
  size_t size() const { return inline_ ? inline_size_ : owned_.size(); }
  bool empty() const { return size() == 0; }
  bool operator==(std::string_view other) const { return view() == other; }

 private:
  friend struct ::tw_event;
  std::string owned_;
  const char* inline_ = nullptr;  // into the event's allocation
  size_t inline_size_ = 0;
};

// The memory of events with an inline payload is kept for reuse when the consumer hands a batch
// back (tw_stream_recycle): a fast stream then stops allocating, and glibc stops giving freed
// memory back to the kernel and faulting it in again for the next batch (measured: about half the
// CPU of a 1 KiB WebSocket stream read from Node). Blocks come in size classes, four per doubling
// from 256 B to 1 MiB (under 25 % unused), so that messages of similar sizes share blocks.
size_t block_class(size_t bytes);  // the smallest class that holds `bytes`; 0 when over 1 MiB
size_t block_size(size_t cls);     // the bytes of a block of class cls (1 ..)

// A bag of free blocks, bounded in bytes. Not thread-safe: one owner, or its owner's lock.
class BlockCache {
 public:
  static constexpr size_t kMaxBytes = size_t{4} << 20;
  BlockCache() = default;
  ~BlockCache();
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  // A block of class cls, or nullptr when none is kept.
  void* take(size_t cls);
  // Keeps the block; false when that would exceed kMaxBytes (the caller still owns it).
  bool put(void* block, size_t cls);
  // Moves as many blocks as fit into `to`.
  void move_into(BlockCache& to);
  bool empty() const { return blocks_.empty(); }

 private:
  struct Block {
    void* memory;
    uint32_t cls;
    uint32_t size;  // block_size(cls), kept rather than worked out again
  };
  std::vector<Block> blocks_;
  size_t bytes_ = 0;
};

// An event's block class, which a copy does not inherit: a copy is a plain allocation.
struct BlockClass {
  uint8_t cls = 0;
  BlockClass() = default;
  BlockClass(const BlockClass&) {}
  BlockClass& operator=(const BlockClass&) { return *this; }
};

}  // namespace tidewire::detail

struct tw_event {
  tw_kind kind = TW_KIND_MESSAGE;
  tw_transport transport = TW_TRANSPORT_POLL;
  std::string id;
  std::string type;
  tidewire::detail::Payload data;
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
  int64_t received_ns = 0;
  tw_err error = TW_OK;
  int http_status = 0;
  int close_code = 0;
  int64_t retry_ms = 0;
  // An error event ends its stream, except one a transport reports and goes on after (mcp: a
  // request answered with an error status, or whose answer was cut off).
  bool ends_stream = true;
  // Set by with_payload: the size class of the event's allocation, for reuse (0: not reusable).
  tidewire::detail::BlockClass block;

  tw_event() = default;
  tw_event(const tw_event&) = default;  // Payload's copy owns its bytes
  tw_event& operator=(const tw_event&) = default;

  // A new event whose payload is a copy of `bytes`, stored after the event in the same allocation,
  // a block taken from `cache` when it has one of the right class. Free it with delete, like any
  // other, or give its block back (EventQueue::recycle).
  static tw_event* with_payload(std::string_view bytes, tidewire::detail::BlockCache* cache = nullptr);

  // Every event comes from ::operator new, with or without room for a payload after it, so one
  // operator delete frees both.
  static void* operator new(size_t size) { return ::operator new(size); }
  static void operator delete(void* memory) { ::operator delete(memory); }
};

namespace tidewire::detail {

int64_t monotonic_ns();

}  // namespace tidewire::detail
