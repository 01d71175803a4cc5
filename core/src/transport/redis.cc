#include "redis.h"

#include <hiredis/hiredis.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "../error.h"
#include "../log.h"
#include "../redis/entry.h"

namespace tidewire::detail {
namespace {

std::string default_consumer() {
  char host[256] = "";
  if (gethostname(host, sizeof host - 1) != 0 || !host[0]) std::snprintf(host, sizeof host, "%s", "host");
  return std::string(host) + "-" + std::to_string(getpid());
}

std::string required_param(const redis::RedisUrl& url, const char* name) {
  std::string value = url.param(name);
  if (value.empty())
    throw Error(TW_ERR_INVALID_VALUE, std::string("url: a redis stream needs ?") + name +
                                          "=... (redis://host:port/db?stream=NAME&group=G[&consumer=C])");
  return value;
}

}  // namespace

redis::ClientSettings redis_client_settings(const Config& config, const std::string& key) {
  redis::ClientSettings s;
  s.url = redis::RedisUrl::parse(config.str(key.c_str()), key);
  s.key = key;
  s.connect_timeout_ms = config.integer("connect_timeout_ms");
  s.command_timeout_ms = config.integer("redis.timeout_ms");
  s.max_reply_bytes = static_cast<size_t>(config.integer("redis.max_reply_bytes"));
  return s;
}

RedisTransport::RedisTransport(Runtime& runtime, std::shared_ptr<StreamCore> core)
    : Transport(runtime, std::move(core)),
      settings_(redis_client_settings(core_->config, "url")),
      stream_(required_param(settings_.url, "stream")),
      group_(required_param(settings_.url, "group")),
      consumer_(settings_.url.param("consumer", default_consumer())),
      claim_idle_ms_(core_->config.integer("redis.claim_idle_ms")),
      // A blocked read holds the connection: claims wait behind it, so it never outlasts the claim period.
      block_ms_(claim_idle_ms_ > 0 ? std::min(core_->config.integer("redis.block_ms"), claim_idle_ms_)
                                   : core_->config.integer("redis.block_ms")),
      count_(core_->config.str("redis.count")),
      acker_backoff_([this] {
        BackoffSettings b = backoff_settings(core_->config);
        b.max_attempts = 0;
        return b;
      }()),
      acker_retry_(runtime.loop(), [this] { send_acks(); }) {}

RedisTransport::~RedisTransport() = default;

void RedisTransport::attempt() {
  retired_.reset();
  reading_ = false;
  client_ = std::make_unique<redis::Client>(
      runtime_.loop(), settings_, [this] { on_ready(); }, [this](const redis::Failure& f) { on_down(f); });
  client_->connect();
}

void RedisTransport::stop_io() {
  // Possibly called from inside one of the client's callbacks: it is deleted later.
  if (client_) retired_ = std::move(client_);
  if (acker_) retired_acker_ = std::move(acker_);
  acker_retry_.stop();  // the next connection's acknowledgments go at once
  reading_ = false;
}

void RedisTransport::on_ready() {
  opened();
  history_ = true;
  history_start_ = "0";
  // Not at once: after an outage the other consumers need a moment to send the acknowledgments
  // Redis missed, or their handled entries would look idle and be handled twice.
  next_claim_ms_ = now_ms() + claim_idle_ms_;
  send_acks();
  read_next();
}

void RedisTransport::on_down(const redis::Failure& failure) {
  retired_ = std::move(client_);
  reading_ = false;
  attempt_failed(failure.fatal ? Verdict::fatal : Verdict::retry, failure.err, 0, failure.message);
}

void RedisTransport::protocol_error(const std::string& what) {
  end_with_error(TW_ERR_PROTOCOL, 0, settings_.url.display() + ": " + what);
}

void RedisTransport::create_group() {
  // From the stream's start: entries handed off before the first worker came are not skipped.
  reading_ = true;
  client_->command({"XGROUP", "CREATE", stream_, group_, "0", "MKSTREAM"},
                   [this](const redisReply* reply, const redis::Failure* failure) {
                     if (failure) return;
                     reading_ = false;
                     // BUSYGROUP: another worker created it first.
                     if (redis::is_error(reply) && redis::reply_text(reply).substr(0, 9) != "BUSYGROUP")
                       return end_with_error(TW_ERR_PROTOCOL, 0,
                                             settings_.url.display() + " refused to create consumer group " + group_ +
                                                 ": " + std::string(redis::reply_text(reply)));
                     log(TW_LOG_INFO, settings_.url.display() + ": consumer group " + group_ + " on " + stream_ +
                                          " is ready");
                     read_next();
                   });
}

void RedisTransport::read_next() {
  if (ended() || reading_ || paused_ || !client_ || !client_->ready()) return;
  reading_ = true;
  const int64_t now = now_ms();
  if (claim_idle_ms_ > 0 && !history_ && now >= next_claim_ms_) {
    const std::string idle = std::to_string(claim_idle_ms_);
    client_->command({"XAUTOCLAIM", stream_, group_, consumer_, idle, claim_cursor_, "COUNT", count_},
                     [this](const redisReply* r, const redis::Failure* f) { on_read(r, f, true); });
    return;
  }
  const std::string block = std::to_string(block_ms_);
  if (history_)  // this consumer's own pending entries; no wait
    client_->command({"XREADGROUP", "GROUP", group_, consumer_, "COUNT", count_, "STREAMS", stream_, history_start_},
                     [this](const redisReply* r, const redis::Failure* f) { on_read(r, f, false); });
  else
    client_->command(
        {"XREADGROUP", "GROUP", group_, consumer_, "COUNT", count_, "BLOCK", block, "STREAMS", stream_, ">"},
        [this](const redisReply* r, const redis::Failure* f) { on_read(r, f, false); }, block_ms_);
}

void RedisTransport::on_read(const redisReply* reply, const redis::Failure* failure, bool claim) {
  if (failure) return;  // on_down reconnects
  reading_ = false;
  if (redis::is_error(reply)) {
    std::string text(redis::reply_text(reply));
    if (text.substr(0, 7) == "NOGROUP") return create_group();
    if (redis::is_transient_error(reply)) {
      stop_io();
      return attempt_failed(Verdict::retry, TW_ERR_IO, 0, settings_.url.display() + " is not ready: " + text);
    }
    return end_with_error(TW_ERR_PROTOCOL, 0, settings_.url.display() + " refused to read " + stream_ + ": " + text);
  }
  std::vector<redis::Entry> entries;
  std::string error;
  if (claim) {
    // [next cursor, [entries], [deleted ids]] (the third since Redis 7).
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
        reply->element[0]->type != REDIS_REPLY_STRING || !redis::read_entry_list(reply->element[1], entries, error))
      return protocol_error("unexpected reply to XAUTOCLAIM" + (error.empty() ? "" : ": " + error));
    claim_cursor_ = std::string(redis::reply_text(reply->element[0]));
    if (claim_cursor_ == "0-0") next_claim_ms_ = now_ms() + std::max<int64_t>(claim_idle_ms_ / 2, 1);
    if (!entries.empty())
      log(TW_LOG_INFO, settings_.url.display() + ": claimed " + std::to_string(entries.size()) + " entries idle over " +
                           std::to_string(claim_idle_ms_) + " ms on " + stream_);
  } else if (!redis::read_entries(reply, entries, error)) {
    return protocol_error(error);
  }
  if (history_ && entries.empty()) history_ = false;
  // The history is read in pages: the next page starts after the last entry of this one.
  if (history_ && !entries.empty()) history_start_ = entries.back().id;
  const int64_t received_ns = monotonic_ns();
  for (auto& entry : entries) {
    // An entry trimmed from the stream while pending: nothing to deliver, only to release.
    if (entry.deleted) {
      acks_.push_back(entry.id);
      continue;
    }
    // With the application already, or acknowledged after Redis computed this reply.
    if (confirmed_.count(entry.id) || !unacked_.insert(entry.id).second) continue;
    EventPtr e = new_event(TW_KIND_MESSAGE, received_ns);
    redis::fill_event(*e, std::move(entry));
    batch_.push_back(std::move(e));
  }
  confirmed_.clear();  // the next read is sent after every confirmation so far: it cannot hold them
  const bool pause = deliver(batch_);
  if (ended()) return;
  send_acks();
  if (pause) paused_ = true;
  read_next();
}

