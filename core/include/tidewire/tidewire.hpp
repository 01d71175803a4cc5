/*
 * Tidewire for C++17 — RAII over the C ABI in tidewire.h, nothing more.
 *
 *   tidewire::Runtime runtime;
 *   tidewire::Config config;
 *   config.set("transport", "sse").set("url", "http://127.0.0.1:8000/sse");
 *   tidewire::Stream stream(runtime, config);
 *   for (auto& event : stream) std::cout << event.data() << '\n';
 *   if (auto failure = stream.failure()) std::cerr << failure->data() << '\n';
 *
 * Every class owns one C handle and is move-only; a moved-from object holds none and may only be
 * destroyed or assigned to. Failed calls throw tidewire::Error. Thread safety is that of the C
 * handle: Runtime and Stream may be shared between threads, Config and Event may not.
 * Strings passed in are copied by the C ABI, which reads them up to the first NUL.
 */
#ifndef TIDEWIRE_HPP
#define TIDEWIRE_HPP

#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tidewire.h"

namespace tidewire {

/** Passed as a timeout: wait with no limit (the C ABI's -1). */
inline constexpr std::chrono::milliseconds forever{-1};

/**
 * A failed Tidewire call. what() is tw_last_error_message() as it was right after the call (which
 * key, which limit), or tw_err_str(code()) if the call left no detail.
 */
class Error : public std::runtime_error {
 public:
  explicit Error(tw_err code) : std::runtime_error(detail_of(code)), code_(code) {}
  tw_err code() const noexcept { return code_; }

 private:
  static std::string detail_of(tw_err code) {
    const char* message = tw_last_error_message();
    return *message ? message : tw_err_str(code);
  }
  tw_err code_;
};

/** Throws Error(err) unless err is TW_OK. Call it right after the failing call, on the same thread. */
inline void check(tw_err err) {
  if (err != TW_OK) throw Error(err);
}

namespace detail {

// The C ABI takes an int: negative waits forever, and longer waits are capped rather than wrapped.
inline int timeout_ms(std::chrono::milliseconds timeout) {
  if (timeout.count() < 0) return -1;
  return timeout.count() > INT_MAX ? INT_MAX : static_cast<int>(timeout.count());
}

// Takes ownership of a tw_free()-owned string.
inline std::string adopt_string(char* owned) {
  std::string copy(owned);
  tw_free(owned);
  return copy;
}

}  // namespace detail

/**
 * A set of key → value settings (docs/CONFIGURATION.md lists every key). Streams opened from it keep
 * their own copy. Not thread-safe; distinct configs may be used from distinct threads.
 */
class Config {
 public:
  Config() { check(tw_config_create(&config_)); }
  ~Config() { tw_config_destroy(config_); }
  Config(Config&& other) noexcept : config_(std::exchange(other.config_, nullptr)) {}
  Config& operator=(Config&& other) noexcept {
    if (this != &other) tw_config_destroy(std::exchange(config_, std::exchange(other.config_, nullptr)));
    return *this;
  }
  Config(const Config&) = delete;
  Config& operator=(const Config&) = delete;

  /**
   * Sets `key`, by name or alias (`header.<Name>` sets a request header). Throws Error
   * (TW_ERR_UNKNOWN_KEY with the closest keys, or TW_ERR_INVALID_VALUE naming the key and what it
   * accepts, or the key given twice); the config is then unchanged.
   */
  Config& set(const std::string& key, const std::string& value) {
    check(tw_config_set(config_, key.c_str(), value.c_str()));
    return *this;
  }

  /** Forgets `key` (back to its default), so that set() may give it again. */
  Config& unset(const std::string& key) {
    check(tw_config_unset(config_, key.c_str()));
    return *this;
  }

  /** The value `key` would be used with: the default if unset, "" for an unset header. */
  std::string get(const std::string& key) const {
    char* value = nullptr;
    check(tw_config_get(&value, config_, key.c_str()));
    return detail::adopt_string(value);
  }

  /** Borrowed: valid while this Config owns it. */
  tw_config* native_handle() const noexcept { return config_; }

