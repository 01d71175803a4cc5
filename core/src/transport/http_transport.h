// The part of poll, long-poll and SSE that is plain HTTP/1.1: one GET at a time on an io::Connection
// (taken from the runtime's keep-alive pool when one to the same origin is idle, and parked there
// again after a complete response), the response read by proto/http1, the response deadline,
// redirects followed up to redirect.max, and non-success statuses classified by the policy
// (Retry-After read as a hint, a bounded prefix of the error body kept for the report).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../url.h"
#include "connect.h"
#include "io/connection.h"
#include "proto/http1.h"
#include "transport.h"

namespace tidewire::detail {

// Response headers with lower-case names, in the order received, repeated names kept.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

class HttpTransport : public Transport, private io::Connection::Observer, private http1::ResponseSink {
 public:
  HttpTransport(Runtime& runtime, std::shared_ptr<StreamCore> core);
  ~HttpTransport() override;

 protected:
  struct Request {
    Url url;
    HeaderList headers;  // sent as given, after Host
  };

  void restart() override;

  // Subclass hooks; the on_success* ones are called for 2xx and 304 answers only.
  virtual Request build_request(const Url& url) = 0;
  virtual bool on_success(int status, const HeaderList& headers) = 0;  // true: read the body
  virtual bool on_success_body(const char* data, size_t len) = 0;      // false: stop (already handled)
  virtual void on_success_done(tw_err err, const std::string& message) = 0;
  // Whether 204 No Content ends the stream (SSE) rather than counting as an empty success (polling).
  virtual bool no_content_ends_stream() const { return false; }
  // connect_timeout_ms bounds connecting and the response headers. A transport whose server holds
  // the request (long-poll) returns the time allowed from the request being sent to its headers:
  // that replaces the connect deadline only once the connection is up, so an unreachable host
  // still fails within connect_timeout_ms.
  virtual std::optional<int64_t> held_response_timeout_ms() const { return std::nullopt; }
  virtual std::string held_response_timeout_what() const { return ""; }
  // Whether the success body is finite (poll) and so bounded as a whole by body_deadline_ms(),
  // rather than by read_timeout_ms of silence re-armed on every read (an endless SSE body).
  virtual bool bounded_success_body() const { return false; }
  // Deadline for a whole finite body (an error body, a poll body), from its response headers.
  virtual int64_t body_deadline_ms() const;
  // Cap applied to Retry-After on failed answers.
  virtual int64_t hint_cap_ms() const;
  virtual void on_io_timeout(const std::string& what);
  // Whether a reconnect sends the request again, so that http.replay_body decides whether there is
  // one (SSE); a poll is a new request each time by design.
  virtual bool reconnect_resends() const { return false; }
  // Whether the request may be sent again (http.replay_body, the method, and for SSE whether the
  // server gave an event id to resume from).
  virtual bool may_send_again() const;
  // The stream's request was cut (err, why) and may not be sent again: it ends with a message that
  // says so, TW_ERR_IO (or TW_ERR_TIMEOUT for a deadline).
  void end_not_resumable(tw_err err, const std::string& why);
  const std::string& method() const { return method_; }
  Replay replay_mode() const { return replay_; }

  void attempt() override;
  void stop_io() override;
  // `what` is copied into a buffer kept from one exchange to the next: no allocation per poll.
  void arm_io_timeout(int64_t ms, const std::string& what);
  void disarm_io_timeout();
  void pause_reading(bool pause);
  const Url& origin() const { return origin_; }
  // Whether the request was written, i.e. the connection (TCP, TLS, proxy) is established.
  bool request_sent() const { return request_sent_; }
  // Appends the configured header.* values when `url` may receive them: same origin as the
  // configured URL, or redirect.cross_origin_headers=true.
  void add_config_headers(HeaderList& out, const Url& url);
  static const std::string* find_header(const HeaderList& headers, const std::string& name);
  static const std::string* find_header_nocase(const HeaderList& headers, const std::string& name);

 private:
  // io::Connection::Observer
  void on_open() override;
  void on_data(const char* data, size_t size) override;
  void on_close(const io::Error& error) override;
  bool wants_drained() const override { return false; }  // one request at a time: never held back
  // http1::ResponseSink
  void on_head(const http1::ResponseHead& head) override;
  void on_body(std::string_view data) override;
  void on_end(const http1::ResponseEnd& end) override;
  void on_upgrade(std::string_view after_head) override;
  void on_error(const http1::ResponseError& error) override;

  void connect_fresh();
  // The next request starts again at the configured URL, with the configured method and body.
  void back_to_origin();
  void send_request();
  bool on_response(int status, const HeaderList& headers);
  // The exchange ended (TW_OK: the response completed). Runs at most once per exchange.
  void exchange_done(tw_err err, const std::string& message);
  void abort_exchange();
  void report_error_response();
  void arm_read_timeout();
  void on_timer();

  const Url origin_;
  Url current_;
  const int64_t read_timeout_ms_;
  const int64_t connect_timeout_ms_;
  const std::string connect_timeout_what_;  // the connect deadline's error text, made once
  const std::string read_timeout_what_;     // read_timeout_ms's, made once
  std::string body_deadline_what_;          // body_deadline_ms()'s, made at first use (a virtual)
  int64_t body_deadline_what_ms_ = -1;      // the deadline body_deadline_what_ was made for
  const uint64_t idle_timeout_ms_;          // http.idle_timeout_ms
  const int redirect_max_;                  // redirect.max
  const std::string method_;               // http.method
  const std::optional<std::string> body_;  // http.body, when set
  const Replay replay_;
  // The method of the request to current_: the configured one, or GET after a 303 (or a 301/302
  // answering a POST), which also drops the body (RFC 9110 15.4).
  std::string current_method_;
  bool current_has_body_ = false;
  int redirects_ = 0;
  bool off_origin_ = false;  // current_, redirects_ or the method differ from the configured ones
  Timer io_timer_;
  std::string io_timeout_what_;

  // The exchange in progress.
  Request request_;
  // The last request's bytes and what they were made from: a poll that sends the same request
  // again (nothing changed: method, URL, headers) reuses them instead of writing them anew.
  struct Written {
    std::string method;
    Url url;
    HeaderList headers;
    bool has_body = false;
    std::string bytes;  // empty: none yet
  };
  Written written_;
  HeaderList response_headers_;  // the response head's, lower-cased; kept to reuse its storage
  Dial dial_;
  Url dial_url_;  // the URL dial_ was decided for (scheme, host and port count)
  bool dial_ready_ = false;
  io::Connection* connection_ = nullptr;
  http1::ResponseReader reader_;
  bool reused_ = false;            // the connection came from the pool
  bool response_started_ = false;  // a byte of the response arrived
  bool done_at_head_ = false;      // the head decided the exchange; the body is skipped
  io::Connection* finished_ = nullptr;  // completed a response in this read; parked after it
  bool finished_keep_alive_ = false;
  bool request_sent_ = false;
  bool in_exchange_ = false;
  bool paused_ = false;
  bool success_ = false;
  int error_status_ = 0;
  HeaderList error_headers_;
  std::string error_body_;
  std::optional<Url> redirect_to_;
};

}  // namespace tidewire::detail
