#include "webhook_dedup.h"

#include <openssl/sha.h>

#include <algorithm>
#include <cstring>

namespace tidewire::detail {

DedupWindow::DedupWindow(int64_t window_ms, size_t max_ids) : window_ms_(window_ms), max_ids_(max_ids) {}

DedupWindow::Key DedupWindow::key_of(std::string_view id) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(id.data()), id.size(), digest);
  Key k;
  std::memcpy(&k.hi, digest, sizeof k.hi);
  std::memcpy(&k.lo, digest + sizeof k.hi, sizeof k.lo);
  return k;
}

void DedupWindow::expire(int64_t now_ms) {
  while (!order_.empty() && order_.top().first <= now_ms) {
    remembered_.erase(order_.top().second);
    order_.pop();
  }
}

bool DedupWindow::seen(std::string_view id, int64_t now_ms) {
  if (window_ms_ == 0) return false;
  expire(now_ms);
  return remembered_.count(key_of(id)) != 0;
}

void DedupWindow::remember(std::string_view id, int64_t now_ms, int64_t keep_until_ms) {
  if (window_ms_ == 0) return;
  expire(now_ms);
  Key k = key_of(id);
  // A remembered id is never remembered again (it would have been a duplicate), so each digest has
  // exactly one entry in order_.
  if (!remembered_.insert(k).second) return;
  order_.emplace(std::max(now_ms + window_ms_, keep_until_ms), k);
  if (order_.size() > max_ids_) {
    remembered_.erase(order_.top().second);
    order_.pop();
  }
}

}  // namespace tidewire::detail
