#include "ws.h"

#include <cstring>

#include "../error.h"
#include "../log.h"

namespace tidewire::detail {

WsTransport::WsTransport(Runtime& runtime, std::shared_ptr<StreamCore> core)
    : Transport(runtime, std::move(core)),
      url_(Url::parse(core_->config.str("url"))),
      current_(url_),
      max_message_bytes_(static_cast<size_t>(core_->config.integer("ws.max_message_bytes"))),
      ping_interval_ms_(core_->config.integer("ws.ping_interval_ms")),
      pong_timeout_ms_(core_->config.integer("ws.pong_timeout_ms")),
      host_header_(url_.authority()),
      ping_timer_(runtime.loop(), [this] {
        if (link_ && established_ && !paused_ && !awaiting_pong_) {
          ping_pending_ = true;
          lws_callback_on_writable(link_->wsi());
          runtime_.kick_lws();
        }
        arm_ping();
      }),
      pong_timer_(runtime.loop(), [this] {
        drop(TW_ERR_TIMEOUT, "no pong from " + url_.display() + " within ws.pong_timeout_ms=" +
                                 std::to_string(pong_timeout_ms_));
      }),
      connect_timer_(runtime.loop(), [this] {
        drop(TW_ERR_TIMEOUT, "no WebSocket handshake with " + url_.display() + " within connect_timeout_ms=" +
                                 core_->config.str("connect_timeout_ms"));
      }),
      close_timer_(runtime.loop(), [this] {
        end_with_error(TW_ERR_LIMIT, 0,
                       "a message from " + url_.display() + " exceeds ws.max_message_bytes=" +
                           std::to_string(max_message_bytes_),
                       LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE);
      }) {
  for (const auto& p : core_->config.list("ws.subprotocols")) subprotocols_ += (subprotocols_.empty() ? "" : ", ") + p;
}

WsTransport::~WsTransport() { stop_io(); }

void WsTransport::attempt() {
  if (ended()) return;
  established_ = false;
  paused_ = false;
  ping_pending_ = false;
  awaiting_pong_ = false;
  subscribe_pending_ = false;
  message_.clear();
  peer_close_code_ = 0;
  peer_close_reason_.clear();
  drop_error_ = TW_OK;
  drop_reason_.clear();
  connect_error_.clear();
  handshake_status_ = 0;
  redirect_to_.clear();
  tls_failure_.clear();
  host_header_ = current_.authority();
  core_->stats.requests++;

  lws_vhost* vhost;
  try {
    vhost = runtime_.vhost_for(core_->config.str("tls.ca_file"), core_->config.str("proxy.url"));
  } catch (const Error& e) {
    return end_with_error(e.code(), 0, e.what());
  }
  lws_client_connect_info info{};
  link_ = new LwsLink(runtime_, this);
  fill_client_connect(info, runtime_, vhost, current_, host_header_, core_->config.boolean("tls.verify"), link_);
  info.protocol = subprotocols_.empty() ? nullptr : subprotocols_.c_str();
  // lws would follow a 3xx itself (re-sending every header, ignoring redirect.max, and hanging the
  // handshake): Tidewire follows it instead, under the same rules as HTTP.
  info.ssl_connection |= LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
  connecting_ = true;
  lws* wsi = lws_client_connect_via_info(&info);
  connecting_ = false;
  if (!wsi || !link_) {
    if (link_) link_->connect_failed();
    link_ = nullptr;
    if (connect_error_.empty()) connect_error_ = "could not start a connection to " + current_.display();
    return connection_lost();
  }
  connect_timer_.start(static_cast<uint64_t>(core_->config.integer("connect_timeout_ms")));
  runtime_.kick_lws();
}

void WsTransport::stop_io() {
  ping_timer_.stop();
  pong_timer_.stop();
  connect_timer_.stop();
  close_timer_.stop();
  if (link_) {
    LwsLink* link = link_;
    link_ = nullptr;
    // A close frame only where a WebSocket exists; an unfinished handshake is simply dropped.
    link->close(established_ ? close_code_ : 0);
  }
}

void WsTransport::shutdown() {
  close_code_ = LWS_CLOSE_STATUS_GOINGAWAY;
  end_clean();
}

void WsTransport::drop(tw_err err, const std::string& why) {
  if (ended()) return;
  drop_error_ = err;
  drop_reason_ = why;
  ping_timer_.stop();
  pong_timer_.stop();
  connect_timer_.stop();
  if (link_) {
    LwsLink* link = link_;
    link_ = nullptr;
    link->close(0);
  }
  connection_lost();
}

void WsTransport::connection_lost() {
  if (ended()) return;
  ping_timer_.stop();
  pong_timer_.stop();
  connect_timer_.stop();
  flush();
  if (!established_ && handshake_status_ >= 300 && handshake_status_ < 400 && !redirect_to_.empty())
    return follow_redirect();
  std::string where = current_.display();
  // Every later attempt starts again at the configured URL.
  current_ = url_;
  redirects_ = 0;
  if (drop_error_ != TW_OK) return attempt_failed(Verdict::retry, drop_error_, 0, drop_reason_);
  if (!established_) {
    std::string why = connect_error_.empty() ? "connection to " + where + " failed" : connect_error_;
    if (handshake_status_ >= 300)
      return attempt_failed(classify_http_status(handshake_status_), TW_ERR_HTTP_STATUS, handshake_status_,
                            where + " refused the WebSocket handshake with HTTP " + std::to_string(handshake_status_));
    // TLS only when the TLS layer itself failed verification: never guessed from the message.
    tw_err err = tls_failure_.empty() ? TW_ERR_IO : TW_ERR_TLS;
    return attempt_failed(classify_error(err), err, 0, why);
  }
  int code = peer_close_code_ ? peer_close_code_ : 1006;
  std::string why = url_.display() + " closed the WebSocket with " + std::to_string(code) +
                    (peer_close_reason_.empty() ? "" : " (" + peer_close_reason_ + ")");
  attempt_failed(classify_ws_close(code), TW_ERR_PROTOCOL, 0, why, std::nullopt, code);
}

void WsTransport::follow_redirect() {
  try {
    current_ = redirect_target(current_, redirect_to_, ++redirects_,
                               static_cast<int>(core_->config.integer("redirect.max")));
  } catch (const Error& e) {
    current_ = url_;
    redirects_ = 0;
    return end_with_error(e.code(), handshake_status_,
                          "the WebSocket handshake was answered HTTP " + std::to_string(handshake_status_) + ": " +
                              e.what());
  }
  schedule_attempt(0);
}

void WsTransport::arm_ping() {
  if (ping_interval_ms_ > 0) ping_timer_.start(static_cast<uint64_t>(ping_interval_ms_));
}

void WsTransport::pause_reading(bool pause) {
  if (!link_ || !link_->wsi() || paused_ == pause) return;
  paused_ = pause;
  lws_rx_flow_control(link_->wsi(), pause ? 0 : 1);
  if (pause) {
    // The pong is behind data we are not reading: its deadline resumes with the reading.
    pong_timer_.stop();
    awaiting_pong_ = false;
  } else {
    runtime_.kick_lws();
  }
}

void WsTransport::resume() { pause_reading(false); }

void WsTransport::flush() {
  if (batch_.empty() || ended()) return;
  if (deliver(batch_)) pause_reading(true);
}

void WsTransport::send_ready() {
  if (link_ && established_) {
    lws_callback_on_writable(link_->wsi());
    runtime_.kick_lws();
  }
}

int WsTransport::on_receive(lws* wsi, const char* data, size_t len) {
  if (close_timer_.active()) return 0;  // closing for an oversized message
  if (lws_is_first_fragment(wsi)) {
    message_.clear();
    message_binary_ = lws_frame_is_binary(wsi) != 0;
  }
  if (message_.size() + len > max_message_bytes_) {
    // The close frame must be sent from outside this callback (see the lws notes): stop reading
    // and close from a timer.
    lws_rx_flow_control(wsi, 0);
    message_.clear();
    close_code_ = LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE;
    close_timer_.start(0);
    return 0;
  }
  message_.append(data, len);
  if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0) return 0;
  // The batch is handed over at the end of this loop iteration (defer_flush): its messages came
  // from the reads of this iteration, and share the time of the first.
  if (batch_.empty()) {
    batch_received_ns_ = monotonic_ns();
    runtime_.defer_flush(this);
  }
  EventPtr e = new_event(TW_KIND_MESSAGE, batch_received_ns_);
  e->type = message_binary_ ? "binary" : "text";
  e->data.swap(message_);
  batch_.push_back(std::move(e));
  return 0;
}

