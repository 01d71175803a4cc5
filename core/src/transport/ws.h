// WebSocket client: messages in (fragments reassembled, size-limited), messages out through the
// stream's bounded send buffer, keepalive pings with a pong deadline kept on the I/O thread,
// reconnect by close code per the policy, the subscribe message resent after every connect, and a
// close frame that really reaches the peer (1000 on close, 1001 on runtime shutdown).
#pragma once

#include <string>
#include <vector>

#include "../url.h"
#include "lws_link.h"
#include "transport.h"

namespace tidewire::detail {

class WsTransport final : public Transport, private LwsClient {
 public:
  WsTransport(Runtime& runtime, std::shared_ptr<StreamCore> core);
  ~WsTransport() override;

  void resume() override;
  void send_ready() override;
  void shutdown() override;
  void flush() override;

 private:
  void attempt() override;
  void stop_io() override;
  int on_lws(lws* wsi, lws_callback_reasons reason, void* in, size_t len) override;
  int on_receive(lws* wsi, const char* data, size_t len);
  int on_writeable(lws* wsi);
  // The connection is gone (closed by either side, or never established): apply the policy.
  void connection_lost();
  void drop(tw_err err, const std::string& why);
  void pause_reading(bool pause);
  void arm_ping();
  // The handshake was answered 3xx with a Location: follows it under the redirect.* rules, or ends
  // the stream saying why not.
  void follow_redirect();

  const Url url_;
  Url current_;       // where this attempt connects: url_, or where a redirect sent it
  int redirects_ = 0;  // followed since the last attempt that started at url_
  const size_t max_message_bytes_;
  const int64_t ping_interval_ms_;
  const int64_t pong_timeout_ms_;
  std::string host_header_;
  std::string subprotocols_;

  LwsLink* link_ = nullptr;
  bool connecting_ = false;
  bool established_ = false;
  bool paused_ = false;
  bool subscribe_pending_ = false;
  bool ping_pending_ = false;
  bool awaiting_pong_ = false;
  std::string message_;      // fragments of the message being received
  bool message_binary_ = false;
  std::vector<EventPtr> batch_;
  int64_t batch_received_ns_ = 0;

  // What ended the current connection, when we know better than lws.
  int close_code_ = LWS_CLOSE_STATUS_NORMAL;  // what our close frame will carry
  int peer_close_code_ = 0;
  std::string peer_close_reason_;
  tw_err drop_error_ = TW_OK;
  std::string drop_reason_;
  std::string connect_error_;
  int handshake_status_ = 0;
  std::string redirect_to_;   // Location of a 3xx handshake answer
  std::string tls_failure_;   // certificate verification failure of this attempt (TW_ERR_TLS)

  Timer ping_timer_;
  Timer pong_timer_;
  Timer connect_timer_;
  Timer close_timer_;
};

}  // namespace tidewire::detail