void RedisTransport::ack(std::vector<std::string> ids) {
  if (ended()) return;
  acks_.insert(acks_.end(), std::make_move_iterator(ids.begin()), std::make_move_iterator(ids.end()));
  send_acks();
}

void RedisTransport::start_acker() {
  retired_acker_.reset();
  acker_ = std::make_unique<redis::Client>(
      runtime_.loop(), settings_,
      [this] {
        acker_backoff_.connected(now_ms());
        send_acks();
      },
      [this](const redis::Failure& f) {
        // The acknowledgments it had are back in acks_ (their callbacks ran first); they go on a
        // new connection after the backoff. The reading connection's failure is what ends a stream.
        retired_acker_ = std::move(acker_);
        const int64_t delay = acker_backoff_.next_delay(now_ms(), std::nullopt).value_or(0);  // no max_attempts
        log(TW_LOG_INFO, settings_.url.display() + ": acknowledgment connection: " + f.message + "; " +
                             std::to_string(acks_.size()) + " acknowledgments wait; retrying in " +
                             std::to_string(delay) + " ms");
        acker_retry_.start(static_cast<uint64_t>(delay));
      });
  acker_->connect();
}

void RedisTransport::send_acks() {
  if (acks_.empty() || ended()) return;
  if (!client_ || !client_->ready()) return;  // the reading connection decides when Redis is up
  if (!acker_) {
    if (acker_retry_.active()) return;  // backing off after a refused or cut connection
    start_acker();
  }
  redis::Client* link = acker_.get();
  if (!link || !link->ready()) return;
  std::vector<std::string> ids;
  ids.swap(acks_);
  std::vector<std::string_view> args{"XACK", stream_, group_};
  args.insert(args.end(), ids.begin(), ids.end());
  // Pipelined behind any blocked read; if the connection fails first, they are sent again on the
  // next one (acknowledging twice is harmless).
  link->command(args, [this, ids](const redisReply*, const redis::Failure* failure) {
    if (failure) {
      acks_.insert(acks_.end(), ids.begin(), ids.end());
      return;
    }
    // Confirmed: a read sent from now on cannot return these. One already out can, since the
    // acknowledgments and the reads travel on different connections: on_read skips them once.
    for (const auto& id : ids) {
      unacked_.erase(id);
      confirmed_.insert(id);
    }
  });
}

void RedisTransport::resume() {
  paused_ = false;
  read_next();
}

}  // namespace tidewire::detail
