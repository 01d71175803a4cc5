// Server-Sent Events: one long response parsed as it arrives; reconnects resume with Last-Event-ID
// and wait at least the server's `retry:`; backpressure stops reading the socket.
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

  SseParser parser_;
  std::vector<SseEvent> parsed_;
  std::vector<EventPtr> batch_;
  std::optional<int64_t> retry_hint_ms_;
};

}  // namespace tidewire::detail
