#include "ws.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <new>

#include "../error.h"
#include "../log.h"
#include "connect.h"
#include "proto/http1.h"

namespace tidewire::detail {

namespace {

constexpr uint16_t kCloseGoingAway = 1001;
constexpr uint16_t kCloseAbnormal = 1006;  // the connection ended without a close frame
// Sends are framed and handed to the connection until this many bytes wait in it; the rest stay in
// the send buffer (bounded by ws.send_buffer_bytes) until the connection has written everything.
constexpr size_t kMaxQueuedWriteBytes = size_t{1} << 20;
// How long the server has to answer our close frame and end the connection before the socket is
// closed regardless (runtime shutdown waits for it).
constexpr uint64_t kCloseLingerMs = 250;
// Reads are parsed in slices, and a slice that completed this many messages hands them to the
// queue at once rather than at the end of the loop iteration: a queue that fills mid-read then
// stops the parsing within a slice, not after a whole 64 KiB read of small messages.
constexpr size_t kSliceBytes = 16 * 1024;
constexpr size_t kEagerFlushEvents = 256;

void random_bytes(uint8_t* out, size_t size) {
  if (RAND_bytes(out, static_cast<int>(size)) != 1)
    throw Error(TW_ERR_INTERNAL, "OpenSSL could not supply random bytes for the WebSocket");
}

// After our close frame, waits for the server to end the TCP connection, as RFC 6455 7.1.1 has it
// (the server closes first), reading and discarding whatever comes before. Closing at once instead
// resets the connection under a server still writing, and a server that meets the reset first
// never reads the close frame. Owns itself: gone once the connection ended or the linger passed.
class ClosingHandshake final : public io::Connection::Observer {
 public:
  static void start(uv_loop_t* loop, io::Connection* connection, uint64_t linger_ms) {
    new ClosingHandshake(loop, connection, linger_ms);
  }

 private:
  ClosingHandshake(uv_loop_t* loop, io::Connection* connection, uint64_t linger_ms)
      : connection_(connection), linger_(loop, [this] {
          connection_->close();
          delete this;
        }) {
    connection_->set_observer(this);
    connection_->resume_reading();
    linger_.start(linger_ms);
  }

  void on_open() override {}
  void on_data(const char*, size_t) override {}
  void on_close(const io::Error&) override { delete this; }

