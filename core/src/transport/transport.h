// What every transport shares, on the I/O thread: delivering events into the stream's queue,
// applying the one reconnect policy, and ending the stream exactly once.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../policy.h"
#include "../queue.h"
#include "../runtime.h"
#include "../stream.h"
#include "../timer.h"
#include "../url.h"
#include "redis_sink.h"

namespace tidewire::detail {

// The stream's backoff policy (reconnect.*), for its connection and for any helper connection
// of its own (redis acknowledgments, a sink): one reading of the keys.
BackoffSettings backoff_settings(const Config& config);

class Transport {
 public:
  Transport(Runtime& runtime, std::shared_ptr<StreamCore> core);
  virtual ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  virtual void start() { attempt(); }
  // Ends the stream cleanly (application close or runtime shutdown). Idempotent. A transport that
  // says goodbye to its server first (mcp: DELETE of the session) overrides it.
  virtual void close() { end_clean(); }
  // Runtime shutdown: ends the stream cleanly (a WebSocket says 1001, going away).
  virtual void shutdown() { close(); }
  // The consumer made room in a paused queue.
  virtual void resume() {}
  // The application queued a message in an empty send buffer.
  virtual void send_ready() {}
  // tw_stream_restart: drops the connection (or the wait before the next attempt) and starts a new
  // attempt at once, without backoff; what the transport resumes from (Last-Event-ID, ETag, cursor)
  // is kept. Overrides reset their own per-attempt state, then call this.
  virtual void restart();
  // tw_stream_set_header changed the headers: a stream waiting for new credentials tries again now.
  void headers_changed();
  // The application is done with the events of these ids (redis): tw_stream_ack with
  // redis.ack=manual, or tw_stream_next handing them over with redis.ack=auto.
  virtual void ack(std::vector<std::string> /*ids*/) {}
  // Hands events received during this loop iteration to the queue (see Runtime::defer_flush).
  // Also called when the stream ends, before its terminal status is queued.
  virtual void flush() {}

 protected:
  // Starts one connection attempt (or poll).
  virtual void attempt() = 0;
  // Aborts in-flight I/O and stops timers; no callback into the transport follows.
  virtual void stop_io() = 0;

  int64_t now_ms() const;
  EventPtr new_event(tw_kind kind) const { return new_event(kind, monotonic_ns()); }
  // Events parsed from one read share its receive time: one clock read per read, not per event.
  EventPtr new_event(tw_kind kind, int64_t received_ns) const;
  // A message whose payload is copied from `payload` (a read buffer) into the event's own
  // allocation: one allocation, one copy.
  EventPtr new_message(std::string_view payload, int64_t received_ns) const;
  // Hands a batch of message (and comment) events to the queue (counting them). True: the producer
  // must pause.
  bool deliver(std::vector<EventPtr>& batch);
  // A connection is established (or a poll succeeded): the backoff learns when, and an `open`
  // status event is queued if the stream was not connected (first success, or first after a
  // failure).
  void opened();

  // The policy, applied to one failed attempt: end cleanly, end with an error, or reconnect after
  // a backoff delay (hint_ms, already capped by the caller, is a floor).
  void attempt_failed(Verdict verdict, tw_err err, int http_status, const std::string& message,
                      std::optional<int64_t> hint_ms = std::nullopt, int close_code = 0);
  void schedule_attempt(int64_t delay_ms);
  void end_clean(int close_code = 0);
  void end_with_error(tw_err err, int http_status, const std::string& message, int close_code = 0);
  bool ended() const { return ended_; }
  // Whether header.* (tokens, cookies) may be sent to `target`: always to the configured origin,
  // to another only after the user allowed it (redirect.cross_origin_headers).
  bool config_headers_go_to(const Url& target, const Url& origin) const;
  // The headers for a request or handshake to `target` (header.* and tw_stream_set_header's, or
  // none where they may not go), noting which change of them it carries (see attempt_failed).
  std::vector<std::pair<std::string, std::string>> request_headers(const Url& target, const Url& origin);

  Runtime& runtime_;
  const std::shared_ptr<StreamCore> core_;
  Backoff backoff_;

 private:
  void push_status(EventPtr event);
  void finish();
  // A failed attempt, for tw_stream_last_error and the `attempts` statistic. True when it is the
  // first failure since the stream started or was last open (the one worth a warning).
  bool note_failure(const std::string& message);
  // A log line about this stream: the message as is when it names a URL, else after the stream's.
  std::string about_stream(const std::string& message) const;
  // reconnect.on_auth_failure=wait: a 401/403 waits for new credentials. False: the failure is fatal.
  bool wait_for_credentials(tw_err err, int http_status, const std::string& message, int close_code);
  void retry_with_credentials();

  Timer attempt_timer_;
  Timer auth_timer_;
  // Set while a refused stream waits for tw_stream_set_header / tw_stream_restart; what it ends
  // with if neither comes within reconnect.auth_wait_ms.
  struct AuthFailure {
    tw_err err;
    int http_status;
    std::string message;
    int close_code;
  };
  std::optional<AuthFailure> awaiting_credentials_;
  uint64_t request_header_generation_ = 0;  // of the headers the last request carried
  // sink=redis://…: messages go to a Redis Stream instead of the queue.
  std::unique_ptr<RedisSink> sink_;
  // Blocks for new messages, given back by consumers through the queue (see BlockCache). Mutable:
  // new_message is const, and the cache is only an allocator.
  mutable BlockCache blocks_;
  bool ended_ = false;
  bool connected_once_ = false;
  bool connected_ = false;  // since the last opened(), no attempt failed
};

// Creates the transport that runs a stream. Throws Error(TW_ERR_UNSUPPORTED) for a transport this
// build does not provide.
std::unique_ptr<Transport> make_transport(Runtime& runtime, std::shared_ptr<StreamCore> core);

}  // namespace tidewire::detail
