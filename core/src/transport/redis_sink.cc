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
      flush_timeout_ms_(config.integer("sink.flush_timeout_ms")),
      backoff_(backoff_of(config)),
      retry_(loop, [this] { connect(); }),
      flush_deadline_(loop, [this] {
        drained("within sink.flush_timeout_ms=" + std::to_string(flush_timeout_ms_) + " after the stream ended");
      }) {
  if (!maxlen_.empty() && (maxlen_.find_first_not_of("0123456789") != std::string::npos || maxlen_.size() > 15))
    throw Error(TW_ERR_INVALID_VALUE, "sink: maxlen must be a whole number of entries");
  connect();
}

// The runtime shut down (or the stream's transport went) while entries still waited.
RedisSink::~RedisSink() { report_dropped("before the runtime shut down"); }

void RedisSink::drain(std::function<void()> done) {
  if (draining_) return;
  draining_ = true;
  done_ = std::move(done);
  if (unconfirmed_.empty() || failed_ || flush_timeout_ms_ == 0)
    return drained(failed_ ? "after Redis refused the sink" : "(sink.flush_timeout_ms=0)");
  log(TW_LOG_INFO, "sink: the stream ended; " + std::to_string(unconfirmed_.size()) +
                       " entries still go to " + settings_.url.display() + " (up to sink.flush_timeout_ms=" +
                       std::to_string(flush_timeout_ms_) + ")");
  flush_deadline_.start(static_cast<uint64_t>(flush_timeout_ms_));
}

void RedisSink::drained(const std::string& why) {
  if (!done_) return;
  flush_deadline_.stop();
  report_dropped(why);
  // The owner may be released from inside: nothing of this object is used after the call.
  std::function<void()> done = std::move(done_);
  done_ = nullptr;
  done();
}

void RedisSink::report_dropped(const std::string& why) {
  if (unconfirmed_.empty() || reported_) return;
  reported_ = true;
  log(TW_LOG_WARN, "sink: " + std::to_string(unconfirmed_.size()) + " entries accepted from the stream were not " +
                       "confirmed by " + settings_.url.display() + " " + why + "; they are dropped");
}

void RedisSink::fail(const redis::Failure& failure) {
  failed_ = true;
  if (draining_) return drained("after it refused: " + failure.message);
  on_fatal_(failure);
}

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
        if (f.fatal) return fail(f);
        int64_t delay = backoff_.next_delay(static_cast<int64_t>(uv_now(loop_)), std::nullopt).value_or(0);
        log(TW_LOG_WARN, "sink: " + f.message + "; " + std::to_string(unconfirmed_.size()) +
                             " entries wait; retrying in " + std::to_string(delay) + " ms");
        retry_.start(static_cast<uint64_t>(delay));
      });
  client_->connect();
}

bool RedisSink::forward(std::vector<EventPtr>& batch) {
  if (draining_) {  // the transport has ended: nothing follows its end
    batch.clear();
    return false;
  }
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
    return fail({TW_ERR_PROTOCOL, true,
                 settings_.url.display() + " refused an entry for " + stream_ + ": " +
                     std::string(redis::reply_text(reply))});
  unconfirmed_.pop_front();
  sent_--;
  if (draining_) {
    if (unconfirmed_.empty()) drained("");
    return;
  }
  if (paused_ && unconfirmed_.size() <= capacity_ / 2) {
    paused_ = false;
    on_room_();
  }
}

}  // namespace tidewire::detail