int WsTransport::on_writeable(lws* wsi) {
  if (ping_pending_) {
    unsigned char frame[LWS_PRE];
    ping_pending_ = false;
    if (lws_write(wsi, frame + LWS_PRE, 0, LWS_WRITE_PING) < 0) return -1;
    awaiting_pong_ = true;
    pong_timer_.start(static_cast<uint64_t>(pong_timeout_ms_));
  } else if (subscribe_pending_) {
    subscribe_pending_ = false;
    std::string frame(LWS_PRE, '\0');
    frame += core_->config.str("ws.subscribe_message");
    size_t len = frame.size() - LWS_PRE;
    if (lws_write(wsi, reinterpret_cast<unsigned char*>(&frame[LWS_PRE]), len, LWS_WRITE_TEXT) < static_cast<int>(len))
      return -1;
  } else {
    OutgoingMessage m;
    if (!core_->sends->pop(m)) return 0;
    size_t len = m.frame.size() - LWS_PRE;
    if (lws_write(wsi, reinterpret_cast<unsigned char*>(&m.frame[LWS_PRE]), len,
                  m.binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT) < static_cast<int>(len))
      return -1;
  }
  // One frame per writeable callback, so reads and other connections are not starved.
  if (ping_pending_ || subscribe_pending_ || !core_->sends->empty()) lws_callback_on_writable(wsi);
  return 0;
}

