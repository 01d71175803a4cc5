// Server-Sent Events: one long response parsed as it arrives; reconnects resume with Last-Event-ID
// and wait at least the server's `retry:`; backpressure stops reading the socket. A request that
// may not be sent again (a POST without an event id, see http.replay_body) ends with its response.
// sse.end_data / sse.end_event end the stream cleanly on an in-band end marker.
#pragma once

#include "http_transport.h"
#include "proto/sse_parser.h"

namespace tidewire::detail {

class SseTransport final : public HttpTransport {
 public:
  SseTransport(Runtime& runtime, std::shared_ptr<StreamCore> core);
  void resume() override;

 private:
  Request build_request(const Url& url) override;
  bool no_content_ends_stream() const override { return true; }
  bool on_success(int status, const HeaderList& headers) override;
  bool on_success_body(const char* data, size_t len) override;
  void on_success_done(tw_err err, const std::string& message) override;
  bool reconnect_resends() const override { return true; }
  bool may_send_again() const override;

  SseParser parser_;
  std::vector<SseEvent> parsed_;
  std::vector<EventPtr> batch_;
  std::optional<int64_t> retry_hint_ms_;
  const std::string end_data_;   // sse.end_data
  const std::string end_event_;  // sse.end_event
};

}  // namespace tidewire::detail