 private:
  tw_config* config_ = nullptr;
};

/**
 * One I/O thread serving any number of streams. Thread-safe. Destroying it ends every stream still
 * open (their handles stay valid) within about a second; do not destroy it from a log callback.
 */
class Runtime {
 public:
  Runtime() { check(tw_runtime_create(&runtime_)); }
  ~Runtime() { tw_runtime_destroy(runtime_); }
  Runtime(Runtime&& other) noexcept : runtime_(std::exchange(other.runtime_, nullptr)) {}
  Runtime& operator=(Runtime&& other) noexcept {
    if (this != &other) tw_runtime_destroy(std::exchange(runtime_, std::exchange(other.runtime_, nullptr)));
    return *this;
  }
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  /** Borrowed: valid while this Runtime owns it. */
  tw_runtime* native_handle() const noexcept { return runtime_; }

 private:
  tw_runtime* runtime_ = nullptr;
};

/**
 * One event, owned. The string_views it returns borrow from it: they are valid until the Event is
 * destroyed or moved from. Not thread-safe. A default-constructed or moved-from Event is empty
 * (false); its accessors then return "" and zeros.
 */
class Event {
 public:
  Event() noexcept = default;
  /** Takes ownership of `event` (may be NULL). */
  explicit Event(tw_event* event) noexcept : event_(event) {}
  ~Event() { tw_event_destroy(event_); }
  Event(Event&& other) noexcept : event_(std::exchange(other.event_, nullptr)) {}
  Event& operator=(Event&& other) noexcept {
    if (this != &other) tw_event_destroy(std::exchange(event_, std::exchange(other.event_, nullptr)));
    return *this;
  }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  explicit operator bool() const noexcept { return event_ != nullptr; }

  tw_kind kind() const noexcept { return tw_event_kind(event_); }
  tw_transport transport() const noexcept { return tw_event_transport(event_); }
  /** SSE id, poll ETag (or Last-Modified), long-poll cursor; "" when none. */
  std::string_view id() const noexcept { return tw_event_id(event_); }
  /** SSE event name ("message" by default); "change" for poll and long-poll. */
  std::string_view type() const noexcept { return tw_event_type(event_); }
  /** The payload byte for byte (may hold NULs); for error events, the reason. */
  std::string_view data() const noexcept { return {tw_event_data(event_), tw_event_data_len(event_)}; }
  /** Response header `name` (case-insensitive); poll and long-poll events only. */
  std::optional<std::string_view> header(const std::string& name) const {
    const char* value = tw_event_header(event_, name.c_str());
    if (!value) return std::nullopt;
    return std::string_view(value);
  }
  /** Every response header in order received; names are lower-case. */
  std::vector<std::pair<std::string_view, std::string_view>> headers() const {
    std::vector<std::pair<std::string_view, std::string_view>> out;
    const size_t count = tw_event_header_count(event_);
    out.reserve(count);
    for (size_t i = 0; i < count; i++) {
      const char* name = nullptr;
      const char* value = nullptr;
      check(tw_event_header_at(&name, &value, event_, i));
      out.emplace_back(name, value);
    }
    return out;
  }
  /** CLOCK_MONOTONIC time, in ns, at which the I/O thread received the event. */
  int64_t received_ns() const noexcept { return tw_event_received_ns(event_); }
  /** For error and reconnecting events: why; TW_OK otherwise. */
  tw_err error() const noexcept { return tw_event_error(event_); }
  /** HTTP status behind an error or reconnecting event, 0 if none. */
  int http_status() const noexcept { return tw_event_http_status(event_); }
  /** WebSocket close code behind an error, reconnecting or closed event, 0 if none. */
  int close_code() const noexcept { return tw_event_close_code(event_); }
  /** For reconnecting events: the delay before the next attempt, in ms. */
  int64_t retry_ms() const noexcept { return tw_event_retry_ms(event_); }

  /** Borrowed: valid while this Event owns it. */
  tw_event* native_handle() const noexcept { return event_; }
  /** Gives up ownership: free the result with tw_event_destroy(). */
  tw_event* release() noexcept { return std::exchange(event_, nullptr); }