  io::Connection* connection_;
  Timer linger_;
};

}  // namespace

WsTransport::WsTransport(Runtime& runtime, std::shared_ptr<StreamCore> core)
    : Transport(runtime, std::move(core)),
      url_(Url::parse(core_->config.str("url"))),
      current_(url_),
      max_message_bytes_(static_cast<size_t>(core_->config.integer("ws.max_message_bytes"))),
      ping_interval_ms_(core_->config.integer("ws.ping_interval_ms")),
      pong_timeout_ms_(core_->config.integer("ws.pong_timeout_ms")),
      subscribe_message_(core_->config.str("ws.subscribe_message")),
      ping_timer_(runtime.loop(),
                  [this] {
                    contained("sending a ping to", [this] {
                      if (phase_ == Phase::open && !paused_ && !awaiting_pong_) {
                        std::string frame;
                        writer_->write_ping({}, frame);
                        connection_->write(std::move(frame));
                        awaiting_pong_ = true;
                        pong_timer_.start(static_cast<uint64_t>(pong_timeout_ms_));
                      }
                      arm_ping();
                    });
                  }),
      pong_timer_(runtime.loop(),
                  [this] {
                    drop(TW_ERR_TIMEOUT, "no pong from " + url_.display() + " within ws.pong_timeout_ms=" +
                                             std::to_string(pong_timeout_ms_));
                  }),
      connect_timer_(runtime.loop(), [this] {
        drop(TW_ERR_TIMEOUT, "no WebSocket handshake with " + current_.display() + " within connect_timeout_ms=" +
                                 core_->config.str("connect_timeout_ms"));
      }) {
  offer_.subprotocols = core_->config.list("ws.subprotocols");
  offer_.compression = core_->config.str("ws.compression") == "on";
}

WsTransport::~WsTransport() { stop_io(); }

void WsTransport::attempt() {
  if (ended()) return;
  phase_ = Phase::connecting;
  paused_ = false;
  awaiting_pong_ = false;
  subscribe_pending_ = false;
  handshake_.reset();
  parser_.reset();
  writer_.reset();
  peer_close_.reset();
  unparsed_.clear();
  core_->stats.requests++;

  Dial dial;
  try {
    dial = dial_for(current_, core_->config, /*http11_alpn=*/false);
  } catch (const Error& e) {
    phase_ = Phase::idle;
    return end_with_error(e.code(), 0, e.what());
  }
  // Covers what the connection's own deadline covers (DNS, TCP, proxy, TLS) and the handshake.
  connect_timer_.start(static_cast<uint64_t>(core_->config.integer("connect_timeout_ms")));
  connection_ = io::Connection::open(runtime_.loop(), dial.options, &runtime_.tls_contexts(), this);
}

void WsTransport::restart() {
  current_ = url_;
  redirects_ = 0;
  Transport::restart();
}

void WsTransport::stop_io() {
  // A close frame only where a WebSocket exists; an unfinished handshake is simply dropped.
  release_connection(phase_ == Phase::open ? close_code_ : 0);
  unparsed_.clear();
}

void WsTransport::shutdown() {
  close_code_ = kCloseGoingAway;
  end_clean();
}

void WsTransport::release_connection(uint16_t close_code) {
  ping_timer_.stop();
  pong_timer_.stop();
  connect_timer_.stop();
  awaiting_pong_ = false;
  phase_ = Phase::idle;
  io::Connection* connection = connection_;
  connection_ = nullptr;
  if (connection == nullptr) return;
  std::string frame;
  if (close_code != 0 && writer_) {
    try {
      writer_->write_close(close_code, {}, frame);
    } catch (const std::exception& e) {
      log(TW_LOG_WARN, "no close frame for " + url_.display() + ": " + e.what());
      frame.clear();
    }
  }
  if (frame.empty() || !connection->write(std::move(frame))) return connection->close();
  ClosingHandshake::start(runtime_.loop(), connection, kCloseLingerMs);
}

void WsTransport::failed(Verdict verdict, tw_err err, int http_status, const std::string& why, int close_code) {
  release_connection(0);
  unparsed_.clear();
  flush();  // what this connection delivered comes before the news of its end
  // Every later attempt starts again at the configured URL.
  current_ = url_;
  redirects_ = 0;
  attempt_failed(verdict, err, http_status, why, std::nullopt, close_code);
}

void WsTransport::drop(tw_err err, const std::string& why) {
  if (ended()) return;
  failed(Verdict::retry, err, 0, why);
}

void WsTransport::contained(const char* what, const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    // Only this connection fails (and is retried); the loop and the other streams carry on.
    bool out_of_memory = dynamic_cast<const std::bad_alloc*>(&e) != nullptr;
    std::string why = std::string(out_of_memory ? "out of memory" : e.what()) + " while " + what + " " + url_.display();
    if (connection_ != nullptr && !ended()) {
      drop(out_of_memory ? TW_ERR_NO_MEMORY : TW_ERR_INTERNAL, why);
    } else {
      log(TW_LOG_ERROR, why);
    }
  }
}

// ---- The connection ------------------------------------------------------------------------------

void WsTransport::on_open() {
  contained("starting the WebSocket handshake with", [this] {
    core_->stats.connections++;
    if (connection_->uses_tls()) core_->stats.tls_handshakes++;
    std::array<uint8_t, 16> nonce;
    random_bytes(nonce.data(), nonce.size());
    handshake_ = std::make_unique<WsHandshake>(nonce, offer_);
    std::string bytes;
    try {
      // header.* (tokens, cookies) go to another origin only if the user allowed it.
      bytes = handshake_->request(current_, request_headers(current_, url_));
    } catch (const Error& e) {
      release_connection(0);
      return end_with_error(e.code(), 0, e.what());
    }
    phase_ = Phase::handshake;
    connection_->write(std::move(bytes));
  });
}

void WsTransport::on_data(const char* data, size_t size) {
  contained("reading from", [&] {
    if (phase_ == Phase::handshake) {
      read_handshake(data, size);
    } else if (phase_ == Phase::open && !unparsed_.empty()) {
      // Bytes of an earlier read still wait to be parsed: these come after them.
      unparsed_.append(data, size);
    } else if (phase_ == Phase::open) {
      read_frames(data, size);
    }
  });
}

