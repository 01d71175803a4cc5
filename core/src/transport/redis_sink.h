// sink=redis://…?stream=NAME[&maxlen=N]: a stream's messages are appended (XADD) to a Redis Stream
// instead of being queued here, so a poller or SSE reader on one machine feeds redis workers on
// many. Entries are sent pipelined and kept until Redis confirms them; after a reconnect
// (reconnect.*) the unconfirmed ones are sent again (at least once: an entry whose reply was lost
// may be appended twice). Past queue.max_events unconfirmed entries the transport is told to
// pause reading, as for a full queue; it is told to resume at half. When the stream ends, the
// entries not yet confirmed still go, for up to sink.flush_timeout_ms (drain()); whatever is left
// then is dropped with a warning naming how many, never silently. I/O thread only.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../config.h"
#include "../policy.h"
#include "../queue.h"
#include "../redis/client.h"
#include "../timer.h"

namespace tidewire::detail {

class RedisSink {
 public:
  // Throws Error(TW_ERR_INVALID_VALUE) naming `sink` when its URL has no ?stream=.
  RedisSink(uv_loop_t* loop, const Config& config, std::function<void()> on_room,
            std::function<void(const redis::Failure&)> on_fatal);
  ~RedisSink();

  // Takes every event of the batch. True: the producer must pause.
  bool forward(std::vector<EventPtr>& batch);
  // Unconfirmed entries (for the `queue_depth`-like view of tests and stats).
  size_t backlog() const { return unconfirmed_.size(); }
  // The stream ended: the entries accepted and not yet confirmed keep going to Redis (reconnecting
  // as before) until Redis has confirmed them all, or sink.flush_timeout_ms passes, or Redis
  // refuses one; then `done` runs (at once when none wait), after a warning naming how many are
  // dropped if any are. Nothing is forwarded after it; on_room and on_fatal are not called again.
  void drain(std::function<void()> done);

 private:
  void connect();
  void send_from(size_t index);
  void confirmed(const redisReply* reply);
  void fail(const redis::Failure& failure);
  void drained(const std::string& why);
  // A warning naming how many entries are dropped unconfirmed, once.
  void report_dropped(const std::string& why);

  uv_loop_t* const loop_;
  const redis::ClientSettings settings_;
  const std::string stream_;
  const std::string maxlen_;
  const size_t capacity_;
  const std::function<void()> on_room_;
  const std::function<void(const redis::Failure&)> on_fatal_;
  const int64_t flush_timeout_ms_;
  Backoff backoff_;
  Timer retry_;
  Timer flush_deadline_;
  std::function<void()> done_;  // set while draining
  bool draining_ = false;
  bool failed_ = false;    // Redis refused an entry or the credentials: nothing more will be confirmed
  bool reported_ = false;
  std::unique_ptr<redis::Client> client_;
  std::unique_ptr<redis::Client> retired_;
  std::deque<EventPtr> unconfirmed_;  // in order; the first `sent_` are out, awaiting their reply
  size_t sent_ = 0;
  bool paused_ = false;
};

}  // namespace tidewire::detail