 private:
  tw_event* event_ = nullptr;
};

/**
 * One subscription to one source, opened on a Runtime; it may outlive the Runtime (it has then
 * ended). Thread-safe: several threads may wait on one stream, each event goes to one of them;
 * only destruction and moves need the other threads to be done with it.
 */
class Stream {
 public:
  /**
   * Opens a stream as `config` describes (copied). Throws Error (TW_ERR_INVALID_VALUE naming the
   * key) if the config is not usable as a whole. Connection failures come later, as the stream's end.
   */
  Stream(Runtime& runtime, const Config& config) {
    check(tw_stream_open(&stream_, runtime.native_handle(), config.native_handle()));
  }
  /** Closes the stream if needed and frees it with any events still queued. */
  ~Stream() { tw_stream_destroy(stream_); }
  Stream(Stream&& other) noexcept : stream_(std::exchange(other.stream_, nullptr)) {}
  Stream& operator=(Stream&& other) noexcept {
    if (this != &other) tw_stream_destroy(std::exchange(stream_, std::exchange(other.stream_, nullptr)));
    return *this;
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  /**
   * Waits up to `timeout` (tidewire::forever: no limit) for the next event. Returns nullopt on
   * timeout, on wakeup() and once the stream has ended and its queue is drained; ended() tells the
   * last case apart, failure() then tells why.
   */
  std::optional<Event> next(std::chrono::milliseconds timeout) {
    tw_event* event = nullptr;
    const tw_err err = tw_stream_next(&event, stream_, detail::timeout_ms(timeout));
    if (err == TW_OK) return Event(event);
    if (err == TW_ERR_TIMEOUT || err == TW_ERR_WAKEUP || err == TW_ERR_CLOSED) return std::nullopt;
    throw Error(err);
  }

  /**
   * Like next(), but appends up to `max` (> 0) events to `out` at once. Returns how many it
   * appended; 0 where next() returns nullopt.
   */
  size_t next_batch(std::vector<Event>& out, size_t max, std::chrono::milliseconds timeout) {
    std::vector<tw_event*> taken(max);
    // Reserved first so that handing the events over cannot throw and leak them.
    out.reserve(out.size() + max);
    size_t count = 0;
    const tw_err err = tw_stream_next_batch(taken.data(), &count, stream_, max, detail::timeout_ms(timeout));
    if (err == TW_ERR_TIMEOUT || err == TW_ERR_WAKEUP || err == TW_ERR_CLOSED) return 0;
    check(err);
    for (size_t i = 0; i < count; i++) out.emplace_back(taken[i]);
    return count;
  }

  /**
   * Hands events taken from this stream back to it (tw_stream_recycle): they are destroyed and
   * their memory serves the stream's next events, so that a loop of next_batch() and recycle()
   * stops allocating. `events` is empty afterwards.
   */
  void recycle(std::vector<Event>& events) noexcept {
    tw_event* raw[64];
    size_t n = 0;
    for (Event& event : events) {
      raw[n++] = event.release();
      if (n == 64) {
        tw_stream_recycle(stream_, raw, n);
        n = 0;
      }
    }
    tw_stream_recycle(stream_, raw, n);
    events.clear();
  }

  /** True once the stream has ended; its queue may still hold events, which next() returns. */
  bool ended() const noexcept { return tw_stream_ended(stream_) != 0; }

  /**
   * Asks the stream to end cleanly: no reconnect; events already queued stay readable, then
   * iteration ends and next() returns nullopt. Idempotent.
   */
  void close() noexcept { tw_stream_close(stream_); }

  /** Interrupts one wait in next()/next_batch()/iteration (or the next one). Async-signal-safe. */
  void wakeup() noexcept { tw_stream_wakeup(stream_); }

  /**
   * Level-triggered fd, readable while events are queued or the stream has ended; for
   * poll/epoll/event loops, never read it. Borrowed: valid until the Stream is destroyed.
   */
  int fd() const noexcept { return tw_stream_fd(stream_); }

  /** The stream's URL (for webhook streams, the one really bound). */
  std::string url() const {
    char* owned = nullptr;
    check(tw_stream_url(&owned, stream_));
    return detail::adopt_string(owned);
  }

  /**
   * Sends a message on a ws stream. Throws Error: TW_ERR_UNSUPPORTED on other transports,
   * TW_ERR_WOULD_BLOCK when the send buffer is full, TW_ERR_CLOSED after the end.
   */
  void send(std::string_view data, bool binary = false) {
    check(tw_stream_send(stream_, data.data(), data.size(), binary ? 1 : 0));
  }

  /**
   * Drops the connection and connects again at once, keeping what the stream resumes from (see
   * tw_stream_restart()). Throws Error: TW_ERR_UNSUPPORTED for webhook, TW_ERR_CLOSED after the end.
   */
  void restart() { check(tw_stream_restart(stream_)); }

  /**
   * Sets a request header for the next request or handshake on (see tw_stream_set_header()).
   * Throws Error for a bad name or value (never showing the value).
   */
  void set_header(const std::string& name, const std::string& value) {
    check(tw_stream_set_header(stream_, name.c_str(), value.c_str()));
  }
  /** Removes a request header set by configuration or by set_header(). */
  void remove_header(const std::string& name) { check(tw_stream_set_header(stream_, name.c_str(), nullptr)); }

  /** Statistic `name` (see tw_stat_name()); throws Error for an unknown name. */
  uint64_t stat(const std::string& name) const {
    uint64_t value = 0;
    check(tw_stream_stat(&value, stream_, name.c_str()));
    return value;
  }

  /** Every statistic by name, each read separately (not one snapshot). */
  std::map<std::string, uint64_t> stats() const {
    std::map<std::string, uint64_t> out;
    for (size_t i = 0; const char* name = tw_stat_name(i); i++) out.emplace(name, stat(name));
    return out;
  }

  /** Where the stream is: TW_STATE_CONNECTING, _OPEN, _BACKOFF, _PAUSED or _ENDED (tw_state_name() names it). */
  tw_state state() const noexcept { return tw_stream_state(stream_); }

  /** The text of the last failed attempt, "" if none failed (see tw_stream_last_error()). */
  std::string last_error() const {
    char* owned = nullptr;
    check(tw_stream_last_error(&owned, stream_));
    return detail::adopt_string(owned);
  }

  /** A copy of the error event if the stream ended in failure; nullopt while running or after a clean end. */
  std::optional<Event> failure() const {
    tw_event* event = nullptr;
    check(tw_stream_failure(&event, stream_));
    if (!event) return std::nullopt;
    return Event(event);
  }

  /** Borrowed: valid while this Stream owns it. */
  tw_stream* native_handle() const noexcept { return stream_; }

  /**
   * Single-pass iterator over the stream's events, blocking for each: every event the queue gives
   * (status events too, if status_events=true). It reaches end() when the stream has ended and its
   * queue is drained, or when wakeup() interrupts the wait (ended() tells which). Move-only.
   */
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Event;
    using difference_type = std::ptrdiff_t;
    using pointer = Event*;
    using reference = Event&;

    iterator() noexcept = default;
    explicit iterator(Stream& stream) : stream_(&stream) { ++*this; }

    Event& operator*() noexcept { return event_; }
    Event* operator->() noexcept { return &event_; }
    iterator& operator++() {
      event_ = stream_->next(forever).value_or(Event());
      if (!event_) stream_ = nullptr;
      return *this;
    }
    bool operator==(const iterator& other) const noexcept { return stream_ == other.stream_; }
    bool operator!=(const iterator& other) const noexcept { return stream_ != other.stream_; }

   private:
    Stream* stream_ = nullptr;
    Event event_;
  };

  iterator begin() { return iterator(*this); }
  iterator end() noexcept { return iterator(); }

 private:
  tw_stream* stream_ = nullptr;
};

}  // namespace tidewire

#endif /* TIDEWIRE_HPP */
