// A FIFO in one vector, read from a head index: nothing is allocated before the first item (a
// std::deque allocates about 600 bytes up front, and every stream has queues), and the storage is
// reused from batch to batch.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace tidewire::detail {

template <typename T>
class Fifo {
 public:
  bool empty() const { return head_ == items_.size(); }
  size_t size() const { return items_.size() - head_; }
  T& front() { return items_[head_]; }
  void push_back(T item) {
    // Moving the unread half to the front keeps the vector at most twice the FIFO's length.
    if (head_ > 0 && head_ >= items_.size() / 2) {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    items_.push_back(std::move(item));
  }
  void pop_front() {
    items_[head_++] = T();
    if (head_ < items_.size()) return;
    clear();
  }
  void clear() {
    head_ = 0;
    items_.clear();
    // Storage for a burst is given back once the burst is read; a usual batch's stays.
    if (items_.capacity() > kKeptCapacity) items_.shrink_to_fit();
  }

 private:
  static constexpr size_t kKeptCapacity = 1024;
  std::vector<T> items_;
  size_t head_ = 0;
};

}  // namespace tidewire::detail
