#include "sse.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace tidewire::detail {
namespace {

bool is_event_stream(const std::string& content_type) {
  static const char kType[] = "text/event-stream";
  if (content_type.size() < sizeof kType - 1) return false;
  if (strncasecmp(content_type.c_str(), kType, sizeof kType - 1) != 0) return false;
  char next = content_type.size() > sizeof kType - 1 ? content_type[sizeof kType - 1] : '\0';
  return next == '\0' || next == ';' || next == ' ' || next == '\t';
}

}  // namespace

SseTransport::SseTransport(Runtime& runtime, std::shared_ptr<StreamCore> core)
    : HttpTransport(runtime, std::move(core)),
      parser_(static_cast<size_t>(core_->config.integer("sse.max_line_bytes")),
              static_cast<size_t>(core_->config.integer("sse.max_event_bytes"))),
      end_data_(core_->config.str("sse.end_data")),
      end_event_(core_->config.str("sse.end_event")) {
  parser_.set_last_event_id(core_->config.str("sse.last_event_id"));
  parser_.set_comments(core_->config.boolean("sse.comments"));
}

bool SseTransport::may_send_again() const {
  return may_replay(replay_mode(), method(), !parser_.last_event_id().empty());
}

HttpTransport::Request SseTransport::build_request(const Url& url) {
  Request r;
  r.url = url;
  r.headers.emplace_back("Accept", "text/event-stream");
  r.headers.emplace_back("Cache-Control", "no-cache");
  add_config_headers(r.headers, url);
  if (!parser_.last_event_id().empty()) r.headers.emplace_back("Last-Event-ID", parser_.last_event_id());
  return r;
}

bool SseTransport::on_success(int status, const HeaderList& headers) {
  const std::string* type = HttpTransport::find_header(headers, "content-type");
  if (status != 200 || !type || !is_event_stream(*type)) {
    end_with_error(TW_ERR_PROTOCOL, status,
                   origin().display() + " answered HTTP " + std::to_string(status) + " with Content-Type \"" +
                       (type ? *type : "") + "\", not text/event-stream");
    return false;
  }
  parser_.reset_connection();
  opened();
  return true;
}

bool SseTransport::on_success_body(const char* data, size_t len) {
  const SseParser::Result result = parser_.feed(data, len, parsed_);
  if (result != SseParser::Result::ok) {
    parsed_.clear();
    const bool line = result == SseParser::Result::line_too_long;
    end_with_error(TW_ERR_LIMIT, 200,
                   (line ? "an SSE line from " : "an SSE event from ") + origin().display() +
                       (line ? " exceeds sse.max_line_bytes=" + core_->config.str("sse.max_line_bytes")
                             : " exceeds sse.max_event_bytes=" + core_->config.str("sse.max_event_bytes")));
    return false;
  }
  if (auto retry = parser_.take_retry_ms()) {
    int64_t cap = core_->config.integer("reconnect.max_ms");
    retry_hint_ms_ = static_cast<int64_t>(std::min<uint64_t>(*retry, static_cast<uint64_t>(cap)));
  }
  if (parsed_.empty()) return true;
  batch_.reserve(parsed_.size());
  const int64_t received_ns = monotonic_ns();
  bool end = false;
  for (auto& p : parsed_) {
    const bool message = !p.comment;
    // The end marker itself carries nothing for the application (OpenAI's `data: [DONE]`).
    if (message && !end_data_.empty() && p.data == end_data_) {
      end = true;
      break;
    }
    EventPtr e = new_event(message ? TW_KIND_MESSAGE : TW_KIND_COMMENT, received_ns);
    if (message) {
      e->id = std::move(p.id);
      e->type = std::move(p.type);
    }
    e->data = std::move(p.data);
    batch_.push_back(std::move(e));
    // Anthropic's `event: message_stop`: delivered, and nothing after it.
    if (message && !end_event_.empty() && batch_.back()->type == end_event_) {
      end = true;
      break;
    }
  }
  parsed_.clear();
  const bool pause = deliver(batch_);
  if (end) {
    end_clean();
    return false;
  }
  if (pause) pause_reading(true);
  return true;
}

void SseTransport::on_success_done(tw_err err, const std::string& message) {
  // The server ended or dropped the stream: resume where it stopped. A clean end of the response
  // is still a reconnect for SSE (only 204 and the application stop it).
  std::string why = err == TW_OK ? origin().display() + " ended the event stream" : message;
  // A request that may not be sent again (a POST answered without event ids): its response was
  // the whole stream.
  if (!may_send_again()) return err == TW_OK ? end_clean() : end_not_resumable(err, why);
  attempt_failed(Verdict::retry, err == TW_OK ? TW_ERR_IO : err, 0, why, retry_hint_ms_);
}

void SseTransport::resume() { pause_reading(false); }

}  // namespace tidewire::detail
