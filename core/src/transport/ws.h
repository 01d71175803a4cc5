// WebSocket client: glue between an io::Connection (TCP, proxy, TLS) and the sans-I/O protocol
// (the opening handshake in ws_handshake.h, proto/ws for frames and permessage-deflate). Messages
// in become events (the payload copied once, from the read buffer where a whole frame lies in it);
// messages out come from the stream's bounded send buffer; keepalive pings with a pong deadline;
// reconnect by close code per the policy; the subscribe message resent after every connect; a
// close frame that reaches the peer (1000 on close, 1001 on runtime shutdown).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../url.h"
#include "io/connection.h"
#include "proto/ws.h"
#include "transport.h"
#include "ws_handshake.h"

namespace tidewire::detail {

class WsTransport final : public Transport, private io::Connection::Observer, private ws::FrameHandler {
 public:
  WsTransport(Runtime& runtime, std::shared_ptr<StreamCore> core);
  ~WsTransport() override;

  void resume() override;
  void restart() override;
  void send_ready() override;
  void shutdown() override;
  void flush() override;

 private:
  enum class Phase { idle, connecting, handshake, open };

  void attempt() override;
  void stop_io() override;

  // io::Connection::Observer
  void on_open() override;
  void on_data(const char* data, size_t size) override;
  void on_close(const io::Error& error) override;
  void on_drained() override;

  // ws::FrameHandler: messages go into the batch; a close frame is recorded and acted on after feed().
  void on_message(bool text, std::string_view payload) override;
  void on_ping(std::string_view payload) override;
  void on_pong(std::string_view payload) override;
  void on_close(uint16_t code, std::string_view reason) override;

  void read_handshake(const char* data, size_t size);
  // The 101 was read and checked: starts the WebSocket; `rest` is what followed it in the read.
  void established(const ws::Negotiated& negotiated, const char* rest, size_t size);
  // A final answer other than 101: a redirect to follow, or a refusal for the policy.
  void refused(int status);
  void read_frames(const char* data, size_t size);
  // After the parser returned: answers a close frame or a protocol violation, then the policy.
  void after_feed(const ws::FeedResult& result);
  // The attempt or connection failed: forgets the connection and applies the policy.
  void failed(Verdict verdict, tw_err err, int http_status, const std::string& why, int close_code = 0);
  // Ends the connection without a close frame and retries (a deadline passed, a local failure).
  void drop(tw_err err, const std::string& why);
  // Runs fn; an exception from it (out of memory above all) fails only the current connection.
  void contained(const char* what, const std::function<void()>& fn);
  // Forgets the connection: with `close_code`, a close frame, after which the server has a moment
  // to end the connection itself (the closing handshake); without, an immediate close.
  void release_connection(uint16_t close_code);
  void drain_sends();
  void pause_reading(bool pause);
  void arm_ping();
  std::array<uint8_t, 4> next_mask();

  const Url url_;
  Url current_;        // where this attempt connects: url_, or where a redirect sent it
  int redirects_ = 0;  // followed since the last attempt that started at url_
  const size_t max_message_bytes_;
  const int64_t ping_interval_ms_;
  const int64_t pong_timeout_ms_;
  const std::string subscribe_message_;
  ws::HandshakeOffer offer_;

  io::Connection* connection_ = nullptr;  // self-owned; forgotten (never deleted) on release
  Phase phase_ = Phase::idle;
  bool paused_ = false;
  bool awaiting_pong_ = false;
  bool subscribe_pending_ = false;

  std::unique_ptr<WsHandshake> handshake_;

  std::unique_ptr<ws::FrameParser> parser_;
  std::unique_ptr<ws::FrameWriter> writer_;
  std::optional<std::pair<uint16_t, std::string>> peer_close_;  // code and reason of the server's close
  // Bytes of a read left unparsed when the queue filled mid-read; parsed before reading resumes.
  std::string unparsed_;

  std::vector<EventPtr> batch_;
  int64_t batch_received_ns_ = 0;

  uint16_t close_code_ = ws::kCloseNormal;  // what our close frame says when the stream ends
  std::array<uint8_t, 256> masks_{};        // random bytes for frame masks, drawn in bulk
  size_t masks_used_ = sizeof masks_;

  Timer ping_timer_;
  Timer pong_timer_;
  Timer connect_timer_;
};

}  // namespace tidewire::detail