void WsTransport::on_close(const io::Error& error) {
  connection_ = nullptr;  // being torn down: never touched again
  Phase phase = phase_;
  if (phase == Phase::open) {
    return failed(classify_ws_close(kCloseAbnormal), TW_ERR_PROTOCOL,
                  0, url_.display() + " closed the WebSocket with 1006 (" + error.message + ")", kCloseAbnormal);
  }
  tw_err err = error_code(error);
  // TLS only when the TLS layer itself rejected the certificate: never guessed from the message.
  failed(classify_error(err), err, 0, connect_failure_text(current_, error));
}

void WsTransport::on_drained() { contained("writing to", [this] { drain_sends(); }); }

// ---- The handshake -------------------------------------------------------------------------------

void WsTransport::read_handshake(const char* data, size_t size) {
  WsHandshake::Answer answer = handshake_->read(data, size);
  switch (answer.kind) {
    case WsHandshake::Answer::Kind::incomplete:
      return;
    case WsHandshake::Answer::Kind::upgraded:
      return established(*answer.negotiated, data + answer.http_bytes, size - answer.http_bytes);
    case WsHandshake::Answer::Kind::refused:
      return refused(answer.status);
    case WsHandshake::Answer::Kind::broken:
      return failed(classify_error(answer.error), answer.error, 0, current_.display() + " " + answer.message);
  }
}

void WsTransport::refused(int status) {
  std::string where = current_.display();
  release_connection(0);
  try {
    std::optional<Url> target =
        handshake_->redirect(current_, redirects_ + 1, static_cast<int>(core_->config.integer("redirect.max")));
    if (target) {
      redirects_++;
      current_ = *target;
      return schedule_attempt(0);
    }
  } catch (const Error& e) {
    current_ = url_;
    redirects_ = 0;
    return end_with_error(e.code(), status,
                          "the WebSocket handshake was answered " + http1::status_text(status, "") + ": " + e.what());
  }
  failed(classify_http_status(status), TW_ERR_HTTP_STATUS, status,
         where + " refused the WebSocket handshake with " + http1::status_text(status, ""));
}

void WsTransport::established(const ws::Negotiated& negotiated, const char* rest, size_t size) {
  connect_timer_.stop();
  phase_ = Phase::open;
  ws::ParserLimits limits;
  limits.max_message_bytes = max_message_bytes_;
  parser_ = std::make_unique<ws::FrameParser>(static_cast<ws::FrameHandler&>(*this), limits, negotiated.deflate);
  writer_ = std::make_unique<ws::FrameWriter>([this] { return next_mask(); }, negotiated.deflate);
  opened();
  subscribe_pending_ = !subscribe_message_.empty();
  drain_sends();
  arm_ping();
  if (size > 0 && phase_ == Phase::open) read_frames(rest, size);
}

// ---- Frames --------------------------------------------------------------------------------------

void WsTransport::read_frames(const char* data, size_t size) {
  io::Connection* connection = connection_;
  while (size > 0) {
    size_t n = std::min(size, kSliceBytes);
    const ws::WireStats before = parser_->stats();
    ws::FeedResult result = parser_->feed(reinterpret_cast<const uint8_t*>(data), n);
    const ws::WireStats& after = parser_->stats();
    core_->stats.wire_bytes += after.wire_bytes - before.wire_bytes;
    core_->stats.payload_bytes += after.payload_bytes - before.payload_bytes;
    data += n;
    size -= n;
    if (!result.ok() || peer_close_) return after_feed(result);
    if (batch_.size() >= kEagerFlushEvents) flush();
    if (connection_ != connection || phase_ != Phase::open) return;
    if (paused_ && size > 0) {
      // Kept for resume(): the connection delivers nothing more until then.
      unparsed_.assign(data, size);
      return;
    }
  }
}

