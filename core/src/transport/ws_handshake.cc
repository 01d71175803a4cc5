#include "ws_handshake.h"

#include "proto/http1.h"

namespace tidewire::detail {

// Records what the reader reports; read() decides once feed() has returned.
struct WsHandshake::Reader : http1::ResponseSink {
  http1::ResponseReader reader{*this};
  int status = 0;
  std::vector<http1::Header> headers;
  bool upgraded = false;
  std::optional<http1::ResponseError> error;

  void on_head(const http1::ResponseHead& head) override {
    status = head.status;
    headers = head.headers;
  }
  void on_body(std::string_view) override {}
  void on_end(const http1::ResponseEnd&) override {}
  void on_upgrade(std::string_view) override { upgraded = true; }
  void on_error(const http1::ResponseError& e) override { error = e; }
};

WsHandshake::WsHandshake(const std::array<uint8_t, 16>& nonce, ws::HandshakeOffer offer)
    : handshake_(nonce, std::move(offer)), reader_(std::make_unique<Reader>()) {}

WsHandshake::~WsHandshake() = default;

std::string WsHandshake::request(const Url& url,
                                 const std::vector<std::pair<std::string, std::string>>& headers) const {
  http1::Request request;
  request.target = url.target;
  request.host = url.authority();
  for (auto& h : handshake_.request_headers()) request.headers.push_back({std::move(h.name), std::move(h.value)});
  for (const auto& [name, value] : headers) request.headers.push_back({name, value});
  return http1::write_request(request, std::nullopt);
}

WsHandshake::Answer WsHandshake::read(const char* data, size_t size) {
  Reader& r = *reader_;
  Answer answer;
  size_t used = r.reader.feed(data, size);
  if (r.upgraded) {
    std::vector<ws::HeaderField> fields;
    fields.reserve(r.headers.size());
    for (const auto& h : r.headers) fields.push_back({h.name, h.value});
    ws::HandshakeResult result = handshake_.check_response(r.status, fields);
    if (!result.ok()) {
      answer.kind = Answer::Kind::broken;
      answer.error = TW_ERR_PROTOCOL;
      answer.message = "accepted the WebSocket handshake wrongly: " + result.error;
      return answer;
    }
    answer.kind = Answer::Kind::upgraded;
    answer.http_bytes = used;
    answer.negotiated = std::move(result.negotiated);
  } else if (r.status != 0 && r.status != 101) {
    answer.kind = Answer::Kind::refused;
    answer.status = r.status;
  } else if (r.error) {
    answer.kind = Answer::Kind::broken;
    answer.error = r.error->code;
    answer.message = "answered the WebSocket handshake badly: " + r.error->message;
  }
  return answer;
}

std::optional<Url> WsHandshake::redirect(const Url& current, int hop, int max) const {
  http1::RedirectDecision decision = http1::decide_redirect(reader_->status, reader_->headers, current, hop, max);
  if (decision.kind != http1::RedirectDecision::Kind::follow) return std::nullopt;
  return decision.target;
}

std::string printable_peer_text(std::string_view text, size_t max_bytes) {
  return http1::printable_reason(text, max_bytes);
}

}  // namespace tidewire::detail
