#include "stream.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <strings.h>

#include "error.h"
#include "url.h"

namespace tidewire::detail {

namespace {
Overflow overflow_of(const Config& config) {
  return config.str("queue.overflow") == "drop_oldest" ? Overflow::drop_oldest : Overflow::pause;
}

struct StatSpec {
  const char* name;
  uint64_t (*read)(const StreamCore&);
  const char* doc;
};

// The statistics of a stream: tw_stat_name() enumerates them, and docs/STATISTICS.md is generated
// from the descriptions here. New ones go at the end (bindings list them in this order).
const StatSpec kStats[] = {
    {"messages", [](const StreamCore& s) -> uint64_t { return s.stats.messages; },
     "Messages delivered to the queue (not counting status events or SSE comments)."},
    {"bytes", [](const StreamCore& s) -> uint64_t { return s.stats.bytes; },
     "Payload bytes of those messages."},
    {"requests", [](const StreamCore& s) -> uint64_t { return s.stats.requests; },
     "HTTP requests sent (polls, long-polls, SSE and WebSocket handshakes)."},
    {"not_modified", [](const StreamCore& s) -> uint64_t { return s.stats.not_modified; },
     "Polls answered 304 Not Modified."},
    {"reconnects", [](const StreamCore& s) -> uint64_t { return s.stats.reconnects; },
     "Attempts scheduled again after a failure (each backoff wait counts once)."},
    {"errors", [](const StreamCore& s) -> uint64_t { return s.stats.errors; },
     "Failed attempts, whether retried or fatal."},
    {"dropped", [](const StreamCore& s) -> uint64_t { return s.queue.dropped(); },
     "Events dropped by queue.overflow=drop_oldest, and status events dropped from a full queue."},
    {"queue_depth", [](const StreamCore& s) -> uint64_t { return s.queue.depth(); },
     "Events waiting in the queue now."},
    {"queue_peak", [](const StreamCore& s) -> uint64_t { return s.queue.peak(); },
     "The most events the queue has held at once."},
    {"paused", [](const StreamCore& s) -> uint64_t { return s.queue.pauses(); },
     "Times the stream paused reading because the queue was full (queue.overflow=pause)."},
    {"connections", [](const StreamCore& s) -> uint64_t { return s.stats.connections; },
     "Connections opened; a reused keep-alive connection is not counted."},
    {"tls_handshakes", [](const StreamCore& s) -> uint64_t { return s.stats.tls_handshakes; },
     "TLS handshakes completed."},
    {"wire_bytes", [](const StreamCore& s) -> uint64_t { return s.stats.wire_bytes; },
     "Bytes received on the wire, framing included, before decompression."},
    {"payload_bytes", [](const StreamCore& s) -> uint64_t { return s.stats.payload_bytes; },
     "Message payload bytes received, after decompression (wire_bytes / payload_bytes is what compression "
     "saves)."},
    {"comments", [](const StreamCore& s) -> uint64_t { return s.stats.comments; },
     "SSE comment lines delivered (sse.comments=true)."},
    {"attempts", [](const StreamCore& s) -> uint64_t { return s.stats.attempts; },
     "Attempts (connections, polls) that failed in a row; 0 again once one succeeds. With the state "
     "(tw_stream_state) it tells \"waiting for data\" (open, 0) from \"cannot connect\" (backoff, 3)."},
};
}  // namespace

const char* stat_name(size_t index) {
  return index < sizeof kStats / sizeof kStats[0] ? kStats[index].name : nullptr;
}

const char* stat_doc(size_t index) {
  return index < sizeof kStats / sizeof kStats[0] ? kStats[index].doc : nullptr;
}

const char* stream_state_name(tw_state state) {
  switch (state) {
    case TW_STATE_CONNECTING:
      return "connecting";
    case TW_STATE_OPEN:
      return "open";
    case TW_STATE_BACKOFF:
      return "backoff";
    case TW_STATE_PAUSED:
      return "paused";
    case TW_STATE_ENDED:
      return "ended";
  }
  return "unknown";
}

StreamCore::StreamCore(Config cfg, tw_transport t, std::shared_ptr<Runtime> rt)
    : config(std::move(cfg)),
      transport(t),
      runtime(std::move(rt)),
      queue(static_cast<size_t>(config.integer("queue.max_events")), overflow_of(config),
            static_cast<uint64_t>(config.integer("queue.max_bytes"))),
      sends(t == TW_TRANSPORT_WS    ? std::make_unique<SendBuffer>(static_cast<size_t>(config.integer("ws.send_buffer_bytes")))
            : t == TW_TRANSPORT_MCP ? std::make_unique<SendBuffer>(static_cast<size_t>(config.integer("mcp.send_buffer_bytes")))
                                    : nullptr),
      ack_on_handover(t == TW_TRANSPORT_REDIS && config.str("redis.ack") == "auto"),
      url_(config.str("url")),
      headers_(config.headers()) {}

std::vector<std::pair<std::string, std::string>> StreamCore::headers(uint64_t* out_generation) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (out_generation) *out_generation = header_generation_.load(std::memory_order_relaxed);
  return headers_;
}

void StreamCore::set_header(const std::string& name, const std::optional<std::string>& value) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = std::find_if(headers_.begin(), headers_.end(),
                         [&](const auto& h) { return strcasecmp(h.first.c_str(), name.c_str()) == 0; });
  if (!value) {
    if (it != headers_.end()) headers_.erase(it);
  } else if (it != headers_.end()) {
    it->second = *value;
  } else {
    headers_.emplace_back(name, *value);
  }
  header_generation_.store(header_generation_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

void StreamCore::set_last_error(const std::string& message) {
  std::string text = redact_urls(message);
  std::lock_guard<std::mutex> lock(mutex_);
  last_error_ = std::move(text);
}

std::string StreamCore::last_error() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_error_;
}

void StreamCore::set_failure(const tw_event& event) {
  std::lock_guard<std::mutex> lock(mutex_);
  failure_.reset(new tw_event(event));
}

EventPtr StreamCore::failure() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return EventPtr(failure_ ? new tw_event(*failure_) : nullptr);
}

void StreamCore::set_url(std::string url) {
  std::lock_guard<std::mutex> lock(mutex_);
  url_ = std::move(url);
}

std::string StreamCore::url() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return url_;
}

void StreamCore::report_ready(tw_err err, const std::string& message) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (ready_) return;
    ready_.emplace(err, message);
  }
  ready_cv_.notify_all();
}

void StreamCore::wait_ready(int64_t timeout_ms) const {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!ready_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] { return ready_.has_value(); }))
    throw Error(TW_ERR_TIMEOUT, "url: the endpoint was not listening after " + std::to_string(timeout_ms) + " ms");
  if (ready_->first != TW_OK) throw Error(ready_->first, ready_->second);
}

bool StreamCore::stat(const std::string& name, uint64_t& out) const {
  for (const auto& spec : kStats)
    if (name == spec.name) {
      out = spec.read(*this);
      return true;
    }
  return false;
}

}  // namespace tidewire::detail
