#include "webhook_dedup.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstring>

#include "../error.h"

namespace tidewire::detail {

DedupWindow::DedupWindow(int64_t window_ms, size_t max_ids)
    : digest_(EVP_MD_CTX_new(), EVP_MD_CTX_free), window_ms_(window_ms), max_ids_(max_ids) {
  if (!digest_) throw Error(TW_ERR_INTERNAL, "SHA-256 could not be set up (OpenSSL)");
}

DedupWindow::~DedupWindow() = default;

DedupWindow::Key DedupWindow::key_of(std::string_view id) {
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  unsigned int len = 0;
  if (!sha256 || !EVP_DigestInit_ex(digest_.get(), sha256, nullptr) ||
      !EVP_DigestUpdate(digest_.get(), id.data(), id.size()) || !EVP_DigestFinal_ex(digest_.get(), digest, &len))
    throw Error(TW_ERR_INTERNAL, "SHA-256 failed (OpenSSL)");
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
  return window_ms_ != 0 && seen(key_of(id), now_ms);
}

bool DedupWindow::seen(const Key& key, int64_t now_ms) {
  if (window_ms_ == 0) return false;
  expire(now_ms);
  return remembered_.count(key) != 0;
}

void DedupWindow::remember(std::string_view id, int64_t now_ms, int64_t keep_until_ms) {
  if (window_ms_ != 0) remember(key_of(id), now_ms, keep_until_ms);
}

void DedupWindow::remember(const Key& k, int64_t now_ms, int64_t keep_until_ms) {
  if (window_ms_ == 0) return;
  expire(now_ms);
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
