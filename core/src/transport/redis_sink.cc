#include "redis_sink.h"

#include <chrono>

#include "../error.h"
#include "../log.h"
#include "../redis/entry.h"
#include "redis.h"

namespace tidewire::detail {
namespace {

// The stream's policy, without reconnect.max_attempts: the sink keeps what it accepted until Redis
// takes it; the source's connection is what the policy ends.
BackoffSettings backoff_of(const Config& config) {
  BackoffSettings b = backoff_settings(config);
  b.max_attempts = 0;
  return b;
}

std::string sink_stream(const redis::ClientSettings& s) {
  std::string stream = s.url.param("stream");
  if (stream.empty()) throw Error(TW_ERR_INVALID_VALUE, "sink: the URL needs ?stream=NAME (the Redis Stream to append to)");
  return stream;
}

}  // namespace

RedisSink::RedisSink(uv_loop_t* loop, const Config& config, std::function<void()> on_room,
                     std::function<void(const redis::Failure&)> on_fatal)
    : loop_(loop),
      settings_(redis_client_settings(config, "sink")),
      stream_(sink_stream(settings_)),
      maxlen_(settings_.url.param("maxlen")),
      capacity_(static_cast<size_t>(config.integer("queue.max_events"))),
      on_room_(std::move(on_room)),
      on_fatal_(std::move(on_fatal)),
      backoff_(backoff_of(config)),
      retry_(loop, [this] { connect(); }) {
  if (!maxlen_.empty() && (maxlen_.find_first_not_of("0123456789") != std::string::npos || maxlen_.size() > 15))
    throw Error(TW_ERR_INVALID_VALUE, "sink: maxlen must be a whole number of entries");
  connect();
}

RedisSink::~RedisSink() = default;

void RedisSink::connect() {
  retired_.reset();
  sent_ = 0;
  client_ = std::make_unique<redis::Client>(
      loop_, settings_,
      [this] {
        backoff_.connected(static_cast<int64_t>(uv_now(loop_)));
        send_from(0);
      },
      [this](const redis::Failure& f) {
        retired_ = std::move(client_);
        sent_ = 0;  // whatever was not confirmed goes again
        if (f.fatal) return on_fatal_(f);
        int64_t delay = backoff_.next_delay(static_cast<int64_t>(uv_now(loop_)), std::nullopt).value_or(0);
        log(TW_LOG_WARN, "sink: " + f.message + "; " + std::to_string(unconfirmed_.size()) +
                             " entries wait; retrying in " + std::to_string(delay) + " ms");
        retry_.start(static_cast<uint64_t>(delay));
      });
  client_->connect();
}

bool RedisSink::forward(std::vector<EventPtr>& batch) {
  const size_t first = unconfirmed_.size();
  for (auto& e : batch) unconfirmed_.push_back(std::move(e));
  batch.clear();
  if (client_ && client_->ready()) send_from(first);
  if (unconfirmed_.size() >= capacity_) paused_ = true;
  return paused_;
}

void RedisSink::send_from(size_t index) {
  const std::string received_at = std::to_string(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  for (size_t i = index; i < unconfirmed_.size(); i++) {
    const tw_event& e = *unconfirmed_[i];
    std::vector<std::pair<std::string, std::string>> extra{{"transport", tw_transport_name(e.transport)},
                                                           {"received_at", received_at}};
    for (const auto& h : e.headers) extra.emplace_back("h." + h.first, h.second);
    std::vector<std::string_view> args{"XADD", stream_};
    if (!maxlen_.empty()) args.insert(args.end(), {"MAXLEN", "~", maxlen_});
    args.push_back("*");
    auto fields = redis::event_fields(e, extra);
    args.insert(args.end(), fields.begin(), fields.end());
    client_->command(args, [this](const redisReply* reply, const redis::Failure* failure) {
      if (!failure) confirmed(reply);
    });
  }
  sent_ = unconfirmed_.size();
}

void RedisSink::confirmed(const redisReply* reply) {
  if (redis::is_error(reply))
    return on_fatal_({TW_ERR_PROTOCOL, true,
                      settings_.url.display() + " refused an entry for " + stream_ + ": " +
                          std::string(redis::reply_text(reply))});
  unconfirmed_.pop_front();
  sent_--;
  if (paused_ && unconfirmed_.size() <= capacity_ / 2) {
    paused_ = false;
    on_room_();
  }
}

}  // namespace tidewire::detail
