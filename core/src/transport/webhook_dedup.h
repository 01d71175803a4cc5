// Remembers webhook delivery ids for a window of time, so that a redelivery (the sender timed out
// or retried) is acknowledged without being queued twice.
//
// Memory is bounded twice over: an id is kept as a 128-bit digest (a long id costs no more than a
// short one), and at most max_ids digests are kept — past that the oldest are forgotten first,
// even inside the window. Pure: the caller supplies the time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string_view>
#include <unordered_set>
#include <utility>

namespace tidewire::detail {

class DedupWindow {
 public:
  // window_ms == 0 disables it: nothing is remembered and nothing is a duplicate.
  DedupWindow(int64_t window_ms, size_t max_ids);

  // Whether `id` was remembered less than window_ms before now_ms (and not forgotten since).
  bool seen(std::string_view id, int64_t now_ms);
  // Remembers `id` as delivered at now_ms.
  void remember(std::string_view id, int64_t now_ms);
  size_t size() const { return remembered_.size(); }

 private:
  struct Key {
    uint64_t hi, lo;
    bool operator==(const Key& o) const { return hi == o.hi && lo == o.lo; }
  };
  struct KeyHash {
    size_t operator()(const Key& k) const { return static_cast<size_t>(k.lo); }  // already uniform
  };
  static Key key_of(std::string_view id);
  void expire(int64_t now_ms);

  const int64_t window_ms_;
  const size_t max_ids_;
  std::unordered_set<Key, KeyHash> remembered_;
  std::deque<std::pair<int64_t, Key>> order_;  // when each was remembered, oldest first
};

}  // namespace tidewire::detail
