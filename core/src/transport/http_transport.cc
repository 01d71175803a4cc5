#include "http_transport.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <strings.h>

#include "../error.h"
#include "../log.h"

namespace tidewire::detail {
namespace {

constexpr size_t kErrorBodyPrefix = 512;

// ASCII only, as header names are (RFC 9110 5.1); std::tolower would consult the locale per byte.
void assign_lower(std::string& out, const std::string& in) {
  out.assign(in);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
}

}  // namespace

HttpTransport::HttpTransport(Runtime& runtime, std::shared_ptr<StreamCore> core)
    : Transport(runtime, std::move(core)),
      origin_(Url::parse(core_->config.str("url"))),
      current_(origin_),
      read_timeout_ms_(core_->config.integer("read_timeout_ms")),
      connect_timeout_ms_(core_->config.integer("connect_timeout_ms")),
      connect_timeout_what_("no response within connect_timeout_ms=" + std::to_string(connect_timeout_ms_)),
      read_timeout_what_("no data for read_timeout_ms=" + std::to_string(read_timeout_ms_)),
      idle_timeout_ms_(static_cast<uint64_t>(core_->config.integer("http.idle_timeout_ms"))),
      redirect_max_(static_cast<int>(core_->config.integer("redirect.max"))),
      method_(core_->config.str("http.method")),
      body_(core_->config.is_set("http.body") ? std::optional<std::string>(core_->config.str("http.body"))
                                              : std::nullopt),
      replay_(parse_replay(core_->config.str("http.replay_body"))),
      current_method_(method_),
      current_has_body_(body_.has_value()),
      io_timer_(runtime.loop(), [this] { on_timer(); }),
      reader_(*this) {}

HttpTransport::~HttpTransport() { stop_io(); }

// read_timeout_ms is the user's "silence is failure" bound, so a body stalled that long fails
// (whole body, not re-armed per read: a trickle must not hold it either). With read_timeout_ms=0
// (no silence bound) the body still gets connect_timeout_ms, the bound on the rest of the exchange.
int64_t HttpTransport::body_deadline_ms() const {
  return read_timeout_ms_ > 0 ? read_timeout_ms_ : connect_timeout_ms_;
}

void HttpTransport::add_config_headers(HeaderList& out, const Url& url) {
  for (auto& h : request_headers(url, origin_)) out.push_back(std::move(h));
}

void HttpTransport::back_to_origin() {
  // Most exchanges (every poll without a redirect) never left it: nothing to copy back.
  if (!off_origin_) return;
  off_origin_ = false;
  current_ = origin_;
  redirects_ = 0;
  current_method_ = method_;
  current_has_body_ = body_.has_value();
}

bool HttpTransport::may_send_again() const { return may_replay(replay_, method_, false); }

void HttpTransport::end_not_resumable(tw_err err, const std::string& why) {
  end_with_error(err == TW_ERR_TIMEOUT ? TW_ERR_TIMEOUT : TW_ERR_IO, 0,
                 why + ": cut, not resumable (http.method=" + method_ +
                     " is not sent again without an event id to resume from; see http.replay_body)");
}

void HttpTransport::restart() {
  back_to_origin();
  Transport::restart();
}

void HttpTransport::on_timer() {
  abort_exchange();
  const std::string where = current_.display();
  back_to_origin();
  // An error answer whose body stalled: the attempt fails with its status (and what of the body came).
  if (error_status_) return report_error_response();
  on_io_timeout(where + ": " + io_timeout_what_);
}

int64_t HttpTransport::hint_cap_ms() const { return core_->config.integer("reconnect.max_ms"); }

const std::string* HttpTransport::find_header_nocase(const HeaderList& headers, const std::string& name) {
  for (const auto& h : headers)
    if (strcasecmp(h.first.c_str(), name.c_str()) == 0) return &h.second;
  return nullptr;
}

const std::string* HttpTransport::find_header(const HeaderList& headers, const std::string& name) {
  for (const auto& h : headers)
    if (h.first == name) return &h.second;
  return nullptr;
}

void HttpTransport::attempt() {
  if (ended()) return;
  success_ = false;
  paused_ = false;
  error_status_ = 0;
  error_headers_.clear();
  error_body_.clear();
  redirect_to_.reset();
  request_sent_ = false;
  response_started_ = false;
  done_at_head_ = false;
  reader_.reset();
  request_ = build_request(current_);
  reader_.set_head_request(current_method_ == "HEAD");
  if (current_has_body_ && !find_header_nocase(request_.headers, "content-type"))
    request_.headers.emplace_back("Content-Type", "application/json");
  core_->stats.requests++;
  // Where to connect depends on the scheme, host and port alone (and the environment, read once):
  // decided again only when a redirect leads elsewhere, not for every poll.
  const Url& target = request_.url;
  if (!dial_ready_ || target.scheme != dial_url_.scheme || target.host != dial_url_.host ||
      target.port != dial_url_.port) {
    try {
      dial_ = dial_for(target, core_->config, /*http11_alpn=*/true);
    } catch (const Error& e) {
      return end_with_error(e.code(), 0, e.what());
    }
    dial_url_ = target;
    dial_ready_ = true;
  }
  in_exchange_ = true;
  arm_io_timeout(connect_timeout_ms_, connect_timeout_what_);
  io::ConnectionPool* pool = runtime_.pool();
  io::Connection* idle = pool ? pool->take(dial_.key) : nullptr;
  if (!idle) return connect_fresh();
  connection_ = idle;
  reused_ = true;
  if (log_enabled(TW_LOG_DEBUG)) log(TW_LOG_DEBUG, "reusing a kept-alive connection to " + request_.url.display());
  connection_->set_observer(this);
  send_request();
}

void HttpTransport::connect_fresh() {
  reused_ = false;
  connection_ = io::Connection::open(runtime_.loop(), dial_.options, &runtime_.tls_contexts(), this);
}

void HttpTransport::on_open() {
  core_->stats.connections++;
  if (connection_ && connection_->uses_tls()) core_->stats.tls_handshakes++;
  if (log_enabled(TW_LOG_DEBUG) && connection_)
    log(TW_LOG_DEBUG, "connected to " + request_.url.display() + " (" + connection_->peer_address() +
                          (connection_->uses_tls() ? ", TLS" : "") + ")");
  send_request();
}

void HttpTransport::send_request() {
  // http.body is fixed for the stream, so what shapes the bytes is the method, the URL, the headers
  // and whether the body goes: when none of them changed (a poll with the same validators), the
  // last request's bytes are sent again.
  Written& w = written_;
  const Url& url = request_.url;
  const bool same = !w.bytes.empty() && w.has_body == current_has_body_ && w.method == current_method_ &&
                    w.url.target == url.target && w.url.host == url.host && w.url.port == url.port &&
                    w.url.scheme == url.scheme && w.headers == request_.headers;
  if (!same) {
    http1::Request request;
    request.method = current_method_;
    request.target = url.target;
    request.host = url.authority();
    request.headers.reserve(request_.headers.size());
    for (const auto& h : request_.headers) request.headers.push_back({h.first, h.second});
    try {
      std::optional<std::string_view> body;
      if (current_has_body_) {
        body = *body_;
      } else if (current_method_ == "POST" || current_method_ == "PUT" || current_method_ == "PATCH") {
        body = std::string_view();  // Content-Length: 0, which servers may require of these methods
      }
      w.bytes = http1::write_request(request, body);
    } catch (const Error& e) {
      w.bytes.clear();
      abort_exchange();
      disarm_io_timeout();
      return end_with_error(e.code(), 0, e.what());
    }
    w.method = current_method_;
    w.url = url;
    w.headers = request_.headers;
    w.has_body = current_has_body_;
  }
  // From here on a server that holds the request is not a connect failure.
  request_sent_ = true;
  if (auto held = held_response_timeout_ms()) arm_io_timeout(*held, held_response_timeout_what());
  if (paused_) connection_->pause_reading();
  connection_->write(w.bytes.data(), w.bytes.size());
}

void HttpTransport::on_data(const char* data, size_t size) {
  io::Connection* connection = connection_;
  response_started_ = true;
  core_->stats.wire_bytes += size;
  reader_.feed(data, size);
  // The response was decided by its head (a 304, a redirect) but its body did not end in this
  // read: the exchange ends now and the connection, mid-response, is not reused.
  if (in_exchange_ && done_at_head_) exchange_done(TW_OK, "");
  // A response completed in this read: its connection is free for the next request, unless the
  // peer sent more than the response (the reader then failed with `unsolicited`).
  if (finished_ == connection && connection) {
    finished_ = nullptr;
    io::ConnectionPool* pool = runtime_.pool();
    if (pool && finished_keep_alive_ && reader_.complete()) {
      pool->put(dial_.key, connection, idle_timeout_ms_);
    } else {
      connection->close();
    }
  }
}

void HttpTransport::on_close(const io::Error& error) {
  connection_ = nullptr;
  if (!in_exchange_) return;
  // A parked connection the server had already given up on: the request was never answered, so
  // it goes again on a new connection, not counted as a failure (as browsers and curl do).
  // Unless the request may not be sent twice: the server may have acted on it before closing.
  if (reused_ && !response_started_) {
    if (!may_send_again())
      return exchange_done(TW_ERR_IO, "a kept-alive connection to " + request_.url.display() +
                                          " closed before any response byte");
    reader_.reset();
    reader_.set_head_request(current_method_ == "HEAD");
    request_sent_ = false;
    return connect_fresh();
  }
  if (request_sent_) {
    reader_.eof();  // ends an until-close body, or reports the response as cut
    if (!in_exchange_) return;
  }
  std::string message = error.kind == io::ErrorKind::closed_by_peer
                            ? "connection to " + request_.url.display() + " closed before the response completed"
                            : connect_failure_text(request_.url, error);
  exchange_done(error_code(error), message);
}

// Ends the exchange without a report and closes its connection.
void HttpTransport::abort_exchange() {
  in_exchange_ = false;
  if (connection_) {
    io::Connection* connection = connection_;
    connection_ = nullptr;
    connection->close();
  }
}

void HttpTransport::stop_io() {
  io_timer_.stop();
  abort_exchange();
}

void HttpTransport::arm_io_timeout(int64_t ms, const std::string& what) {
  io_timeout_what_ = what;
  io_timer_.start(static_cast<uint64_t>(ms));
}

void HttpTransport::disarm_io_timeout() { io_timer_.stop(); }

void HttpTransport::arm_read_timeout() {
  if (read_timeout_ms_ > 0 && !paused_)
    arm_io_timeout(read_timeout_ms_, read_timeout_what_);
}

void HttpTransport::on_io_timeout(const std::string& what) {
  if (reconnect_resends() && request_sent_ && !may_send_again()) return end_not_resumable(TW_ERR_TIMEOUT, what);
  attempt_failed(Verdict::retry, TW_ERR_TIMEOUT, 0, what);
}

void HttpTransport::pause_reading(bool pause) {
  if (paused_ == pause) return;
  paused_ = pause;
  if (!connection_) return;
  // A paused socket is silent because of the consumer, not the server: no read timeout meanwhile.
  if (pause) {
    connection_->pause_reading();
    disarm_io_timeout();
  } else {
    connection_->resume_reading();
    arm_read_timeout();
  }
}

void HttpTransport::on_head(const http1::ResponseHead& head) {
  if (!in_exchange_) return;
  // Into the previous response's storage: a poll's heads are alike, so this seldom allocates.
  HeaderList& headers = response_headers_;
  headers.resize(head.headers.size());
  for (size_t i = 0; i < head.headers.size(); i++) {
    assign_lower(headers[i].first, head.headers[i].name);
    headers[i].second.assign(head.headers[i].value);
  }
  // Decided by its head: the body (none for a 304) is skipped; on_end or on_data ends the exchange.
  if (!on_response(head.status, headers)) done_at_head_ = true;
}

void HttpTransport::on_body(std::string_view data) {
  if (!in_exchange_ || done_at_head_) return;
  if (success_) {
    if (!bounded_success_body()) arm_read_timeout();
    if (!on_success_body(data.data(), data.size())) abort_exchange();  // handled already
    return;
  }
  error_body_.append(data.data(), std::min(data.size(), kErrorBodyPrefix - error_body_.size()));
  if (error_body_.size() < kErrorBodyPrefix) return;
  abort_exchange();
  disarm_io_timeout();
  report_error_response();
}

void HttpTransport::on_end(const http1::ResponseEnd& end) {
  if (!in_exchange_) return;
  // Parked by on_data once this read is done (the reader may yet find bytes the server should not
  // have sent); the exchange no longer owns it.
  finished_ = connection_;
  finished_keep_alive_ = end.keep_alive;
  connection_ = nullptr;
  exchange_done(TW_OK, "");
}

void HttpTransport::on_upgrade(std::string_view) {
  // Only a request asking for an upgrade may be answered 101; none of these does.
  on_error({http1::ResponseError::Kind::malformed, TW_ERR_PROTOCOL,
            request_.url.display() + " answered 101 Switching Protocols to a request that asked for no upgrade"});
}

void HttpTransport::on_error(const http1::ResponseError& error) {
  if (!in_exchange_) return;  // e.g. bytes after a complete response: its connection is closed, not reused
  exchange_done(error.code, request_.url.display() + ": " + error.message);
}

bool HttpTransport::on_response(int status, const HeaderList& headers) {
  disarm_io_timeout();
  try {
    std::vector<http1::Header> fields;
    if (const std::string* location = find_header(headers, "location")) fields.push_back({"location", *location});
    auto decision = http1::decide_redirect(status, fields, current_, redirects_ + 1,
                                           redirect_max_);
    if (decision.kind == http1::RedirectDecision::Kind::follow) {
      redirect_to_ = decision.target;
      // 303 asks for a GET; 301 and 302 turn a POST into a GET as every user agent does; 307 and
      // 308 repeat the request as it was (RFC 9110 15.4).
      if ((status == 303 && current_method_ != "HEAD") ||
          ((status == 301 || status == 302) && current_method_ == "POST")) {
        off_origin_ = true;
        current_method_ = "GET";
        current_has_body_ = false;
      }
      return false;
    }
  } catch (const Error& e) {
    abort_exchange();
    back_to_origin();
    end_with_error(e.code(), 0, e.what());
    return true;  // ended: nothing follows (in_exchange_ is false)
  }
  if ((status >= 200 && status < 300 && !(status == 204 && no_content_ends_stream())) || status == 304) {
    success_ = true;
    // Decided by the head (a 304, a refused content type): the exchange ends in this read, so no
    // body deadline is armed only to be stopped again.
    if (!on_success(status, headers)) return false;
    if (!in_exchange_) return true;  // ended by the hook
    if (bounded_success_body()) {
      const int64_t deadline = body_deadline_ms();
      if (deadline != body_deadline_what_ms_) {
        body_deadline_what_ = "response body not complete within " + std::to_string(deadline) +
                              " ms (read_timeout_ms, or connect_timeout_ms when that is 0)";
        body_deadline_what_ms_ = deadline;
      }
      arm_io_timeout(deadline, body_deadline_what_);
    } else {
      arm_read_timeout();
    }
    return true;
  }
  error_status_ = status;
  error_headers_ = headers;
  // Only a prefix of the error body is kept, but waiting for it must not hang the stream: see
  // body_deadline_ms(); on_timer() then reports the status with what arrived.
  arm_io_timeout(body_deadline_ms(), "error body stalled");
  return true;
}

void HttpTransport::exchange_done(tw_err err, const std::string& message) {
  if (!in_exchange_) return;
  // A response that ends here without on_end (a redirect, a handled body) leaves its connection
  // in an unknown state: closed, never reused.
  abort_exchange();
  disarm_io_timeout();
  if (redirect_to_) {
    ++redirects_;
    off_origin_ = true;
    current_ = *redirect_to_;
    return schedule_attempt(0);
  }
  // Every later request starts again at the configured URL.
  back_to_origin();
  if (success_) return on_success_done(err, message);
  if (error_status_) return report_error_response();
  // Cut after the request went out, before a response: the server may have acted on it.
  if (reconnect_resends() && request_sent_ && !may_send_again()) return end_not_resumable(err, message);
  attempt_failed(classify_error(err), err, 0, message);
}

void HttpTransport::report_error_response() {
  int status = error_status_;
  std::optional<int64_t> hint;
  if (const std::string* retry_after = find_header(error_headers_, "retry-after"))
    if ((hint = parse_retry_after(*retry_after, static_cast<int64_t>(std::time(nullptr)))))
      hint = std::min(*hint, hint_cap_ms());
  std::string message = origin_.display() + " answered " + http1::status_text(status, error_body_, kErrorBodyPrefix);
  Verdict verdict = classify_http_status(status);
  // Retrying would send the request again: one that may not be (a POST without an event id to resume
  // from, under http.replay_body=auto or never) ends with the answer instead, however transient.
  if (verdict == Verdict::retry && reconnect_resends() && !may_send_again()) {
    verdict = Verdict::fatal;
    message += " (not retried: http.method=" + method_ + " is not sent again; see http.replay_body)";
  }
  attempt_failed(verdict, TW_ERR_HTTP_STATUS, status, message, hint);
}

}  // namespace tidewire::detail
