// One HTTP/1.1 GET over libwebsockets' client role: sends the request, reports the status and the
// response headers asked for, streams the de-chunked body, and reports the end exactly once.
// Redirects are not followed here (lws' own following breaks teardown, see the lws notes): the
// transport sees the 3xx and decides.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "../runtime.h"
#include "../url.h"
#include "tidewire/tidewire.h"

namespace tidewire::detail {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  Url url;
  HeaderList headers;                      // sent as given
  std::vector<std::string> want_headers;   // lower-case response header names to report if present
  std::string ca_file;
  std::string proxy_url;
  bool verify_tls = true;
};

class HttpExchange : public LwsClient {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // Status line and headers arrived. Return false to stop here (the exchange then ends with
    // on_done(TW_OK) without reading the body).
    virtual bool on_response(int status, const HeaderList& headers) = 0;
    // A piece of the body. Return false to abort the exchange (no on_done follows).
    virtual bool on_body(const char* data, size_t len) = 0;
    // The exchange ended: TW_OK when the response completed, else why it did not.
    virtual void on_done(tw_err err, const std::string& message) = 0;
  };

  // Starts a request. On failure to even start, returns null and sets `error` (no callback follows).
  static HttpExchange* start(Runtime& runtime, Handler* handler, const HttpRequest& request, std::string& error);

  // Stops the exchange now; the handler gets no further callback. The object frees itself.
  void abort();
  // Stops / restarts reading from the socket (backpressure).
  void pause_reading(bool pause);

  int on_lws(lws* wsi, lws_callback_reasons reason, void* in, size_t len) override;

 private:
  HttpExchange(Runtime& runtime, Handler* handler, HttpRequest request);
  int dispatch(lws* wsi, lws_callback_reasons reason, void* in, size_t len);
  void finish(tw_err err, const std::string& message);

  Runtime& runtime_;
  Handler* handler_;
  HttpRequest request_;
  std::string host_header_;
  lws* wsi_ = nullptr;
  bool in_callback_ = false;
  bool starting_ = false;
  bool destroyed_ = false;
  bool finished_ = false;
  bool abort_requested_ = false;
  std::string start_error_;
};

}  // namespace tidewire::detail
