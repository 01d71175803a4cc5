#include "stream.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <strings.h>

#include "error.h"

namespace tidewire::detail {

namespace {
Overflow overflow_of(const Config& config) {
  return config.str("queue.overflow") == "drop_oldest" ? Overflow::drop_oldest : Overflow::pause;
}

struct StatSpec {
  const char* name;
  uint64_t (*read)(const StreamCore&);
};

const StatSpec kStats[] = {
    {"messages", [](const StreamCore& s) -> uint64_t { return s.stats.messages; }},
    {"bytes", [](const StreamCore& s) -> uint64_t { return s.stats.bytes; }},
    {"requests", [](const StreamCore& s) -> uint64_t { return s.stats.requests; }},
    {"not_modified", [](const StreamCore& s) -> uint64_t { return s.stats.not_modified; }},
    {"reconnects", [](const StreamCore& s) -> uint64_t { return s.stats.reconnects; }},
    {"errors", [](const StreamCore& s) -> uint64_t { return s.stats.errors; }},
    {"dropped", [](const StreamCore& s) -> uint64_t { return s.queue.dropped(); }},
    {"queue_depth", [](const StreamCore& s) -> uint64_t { return s.queue.depth(); }},
    {"queue_peak", [](const StreamCore& s) -> uint64_t { return s.queue.peak(); }},
    {"paused", [](const StreamCore& s) -> uint64_t { return s.queue.pauses(); }},
    {"connections", [](const StreamCore& s) -> uint64_t { return s.stats.connections; }},
    {"tls_handshakes", [](const StreamCore& s) -> uint64_t { return s.stats.tls_handshakes; }},
    {"wire_bytes", [](const StreamCore& s) -> uint64_t { return s.stats.wire_bytes; }},
    {"payload_bytes", [](const StreamCore& s) -> uint64_t { return s.stats.payload_bytes; }},
    {"comments", [](const StreamCore& s) -> uint64_t { return s.stats.comments; }},
};
}  // namespace

const char* stat_name(size_t index) {
  return index < sizeof kStats / sizeof kStats[0] ? kStats[index].name : nullptr;
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
      url_(config.str("url")),
      headers_(config.headers()) {}

std::vector<std::pair<std::string, std::string>> StreamCore::headers(uint64_t* out_generation) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (out_generation) *out_generation = header_generation_;
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
  header_generation_++;
}

uint64_t StreamCore::header_generation() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return header_generation_;
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
