#include "send_buffer.h"

namespace tidewire::detail {

tw_err SendBuffer::push(const void* data, size_t len, bool binary, bool& was_empty) {
  if (len > limit_) return TW_ERR_LIMIT;
  OutgoingMessage m;
  m.payload.assign(static_cast<const char*>(data), len);
  m.binary = binary;
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return TW_ERR_CLOSED;
  if (bytes_ + len > limit_) return TW_ERR_WOULD_BLOCK;
  was_empty = messages_.empty();
  bytes_ += len;
  messages_.push_back(std::move(m));
  return TW_OK;
}

bool SendBuffer::pop(OutgoingMessage& out) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (messages_.empty()) return false;
  out = std::move(messages_.front());
  messages_.pop_front();
  bytes_ -= out.payload.size();
  return true;
}

bool SendBuffer::empty() {
  std::lock_guard<std::mutex> lock(mutex_);
  return messages_.empty();
}

void SendBuffer::close() {
  std::lock_guard<std::mutex> lock(mutex_);
  closed_ = true;
  messages_.clear();
  bytes_ = 0;
}

}  // namespace tidewire::detail
