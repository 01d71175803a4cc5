// redis: a worker reading a Redis Stream through a consumer group. XREADGROUP BLOCK is the
// long-poll; the group is created (at the stream's start, with the stream if missing) on the first
// NOGROUP. redis.ack=auto acknowledges an entry when tw_stream_next hands it to the application;
// manual leaves it to tw_stream_ack. Either way acknowledgments go on a connection of their own,
// opened again after the stream's backoff when Redis refuses or cuts it.
// Entries another consumer left pending longer than redis.claim_idle_ms are
// claimed (XAUTOCLAIM) and delivered here. After each connect the consumer's own pending entries
// come first. Backpressure stops reading;
// failures reconnect through the one policy.
// Delivery is at least once: an entry is delivered again only if it was never acknowledged.
#pragma once

#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "../redis/client.h"
#include "transport.h"

namespace tidewire::detail {

// The connection settings for the redis:// URL in configuration key `key` (url, webhook.handoff,
// webhook.dedup_store, sink). Throws Error(TW_ERR_INVALID_VALUE) naming the key.
redis::ClientSettings redis_client_settings(const Config& config, const std::string& key);

class RedisTransport final : public Transport {
 public:
  // Throws Error(TW_ERR_INVALID_VALUE) naming the key when url or redis.* do not describe a
  // consumer (stream and group are required).
  RedisTransport(Runtime& runtime, std::shared_ptr<StreamCore> core);
  ~RedisTransport() override;

  void resume() override;
  void ack(std::vector<std::string> ids) override;

 private:
  void attempt() override;
  void stop_io() override;

  void on_ready();
  void on_down(const redis::Failure& failure);
  void create_group();
  // Sends the next read (or claim) unless one is out, the queue is full, or the link is down.
  void read_next();
  void on_read(const redisReply* reply, const redis::Failure* failure, bool claim);
  void send_acks();
  void start_acker();
  void protocol_error(const std::string& what);

  const redis::ClientSettings settings_;
  const std::string stream_;
  const std::string group_;
  const std::string consumer_;
  const int64_t claim_idle_ms_;
  const int64_t block_ms_;
  const std::string count_;
  std::unique_ptr<redis::Client> client_;
  std::unique_ptr<redis::Client> retired_;  // a client whose callback may still be on the stack
  // Acknowledgments go on a connection of their own, or they would wait behind
  // a blocked read (up to redis.block_ms) and the entries would look idle to other consumers.
  std::unique_ptr<redis::Client> acker_;
  std::unique_ptr<redis::Client> retired_acker_;
  // A refused or cut acknowledgment connection is opened again after the stream's backoff
  // (reconnect.*), never at the next acknowledgment: a Redis at its client limit would otherwise
  // be asked once per entry. It never gives up: the reading connection's policy ends the stream.
  Backoff acker_backoff_;
  Timer acker_retry_;
  bool reading_ = false;       // a read or claim is out
  bool paused_ = false;        // the queue is full
  // Reading this consumer's own pending entries, page by page from history_start_, after every
  // connect: left by an earlier run under the same name, or handed by Redis to a connection of
  // ours that died before the reply arrived (a blocked read served just as the link failed).
  bool history_ = true;
  std::string history_start_ = "0";
  // Delivered, and not yet acknowledged or not yet confirmed so by Redis; the
  // history read skips them (they are with the application, or handled by it already).
  std::unordered_set<std::string> unacked_;
  // Acknowledged and confirmed since the last read's reply: a read already out when Redis took the
  // XACK (a history read after a reconnect) may still return them.
  std::unordered_set<std::string> confirmed_;
  std::string claim_cursor_ = "0-0";
  int64_t next_claim_ms_ = 0;
  std::vector<std::string> acks_;  // to send once connected
  std::vector<EventPtr> batch_;
};

}  // namespace tidewire::detail
