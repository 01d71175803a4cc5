#include "transport.h"

#include <algorithm>

#include "../error.h"
#include "../log.h"

namespace tidewire::detail {
BackoffSettings backoff_settings(const Config& c) {
  BackoffSettings s;
  s.initial_ms = c.integer("reconnect.initial_ms");
  s.max_ms = c.integer("reconnect.max_ms");
  s.reset_after_ms = c.integer("reconnect.reset_after_ms");
  s.max_attempts = c.integer("reconnect.max_attempts");
  return s;
}

Transport::Transport(Runtime& runtime, std::shared_ptr<StreamCore> core)
    : runtime_(runtime),
      core_(std::move(core)),
      backoff_(backoff_settings(core_->config)),
      attempt_timer_(runtime.loop(),
                     [this] {
                       // After a backoff the stream connects again; a poll due is not news.
                       StreamState waiting = StreamState::backoff;
                       core_->state.compare_exchange_strong(waiting, StreamState::connecting);
                       attempt();
                     }),
      auth_timer_(runtime.loop(), [this] {
        // No new credentials in time: the failure stands, as with reconnect.on_auth_failure=fatal.
        AuthFailure f = std::move(*awaiting_credentials_);
        awaiting_credentials_.reset();
        end_with_error(f.err, f.http_status,
                       f.message + " (no new credentials within reconnect.auth_wait_ms=" +
                           core_->config.str("reconnect.auth_wait_ms") + ")",
                       f.close_code);
      }) {
  if (!core_->config.str("sink").empty())
    sink_ = std::make_unique<RedisSink>(
        runtime.loop(), core_->config, [this] { resume(); },
        [this](const redis::Failure& f) { end_with_error(f.err, 0, "sink: " + f.message); });
}

Transport::~Transport() = default;

int64_t Transport::now_ms() const { return static_cast<int64_t>(uv_now(runtime_.loop())); }

EventPtr Transport::new_event(tw_kind kind, int64_t received_ns) const {
  EventPtr e(new tw_event);
  e->kind = kind;
  e->transport = core_->transport;
  e->received_ns = received_ns;
  return e;
}

EventPtr Transport::new_message(std::string_view payload, int64_t received_ns) const {
  EventPtr e(tw_event::with_payload(payload, &blocks_));
  e->kind = TW_KIND_MESSAGE;
  e->transport = core_->transport;
  e->received_ns = received_ns;
  return e;
}

bool Transport::deliver(std::vector<EventPtr>& batch) {
  if (batch.empty()) return false;
  if (ended_) {  // the terminal status is queued: nothing may follow it
    batch.clear();
    return false;
  }
  uint64_t bytes = 0;
  uint64_t comments = 0;
  for (const auto& e : batch) {
    if (e->kind == TW_KIND_COMMENT) {
      comments++;
    } else {
      bytes += e->data.size();
    }
  }
  core_->stats.messages += batch.size() - comments;
  core_->stats.comments += comments;
  core_->stats.bytes += bytes;
  if (!sink_) return core_->queue.push_batch(batch, &blocks_);
  // Comments are not entries: they stay here.
  std::vector<EventPtr> local;
  if (comments) {
    for (auto& e : batch)
      if (e->kind == TW_KIND_COMMENT) local.push_back(std::move(e));
    batch.erase(std::remove(batch.begin(), batch.end(), nullptr), batch.end());
  }
  bool pause = sink_->forward(batch);
  if (!local.empty()) pause = core_->queue.push_batch(local) || pause;
  return pause;
}

bool Transport::config_headers_go_to(const Url& target, const Url& origin) const {
  return target.same_origin(origin) || core_->config.boolean("redirect.cross_origin_headers");
}

std::vector<std::pair<std::string, std::string>> Transport::request_headers(const Url& target, const Url& origin) {
  auto headers = core_->headers(&request_header_generation_);
  if (!config_headers_go_to(target, origin)) headers.clear();
  return headers;
}

void Transport::restart() {
  if (ended_) return;
  attempt_timer_.stop();
  auth_timer_.stop();
  awaiting_credentials_.reset();
  stop_io();
  // The new connection is news to the application (an `open` status event), as after a failure.
  connected_ = false;
  core_->state = StreamState::connecting;
  attempt();
}

void Transport::headers_changed() {
  if (awaiting_credentials_) retry_with_credentials();
}

void Transport::retry_with_credentials() {
  auth_timer_.stop();
  awaiting_credentials_.reset();
  core_->state = StreamState::connecting;
  attempt();
}

bool Transport::wait_for_credentials(tw_err err, int http_status, const std::string& message, int close_code) {
  if (!is_auth_failure(http_status) || core_->config.str("reconnect.on_auth_failure") != "wait") return false;
  connected_ = false;
  core_->stats.errors++;
  note_failure(message);
  core_->state = StreamState::backoff;
  // The headers changed while the refused request was out: it carried the old credentials, so
  // the new ones are tried at once.
  if (core_->header_generation() != request_header_generation_) {
    schedule_attempt(0);
    return true;
  }
  const std::string wait_ms = core_->config.str("reconnect.auth_wait_ms");
  log(TW_LOG_INFO, about_stream(message) + "; waiting up to reconnect.auth_wait_ms=" + wait_ms +
                       " for new credentials");
  EventPtr e = new_event(TW_KIND_AUTH_REQUIRED);
  e->error = err;
  e->http_status = http_status;
  e->close_code = close_code;
  e->data = message + "; waiting up to reconnect.auth_wait_ms=" + wait_ms +
            " for new credentials (tw_stream_set_header or tw_stream_restart)";
  // Queued whatever status_events says: without it the application cannot know it is awaited.
  core_->queue.push_status(std::move(e));
  awaiting_credentials_ = AuthFailure{err, http_status, message, close_code};
  auth_timer_.start(static_cast<uint64_t>(core_->config.integer("reconnect.auth_wait_ms")));
  return true;
}

void Transport::push_status(EventPtr event) {
  if (core_->config.boolean("status_events")) core_->queue.push_status(std::move(event));
}

void Transport::opened() {
  connected_once_ = true;
  core_->state = StreamState::open;
  core_->stats.attempts = 0;
  backoff_.connected(now_ms());
  // Only the change from not connected to connected is news: a poll succeeding again is not.
  if (connected_) return;
  connected_ = true;
  push_status(new_event(TW_KIND_OPEN));
}

void Transport::attempt_failed(Verdict verdict, tw_err err, int http_status, const std::string& message,
                               std::optional<int64_t> hint_ms, int close_code) {
  if (ended_) return;
  if (verdict == Verdict::end_clean) return end_clean(close_code);
  if (verdict == Verdict::fatal && wait_for_credentials(err, http_status, message, close_code)) return;
  // A connection lost after it was open (a server ending an SSE response, a WebSocket dropped) is
  // the protocol's normal course, not a failed attempt: retried at info, not counted in `attempts`.
  const bool was_open = connected_;
  connected_ = false;
  core_->stats.errors++;
  bool first_failure = false;
  if (was_open)
    core_->set_last_error(message);
  else
    first_failure = note_failure(message);
  // A failure that ends the stream is logged once, by end_with_error.
  if (verdict == Verdict::fatal) return end_with_error(err, http_status, message, close_code);
  if (!connected_once_ && !core_->config.boolean("reconnect.first_connect"))
    return end_with_error(err, http_status, message + " (first connection; reconnect.first_connect=false)",
                          close_code);
  std::optional<int64_t> delay = backoff_.next_delay(now_ms(), hint_ms);
  if (!delay)
    return end_with_error(TW_ERR_GAVE_UP, http_status,
                          "gave up after reconnect.max_attempts=" +
                              std::to_string(core_->config.integer("reconnect.max_attempts")) +
                              " failed attempts; last: " + message,
                          close_code);
  core_->stats.reconnects++;
  core_->state = StreamState::backoff;
  // The policy retries quietly, but never silently: the first failed attempt of an outage, and every
  // failed attempt once the backoff has reached reconnect.max_ms, are warnings (at most one per
  // max_ms then). A lost connection is not a failed attempt, even when a server's `retry:` made its
  // delay the maximum.
  const bool at_max = backoff_.at_max();
  const tw_log_level level = !was_open && (first_failure || at_max) ? TW_LOG_WARN : TW_LOG_INFO;
  if (log_enabled(level))
    log(level, about_stream(message) + "; retrying in " + std::to_string(*delay) + " ms (attempt " +
                   std::to_string(core_->stats.attempts.load() + 1) +
                   (at_max ? ", backoff at reconnect.max_ms=" + core_->config.str("reconnect.max_ms") : "") + ")");
  EventPtr e = new_event(TW_KIND_RECONNECTING);
  e->error = err;
  e->http_status = http_status;
  e->close_code = close_code;
  e->retry_ms = *delay;
  e->data = message;
  push_status(std::move(e));
  schedule_attempt(*delay);
}

void Transport::schedule_attempt(int64_t delay_ms) { attempt_timer_.start(static_cast<uint64_t>(delay_ms)); }

void Transport::end_clean(int close_code) {
  if (ended_) return;
  flush();  // what was received (and, for a webhook, acknowledged) is queued before the end
  EventPtr e = new_event(TW_KIND_CLOSED);
  e->close_code = close_code;
  push_status(std::move(e));
  finish();
}

void Transport::end_with_error(tw_err err, int http_status, const std::string& message, int close_code) {
  if (ended_) return;
  flush();  // what was received (and, for a webhook, acknowledged) is queued before the end
  core_->set_last_error(message);
  log(TW_LOG_WARN, "stream ended: " + about_stream(message));
  EventPtr e = new_event(TW_KIND_ERROR);
  e->error = err;
  e->http_status = http_status;
  e->close_code = close_code;
  e->data = message;
  core_->set_failure(*e);
  push_status(std::move(e));
  finish();
}

bool Transport::note_failure(const std::string& message) {
  core_->set_last_error(message);
  return core_->stats.attempts++ == 0;
}

std::string Transport::about_stream(const std::string& message) const {
  if (message.find("://") != std::string::npos) return message;
  return redacted(core_->config.str("url")) + ": " + message;
}

void Transport::finish() {
  ended_ = true;
  core_->state = StreamState::ended;
  attempt_timer_.stop();
  auth_timer_.stop();
  awaiting_credentials_.reset();
  stop_io();
  // Sends are refused before consumers can see the end, so no send succeeds after it.
  if (core_->sends) core_->sends->close();
  core_->queue.end();
  core_->running = nullptr;
  // The entries a sink accepted still go to Redis (bounded by sink.flush_timeout_ms): the
  // transport, which owns the sink, stays until then.
  if (sink_) return sink_->drain([this] { runtime_.release(this); });
  runtime_.release(this);
}

}  // namespace tidewire::detail
