// Messages the application asked a ws stream to send, waiting for the I/O thread to write them.
// Bounded in bytes: a send that would overflow is refused and reported, never queued without limit.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>

#include "fifo.h"
#include "tidewire/tidewire.h"

namespace tidewire::detail {

struct OutgoingMessage {
  std::string payload;
  bool binary = false;
};

class SendBuffer {
 public:
  explicit SendBuffer(size_t limit_bytes) : limit_(limit_bytes) {}

  // Any thread. Returns TW_OK, TW_ERR_WOULD_BLOCK (full now; retry later), TW_ERR_LIMIT (larger than
  // the whole buffer) or TW_ERR_CLOSED. `was_empty` tells the caller to wake the writer.
  tw_err push(const void* data, size_t len, bool binary, bool& was_empty);
  // I/O thread. False when nothing waits.
  bool pop(OutgoingMessage& out);
  bool empty();
  void close();  // refuses later pushes and frees what waits
  size_t limit() const { return limit_; }

 private:
  const size_t limit_;
  std::mutex mutex_;
  Fifo<OutgoingMessage> messages_;
  size_t bytes_ = 0;
  bool closed_ = false;
};

}  // namespace tidewire::detail