void WsTransport::after_feed(const ws::FeedResult& result) {
  if (!result.ok()) {
    // Our close frame says why; the stream then ends or retries as the policy says for that code.
    release_connection(result.close_code);
    if (result.close_code == ws::kCloseMessageTooBig)
      return failed(classify_ws_close(result.close_code), TW_ERR_LIMIT, 0,
                    "a message from " + url_.display() + " exceeds ws.max_message_bytes=" +
                        std::to_string(max_message_bytes_),
                    result.close_code);
    return failed(classify_ws_close(result.close_code), TW_ERR_PROTOCOL, 0,
                  url_.display() + " broke the WebSocket protocol (" + result.error + "); closed with " +
                      std::to_string(result.close_code),
                  result.close_code);
  }
  auto [code, reason] = *peer_close_;
  // The closing handshake: the server's code goes back (none if it sent none), then the socket closes.
  release_connection(code);
  std::string why = url_.display() + " closed the WebSocket with " + std::to_string(code) +
                    (reason.empty() ? "" : " (" + printable_peer_text(reason, 123) + ")");
  failed(classify_ws_close(code), TW_ERR_PROTOCOL, 0, why, code);
}

void WsTransport::on_message(bool text, std::string_view payload) {
  // The batch is handed over at the end of this loop iteration (defer_flush): its messages came
  // from the reads of this iteration, and share the time of the first.
  if (batch_.empty()) {
    batch_received_ns_ = monotonic_ns();
    runtime_.defer_flush(this);
  }
  EventPtr e = new_message(payload, batch_received_ns_);
  e->type = text ? "text" : "binary";
  batch_.push_back(std::move(e));
}

void WsTransport::on_ping(std::string_view payload) {
  std::string frame;
  writer_->write_pong(payload, frame);
  connection_->write(std::move(frame));
}

void WsTransport::on_pong(std::string_view) {
  awaiting_pong_ = false;
  pong_timer_.stop();
}

void WsTransport::on_close(uint16_t code, std::string_view reason) { peer_close_.emplace(code, std::string(reason)); }

// ---- Sending -------------------------------------------------------------------------------------

void WsTransport::drain_sends() {
  if (phase_ != Phase::open) return;
  std::string bytes;
  if (subscribe_pending_) {
    subscribe_pending_ = false;
    writer_->write_text(subscribe_message_, bytes);
  }
  OutgoingMessage m;
  while (connection_->queued_write_bytes() + bytes.size() < kMaxQueuedWriteBytes && core_->sends->pop(m)) {
    bool framed = m.binary ? writer_->write_binary(m.payload, bytes) : writer_->write_text(m.payload, bytes);
    if (!framed) throw std::bad_alloc();  // zlib could not compress: it only fails for memory
  }
  if (!bytes.empty()) connection_->write(std::move(bytes));
}

void WsTransport::send_ready() {
  contained("writing to", [this] { drain_sends(); });
}

std::array<uint8_t, 4> WsTransport::next_mask() {
  if (masks_used_ + 4 > masks_.size()) {
    random_bytes(masks_.data(), masks_.size());
    masks_used_ = 0;
  }
  std::array<uint8_t, 4> mask;
  std::memcpy(mask.data(), masks_.data() + masks_used_, mask.size());
  masks_used_ += mask.size();
  return mask;
}

// ---- Keepalive and backpressure ------------------------------------------------------------------

void WsTransport::arm_ping() {
  if (ping_interval_ms_ > 0) ping_timer_.start(static_cast<uint64_t>(ping_interval_ms_));
}

void WsTransport::pause_reading(bool pause) {
  if (phase_ != Phase::open || paused_ == pause) return;
  paused_ = pause;
  if (pause) {
    connection_->pause_reading();
    // The pong is behind data we are not reading: its deadline resumes with the reading.
    pong_timer_.stop();
    awaiting_pong_ = false;
  } else {
    connection_->resume_reading();
  }
}

void WsTransport::resume() {
  contained("reading from", [this] {
    if (phase_ != Phase::open || !paused_) return;
    if (!unparsed_.empty()) {
      paused_ = false;
      std::string bytes = std::move(unparsed_);
      unparsed_.clear();
      read_frames(bytes.data(), bytes.size());
      // Still (or again) waiting for room, or the connection ended: reading stays off.
      if (phase_ != Phase::open || paused_) return;
      paused_ = true;
    }
    pause_reading(false);
  });
}

void WsTransport::flush() {
  if (batch_.empty() || ended()) return;
  if (deliver(batch_)) pause_reading(true);
}

}  // namespace tidewire::detail
