// The webhook receiver's link to Redis, for webhook.dedup_store (shared deduplication) and
// webhook.handoff (a durable hand-off to a Redis Stream). One connection, reconnected after a
// backoff (reconnect.*) whenever it fails; while it is down every delivery is `unavailable`, which
// the receiver answers 503 + Retry-After so that the sender retries. When both are set they must
// name the same Redis, and one script does both atomically: an id is marked seen only together
// with its entry, so a delivery refused with 503 is never later mistaken for a duplicate.
// I/O thread only.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../config.h"
#include "../policy.h"
#include "../redis/client.h"
#include "../timer.h"

namespace tidewire::detail {

class WebhookRedis {
 public:
  enum class Outcome { accepted, duplicate, unavailable };

  struct Delivery {
    std::string dedup_key;  // empty: not deduplicated (no dedup store, or the delivery has no id)
    int64_t window_ms = 0;  // how long the key is kept
    std::vector<std::pair<std::string, std::string>> fields;  // the entry (handoff only)
  };

  // Null when neither webhook.dedup_store nor webhook.handoff is set. Throws
  // Error(TW_ERR_INVALID_VALUE) naming the key when they cannot be used together.
  static std::unique_ptr<WebhookRedis> from_config(uv_loop_t* loop, const Config& config);
  ~WebhookRedis();

  bool dedup() const { return dedup_; }
  bool handoff() const { return !stream_.empty(); }
  const std::string& prefix() const { return prefix_; }
  // Connects (and keeps reconnecting until destroyed).
  void start();
  bool ready() const { return client_ && client_->ready(); }
  // Marks the delivery seen and/or appends its entry; `done` runs once with the outcome (not at
  // all if this object is destroyed first). Call only when ready().
  void accept(const Delivery& delivery, std::function<void(Outcome, const std::string& why)> done);

 private:
  WebhookRedis(uv_loop_t* loop, redis::ClientSettings settings, bool dedup, std::string stream, std::string maxlen,
               std::string prefix, BackoffSettings backoff);
  void connect();

  uv_loop_t* const loop_;
  const redis::ClientSettings settings_;
  const bool dedup_;
  const std::string stream_;  // webhook.handoff's stream; empty: no hand-off
  const std::string maxlen_;  // empty: not trimmed
  const std::string prefix_;
  Backoff backoff_;
  Timer retry_;
  std::unique_ptr<redis::Client> client_;
  std::unique_ptr<redis::Client> retired_;  // a client whose callback may still be on the stack
};

}  // namespace tidewire::detail
