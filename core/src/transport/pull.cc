#include "pull.h"

#include <algorithm>
#include <cctype>

namespace tidewire::detail {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Headers every poll event carries when the response has them.
const char* const kKnownHeaders[] = {"content-type", "etag", "last-modified", "cache-control"};

}  // namespace

PullTransport::PullTransport(Runtime& runtime, std::shared_ptr<StreamCore> core)
    : HttpTransport(runtime, std::move(core)),
      longpoll_(core_->transport == TW_TRANSPORT_LONGPOLL),
      max_body_bytes_(core_->config.integer("poll.max_body_bytes")),
      interval_ms_(core_->config.integer("poll.interval_ms")),
      cursor_param_(core_->config.str("longpoll.cursor_param")),
      cursor_header_(lower(core_->config.str("longpoll.cursor_header"))),
      cursor_(core_->config.str("longpoll.cursor")) {
  for (const auto& name : core_->config.list("poll.expose_headers")) {
    if (name == "*") expose_all_ = true;
    expose_.push_back(lower(name));
  }
}

std::optional<int64_t> PullTransport::held_response_timeout_ms() const {
  if (!longpoll_) return std::nullopt;
  return core_->config.integer("longpoll.timeout_ms");
}

std::string PullTransport::held_response_timeout_what() const {
  return "long-poll held past longpoll.timeout_ms";
}

// A server may send a long-poll's headers early and hold its body instead.
int64_t PullTransport::body_deadline_ms() const {
  int64_t base = HttpTransport::body_deadline_ms();
  return longpoll_ ? std::max(base, core_->config.integer("longpoll.timeout_ms")) : base;
}

// A long-poll answer that brought no change and came back sooner than a floor means the server is
// not holding the request (it ignores the cursor, or keeps answering the same one): re-issuing at
// once would be a request flood. The floor starts at reconnect.initial_ms (at least 100 ms) and
// doubles per such answer in a row, up to reconnect.max_ms; an answer held at least as long as the
// floor, or any change, resets it, so a server that holds requests properly never waits.
int64_t PullTransport::unchanged_delay_ms() {
  constexpr int64_t kMinFloorMs = 100;
  const int64_t base = std::max(core_->config.integer("reconnect.initial_ms"), kMinFloorMs);
  const int64_t cap = std::max(core_->config.integer("reconnect.max_ms"), base);
  int64_t floor = base;
  for (int i = 0; i < unchanged_streak_ && floor < cap; i++) floor *= 2;
  floor = std::min(floor, cap);
  const int64_t held = now_ms() - request_started_ms_;
  if (held >= floor) {
    unchanged_streak_ = 0;
    return 0;
  }
  unchanged_streak_++;
  return floor - held;
}

int64_t PullTransport::hint_cap_ms() const { return core_->config.integer("poll.max_interval_ms"); }

HttpTransport::Request PullTransport::build_request(const Url& url) {
  Request r;
  const std::string& param = cursor_param_;
  // On a redirected request too: without the cursor the new location would answer from the start.
  r.url = (longpoll_ && !param.empty() && !cursor_.empty()) ? url.with_query_param(param, cursor_) : url;
  add_config_headers(r.headers, url);
  // Validators come from the server's headers; one that could end a header line is not sent back.
  auto header_safe = [](const std::string& v) {
    for (char c : v)
      if (c == '\r' || c == '\n' || c == '\0') return false;
    return true;
  };
  if (!etag_.empty() && header_safe(etag_)) r.headers.emplace_back("If-None-Match", etag_);
  if (!last_modified_.empty() && header_safe(last_modified_)) r.headers.emplace_back("If-Modified-Since", last_modified_);
  status_ = 0;
  headers_.clear();
  body_.clear();
  request_started_ms_ = now_ms();
  return r;
}

bool PullTransport::on_success(int status, const HeaderList& headers) {
  status_ = status;
  headers_ = headers;
  return status != 304;
}

bool PullTransport::on_success_body(const char* data, size_t len) {
  if (body_.size() + len > static_cast<size_t>(max_body_bytes_)) {
    end_with_error(TW_ERR_LIMIT, status_,
                   "response body exceeds poll.max_body_bytes=" + std::to_string(max_body_bytes_));
    return false;
  }
  body_.append(data, len);
  return true;
}

void PullTransport::on_io_timeout(const std::string& what) {
  // A long-poll that outlives its own timeout is re-issued at once: the server simply held it.
  // Not so before the request was sent: that is a connection that did not come up in time.
  if (longpoll_ && status_ == 0 && request_sent()) return schedule_next(0);
  HttpTransport::on_io_timeout(what);
}

void PullTransport::on_success_done(tw_err err, const std::string& message) {
  if (err != TW_OK) return attempt_failed(classify_error(err), err, status_, message);
  backoff_.succeeded();
  opened();
  if (const std::string* hint = HttpTransport::find_header(headers_, "x-poll-interval"))
    if (auto ms = parse_seconds_ms(*hint)) hinted_interval_ms_ = std::min(*ms, hint_cap_ms());

  bool changed = false;
  if (status_ == 304) {
    core_->stats.not_modified++;
  } else if (longpoll_) {
    const std::string* cursor = cursor_header_.empty() ? nullptr : HttpTransport::find_header(headers_, cursor_header_);
    if (cursor) {
      changed = *cursor != cursor_;
      cursor_ = *cursor;
    } else {
      changed = status_ != 204;
    }
  } else {
    const std::string* etag = HttpTransport::find_header(headers_, "etag");
    const std::string* modified = HttpTransport::find_header(headers_, "last-modified");
    etag_ = etag ? *etag : "";
    last_modified_ = modified ? *modified : "";
    // Without validators, a repeated body is not a change.
    changed = status_ != 204 && (!last_body_ || *last_body_ != body_);
  }

  if (changed) {
    EventPtr e = new_event(TW_KIND_MESSAGE);
    e->type = "change";
    e->id = longpoll_ ? cursor_ : (!etag_.empty() ? etag_ : last_modified_);
    for (const auto& h : headers_) {
      bool known = std::find(std::begin(kKnownHeaders), std::end(kKnownHeaders), h.first) != std::end(kKnownHeaders);
      bool wanted = expose_all_ || known || h.first == cursor_header_ ||
                    std::find(expose_.begin(), expose_.end(), h.first) != expose_.end();
      if (wanted) e->headers.push_back(h);
    }
    if (!longpoll_) last_body_ = body_;
    e->data = std::move(body_);
    std::vector<EventPtr> batch;
    batch.push_back(std::move(e));
    deliver(batch);
  }
  body_.clear();
  int64_t interval = 0;
  if (!longpoll_) {
    interval = interval_ms_;
  } else if (changed) {
    unchanged_streak_ = 0;
  } else {
    interval = unchanged_delay_ms();
  }
  if (!longpoll_ && hinted_interval_ms_) interval = std::max(interval, *hinted_interval_ms_);
  schedule_next(interval);
}

void PullTransport::schedule_next(int64_t delay_ms) {
  if (ended()) return;
  // Backpressure: no request while the consumer is behind; resume() issues it.
  if (core_->queue.paused()) {
    waiting_for_room_ = true;
    return;
  }
  schedule_attempt(delay_ms);
}

void PullTransport::restart() {
  waiting_for_room_ = false;
  HttpTransport::restart();
}

void PullTransport::resume() {
  if (!waiting_for_room_ || ended()) return;
  waiting_for_room_ = false;
  schedule_attempt(longpoll_ ? 0 : interval_ms_);
}

}  // namespace tidewire::detail
