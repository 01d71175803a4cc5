// The part of poll, long-poll and SSE that is plain HTTP: one exchange at a time, the connect
// timeout, redirects followed here up to redirect.max, and non-success statuses classified by the
// policy (with Retry-After read as a hint and a bounded prefix of the error body kept for the report).
#pragma once

#include <optional>
#include <string>

#include "http_exchange.h"
#include "transport.h"

namespace tidewire::detail {

class HttpTransport : public Transport, protected HttpExchange::Handler {
 public:
  HttpTransport(Runtime& runtime, std::shared_ptr<StreamCore> core);
  ~HttpTransport() override;

 protected:
  // Subclass hooks, called for 2xx and 304 answers only.
  virtual HttpRequest build_request(const Url& url) = 0;
  virtual bool on_success(int status, const HeaderList& headers) = 0;  // true: read the body
  virtual bool on_success_body(const char* data, size_t len) = 0;      // false: stop (already handled)
  virtual void on_success_done(tw_err err, const std::string& message) = 0;
  // Whether 204 No Content ends the stream (SSE) rather than counting as an empty success (polling).
  virtual bool no_content_ends_stream() const { return false; }
  // Time allowed from the request's start to its response headers.
  virtual int64_t response_timeout_ms() const;
  virtual std::string response_timeout_what() const;
  // Cap applied to Retry-After on failed answers.
  virtual int64_t hint_cap_ms() const;

  void attempt() override;
  void stop_io() override;
  // (Re)arms the single I/O deadline: when it fires, the exchange is dropped and on_io_timeout runs.
  void arm_io_timeout(int64_t ms, std::string what);
  void disarm_io_timeout();
  virtual void on_io_timeout(const std::string& what);
  void pause_reading(bool pause);
  // Response header names every request asks for.
  std::vector<std::string> base_wanted_headers() const;
  const Url& origin() const { return origin_; }
  static const std::string* find_header(const HeaderList& headers, const std::string& name);

 private:
  bool on_response(int status, const HeaderList& headers) final;
  bool on_body(const char* data, size_t len) final;
  void on_done(tw_err err, const std::string& message) final;
  void report_error_response();
  void arm_read_timeout();

  const Url origin_;
  Url current_;
  const int64_t read_timeout_ms_;
  int redirects_ = 0;
  HttpExchange* exchange_ = nullptr;
  Timer io_timer_;
  std::string io_timeout_what_;
  bool paused_ = false;

  // The answer being received.
  bool success_ = false;
  int error_status_ = 0;
  HeaderList error_headers_;
  std::string error_body_;
  std::optional<std::string> redirect_to_;
};

}  // namespace tidewire::detail