int WsTransport::on_lws(lws* wsi, lws_callback_reasons reason, void* in, size_t len) {
  switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
      // header.* (tokens, cookies) go to another origin only if the user allowed it.
      if (!config_headers_go_to(current_, url_)) return 0;
      return append_headers(wsi, core_->config.headers(), in, len) ? 0 : -1;
    }
    case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH:
      handshake_status_ = static_cast<int>(lws_http_client_http_response(wsi));
      return 0;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
      connect_timer_.stop();
      established_ = true;
      opened();
      subscribe_pending_ = !core_->config.str("ws.subscribe_message").empty();
      if (subscribe_pending_ || !core_->sends->empty()) lws_callback_on_writable(wsi);
      arm_ping();
      return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
      return on_receive(wsi, static_cast<const char*>(in), len);
    case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
      awaiting_pong_ = false;
      pong_timer_.stop();
      return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
      return on_writeable(wsi);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
      if (len >= 2) {
        const auto* b = static_cast<const unsigned char*>(in);
        peer_close_code_ = (b[0] << 8) | b[1];
        peer_close_reason_.assign(reinterpret_cast<const char*>(b) + 2, len - 2);
      }
      return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
      if (!handshake_status_) handshake_status_ = static_cast<int>(lws_http_client_http_response(wsi));
      if (handshake_status_ >= 300 && handshake_status_ < 400) {
        // With LCCSCF_HTTP_NO_FOLLOW_REDIRECT the response headers are still here.
        int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_LOCATION);
        if (n > 0) {
          redirect_to_.assign(static_cast<size_t>(n) + 1, '\0');
          int copied = lws_hdr_copy(wsi, &redirect_to_[0], n + 1, WSI_TOKEN_HTTP_LOCATION);
          redirect_to_.resize(copied > 0 ? static_cast<size_t>(copied) : 0);
        }
      }
      if (link_) tls_failure_ = link_->tls_failure();
      connect_error_ = "connecting to " + current_.display() + " failed: " +
                       (in ? std::string(static_cast<const char*>(in), strnlen(static_cast<const char*>(in), 512))
                           : std::string("unknown error"));
      if (std::string detail = take_lws_error(); !detail.empty()) connect_error_ += " (" + detail + ")";
      if (!tls_failure_.empty()) connect_error_ += ": certificate verification failed: " + tls_failure_;
      return 0;
    case LWS_CALLBACK_WSI_DESTROY:
      link_ = nullptr;
      if (!connecting_) connection_lost();
      return 0;
    default:
      return 0;
  }
}

}  // namespace tidewire::detail
