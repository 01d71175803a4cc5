// The state a stream shares between the application's handle (any thread) and the transport that
// runs it on the I/O thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config.h"
#include "queue.h"
#include "send_buffer.h"

namespace tidewire::detail {

class Runtime;
class Transport;

struct StreamStats {
  std::atomic<uint64_t> messages{0};
  std::atomic<uint64_t> comments{0};  // SSE comments delivered (sse.comments=true)
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> not_modified{0};
  std::atomic<uint64_t> reconnects{0};
  std::atomic<uint64_t> errors{0};
  // Connections opened (TCP, and TLS where used); a reused keep-alive connection is not counted.
  std::atomic<uint64_t> connections{0};
  std::atomic<uint64_t> tls_handshakes{0};
  // Received: bytes on the wire (framing included, before decompression) and message payload bytes
  // (after decompression). Their ratio is what compression saves.
  std::atomic<uint64_t> wire_bytes{0};
  std::atomic<uint64_t> payload_bytes{0};
  // Attempts (connections, polls) that failed in a row; 0 again once one succeeds.
  std::atomic<uint64_t> attempts{0};
};

// Where a stream is in its life, as tw_stream_state() reports it. Values are the ABI's.
enum class StreamState : int {
  connecting = TW_STATE_CONNECTING,  // an attempt is under way, none has succeeded since the last failure
  open = TW_STATE_OPEN,              // connected (or the last poll succeeded)
  backoff = TW_STATE_BACKOFF,        // waiting before the next attempt (or for new credentials)
  ended = TW_STATE_ENDED,
};

class StreamCore {
 public:
  StreamCore(Config config, tw_transport transport, std::shared_ptr<Runtime> runtime);

  const Config config;
  const tw_transport transport;
  const std::shared_ptr<Runtime> runtime;
  EventQueue queue;
  StreamStats stats;
  // Only for transports that send (ws); null otherwise.
  const std::unique_ptr<SendBuffer> sends;
  // redis with redis.ack=auto: a message is acknowledged when tw_stream_next hands it to the
  // application, not before, so an entry still queued here when the process dies is claimed later.
  const bool ack_on_handover;

  // I/O thread only: the transport running this stream, null before it starts and after it ends.
  Transport* running = nullptr;

  // header.* as configured, then as tw_stream_set_header changed them (any thread). Read for each
  // request and handshake, so a change applies from the next one. `out_generation` receives the
  // number of changes so far, which tells whether a refused request went out with old credentials.
  std::vector<std::pair<std::string, std::string>> headers(uint64_t* out_generation = nullptr) const;
  // Sets (value) or removes (nullopt) a header, replacing one of the same name (case-insensitive).
  void set_header(const std::string& name, const std::optional<std::string>& value);
  // Lock-free (one atomic read), so that a request whose headers did not change takes no lock.
  uint64_t header_generation() const { return header_generation_.load(std::memory_order_acquire); }

  // Set by the transport (I/O thread); read from any thread. tw_stream_state adds `paused` from the
  // queue.
  std::atomic<StreamState> state{StreamState::connecting};
  // The last failure's text, URLs redacted (error texts never hold header values). Any thread.
  void set_last_error(const std::string& message);
  std::string last_error() const;

  void set_failure(const tw_event& event);
  EventPtr failure() const;
  void set_url(std::string url);
  std::string url() const;
  // A transport whose setup must be done before tw_stream_open returns (webhook: the listener is
  // bound, so tw_stream_url is final) reports the outcome once, from the I/O thread.
  void report_ready(tw_err err, const std::string& message);
  // Waits up to timeout_ms for that report. Throws Error with the reported failure, or with
  // TW_ERR_TIMEOUT if none came in time.
  void wait_ready(int64_t timeout_ms) const;
  // Reads a statistic by name; false if there is none of that name.
  bool stat(const std::string& name, uint64_t& out) const;

 private:
  mutable std::mutex mutex_;
  EventPtr failure_;
  std::string url_;
  std::string last_error_;
  mutable std::condition_variable ready_cv_;
  std::optional<std::pair<tw_err, std::string>> ready_;
  std::vector<std::pair<std::string, std::string>> headers_;
  // Written under mutex_ after headers_ changed; read without it by header_generation().
  std::atomic<uint64_t> header_generation_{0};
};

// Name and description of statistic number `index`, or null past the end.
const char* stat_name(size_t index);
const char* stat_doc(size_t index);
// "connecting", "open", "backoff", "paused", "ended".
const char* stream_state_name(tw_state state);

}  // namespace tidewire::detail
