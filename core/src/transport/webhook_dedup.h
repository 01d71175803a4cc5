// Remembers webhook delivery ids for a window of time, so that a redelivery (the sender timed out
// or retried) is acknowledged without being queued twice.
//
// Memory is bounded twice over: an id is kept as a 128-bit digest (a long id costs no more than a
// short one), and at most max_ids digests are kept — past that the soonest to expire are
// forgotten first, even inside the window. Pure: the caller supplies the time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <queue>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

struct evp_md_ctx_st;

namespace tidewire::detail {

class DedupWindow {
 public:
  // window_ms == 0 disables it: nothing is remembered and nothing is a duplicate.
  DedupWindow(int64_t window_ms, size_t max_ids);
  ~DedupWindow();
  DedupWindow(const DedupWindow&) = delete;
  DedupWindow& operator=(const DedupWindow&) = delete;

  // An id's digest: what is remembered of it. A caller that asks whether an id was seen and then
  // remembers it digests it once.
  struct Key {
    uint64_t hi, lo;
    bool operator==(const Key& o) const { return hi == o.hi && lo == o.lo; }
  };
  Key key_of(std::string_view id);
  bool enabled() const { return window_ms_ != 0; }

  // Whether `id` is remembered at now_ms: delivered less than window_ms before (or kept longer, see
  // remember), and not forgotten since.
  bool seen(std::string_view id, int64_t now_ms);
  bool seen(const Key& key, int64_t now_ms);
  // Remembers `id` as delivered at now_ms, until max(now_ms + window_ms, keep_until_ms): a signed
  // timestamp in the future stays acceptable for longer than the window, so its id must too.
  void remember(std::string_view id, int64_t now_ms, int64_t keep_until_ms = 0);
  void remember(const Key& key, int64_t now_ms, int64_t keep_until_ms = 0);
  size_t size() const { return remembered_.size(); }

 private:
  struct KeyHash {
    size_t operator()(const Key& k) const { return static_cast<size_t>(k.lo); }  // already uniform
  };
  struct Later {
    bool operator()(const std::pair<int64_t, Key>& a, const std::pair<int64_t, Key>& b) const {
      return a.first > b.first;
    }
  };
  void expire(int64_t now_ms);

  // One digest context for every id: OpenSSL's one-shot SHA256() looks its algorithm up each time,
  // which costs several times the hashing of an id.
  std::unique_ptr<evp_md_ctx_st, void (*)(evp_md_ctx_st*)> digest_;
  const int64_t window_ms_;
  const size_t max_ids_;
  std::unordered_set<Key, KeyHash> remembered_;
  // (expiry, key), soonest expiry on top: expiries are not in arrival order once some are kept
  // beyond the window, and past max_ids the soonest to expire is forgotten first.
  std::priority_queue<std::pair<int64_t, Key>, std::vector<std::pair<int64_t, Key>>, Later> order_;
};

}  // namespace tidewire::detail
