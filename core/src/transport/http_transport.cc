#include "http_transport.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <map>

#include "../error.h"
#include "../log.h"

namespace tidewire::detail {
namespace {

constexpr size_t kErrorBodyPrefix = 512;

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// Response headers lws parses into tokens are read by token; any other name must be read with
// lws_hdr_custom_copy (lws 4.1.6 cannot enumerate headers).
const std::map<std::string, lws_token_indexes>& token_by_name() {
  static const std::map<std::string, lws_token_indexes> table = [] {
    std::map<std::string, lws_token_indexes> m;
    for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
      const char* s = reinterpret_cast<const char*>(lws_token_to_string(static_cast<lws_token_indexes>(t)));
      if (!s) continue;
      std::string name(s);
      if (name.empty() || name.back() != ':') continue;
      name.pop_back();
      m.emplace(name, static_cast<lws_token_indexes>(t));
    }
    return m;
  }();
  return table;
}

bool read_header(lws* wsi, const std::string& name, std::string& out) {
  auto it = token_by_name().find(name);
  int len;
  int copied;
  if (it != token_by_name().end()) {
    len = lws_hdr_total_length(wsi, it->second);
    if (len <= 0) return false;
    out.resize(static_cast<size_t>(len) + 1);
    copied = lws_hdr_copy(wsi, &out[0], len + 1, it->second);
  } else {
    std::string key = name + ":";
    len = lws_hdr_custom_length(wsi, key.c_str(), static_cast<int>(key.size()));
    if (len < 0) return false;
    out.resize(static_cast<size_t>(len) + 1);
    copied = lws_hdr_custom_copy(wsi, &out[0], len + 1, key.c_str(), static_cast<int>(key.size()));
  }
  if (copied < 0) return false;
  out.resize(static_cast<size_t>(copied));
  return true;
}

// A failed connection is a TLS error only when the TLS layer recorded a verification failure on it;
// never guessed from the message, which includes the URL.
tw_err connection_error_class(const LwsLink* link) {
  return link && !link->tls_failure().empty() ? TW_ERR_TLS : TW_ERR_IO;
}

// One receive buffer per I/O thread: lws_http_client_read fills it and hands it straight on.
thread_local char t_read_buffer[LWS_PRE + 65536];

}  // namespace

HttpTransport::HttpTransport(Runtime& runtime, std::shared_ptr<StreamCore> core)
    : Transport(runtime, std::move(core)),
      origin_(Url::parse(core_->config.str("url"))),
      current_(origin_),
      read_timeout_ms_(core_->config.integer("read_timeout_ms")),
      io_timer_(runtime.loop(), [this] { on_timer(); }) {}

HttpTransport::~HttpTransport() { stop_io(); }

// read_timeout_ms is the user's "silence is failure" bound, so a body stalled that long fails
// (whole body, not re-armed per read: a trickle must not hold it either). With read_timeout_ms=0
// (no silence bound) the body still gets connect_timeout_ms, the bound on the rest of the exchange.
int64_t HttpTransport::body_deadline_ms() const {
  return read_timeout_ms_ > 0 ? read_timeout_ms_ : core_->config.integer("connect_timeout_ms");
}

void HttpTransport::add_config_headers(HeaderList& out, const Url& url) const {
  if (!config_headers_go_to(url, origin_)) return;
  for (const auto& h : core_->config.headers()) out.push_back(h);
}

void HttpTransport::on_timer() {
  abort_exchange();
  const std::string where = current_.display();
  // The next request starts again at the configured URL.
  current_ = origin_;
  redirects_ = 0;
  // An error answer whose body stalled: the attempt fails with its status (and what of the body came).
  if (error_status_) return report_error_response();
  on_io_timeout(where + ": " + io_timeout_what_);
}

int64_t HttpTransport::hint_cap_ms() const { return core_->config.integer("reconnect.max_ms"); }

const std::string* HttpTransport::find_header(const HeaderList& headers, const std::string& name) {
  for (const auto& h : headers)
    if (h.first == name) return &h.second;
  return nullptr;
}

std::vector<std::string> HttpTransport::base_wanted_headers() const {
  return {"location", "retry-after", "content-type"};
}

void HttpTransport::attempt() {
  if (ended()) return;
  success_ = false;
  paused_ = false;
  error_status_ = 0;
  error_headers_.clear();
  error_body_.clear();
  redirect_to_.reset();
  connect_error_.clear();
  request_sent_ = false;
  request_ = build_request(current_);
  host_header_ = request_.url.authority();
  core_->stats.requests++;

  lws_vhost* vhost;
  try {
    vhost = runtime_.vhost_for(core_->config.str("tls.ca_file"), core_->config.str("proxy.url"));
  } catch (const Error& e) {
    return end_with_error(e.code(), 0, e.what());
  }
  lws_client_connect_info info{};
  link_ = new LwsLink(runtime_, this);
  fill_client_connect(info, runtime_, vhost, request_.url, host_header_, core_->config.boolean("tls.verify"), link_);
  info.method = "GET";
  info.protocol = "tidewire";
  info.alpn = "http/1.1";
  info.ssl_connection |= LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
  connecting_ = true;
  lws* wsi = lws_client_connect_via_info(&info);
  connecting_ = false;
  runtime_.kick_lws();
  if (!wsi || !link_) {
    tw_err err = connection_error_class(link_);
    if (link_) link_->connect_failed();
    link_ = nullptr;
    std::string why = connect_error_.empty() ? "could not start a connection to " + request_.url.display()
                                             : connect_error_;
    return attempt_failed(classify_error(err), err, 0, why);
  }
  in_exchange_ = true;
  arm_io_timeout(core_->config.integer("connect_timeout_ms"),
                 "no response within connect_timeout_ms=" + core_->config.str("connect_timeout_ms"));
}

// Ends the exchange without a report; closes the connection (after the current callback, if inside one).
void HttpTransport::abort_exchange() {
  in_exchange_ = false;
  if (link_) {
    LwsLink* link = link_;
    link_ = nullptr;
    link->close();
  }
}

void HttpTransport::stop_io() {
  io_timer_.stop();
  abort_exchange();
}

void HttpTransport::arm_io_timeout(int64_t ms, std::string what) {
  io_timeout_what_ = std::move(what);
  io_timer_.start(static_cast<uint64_t>(ms));
}

void HttpTransport::disarm_io_timeout() { io_timer_.stop(); }

void HttpTransport::arm_read_timeout() {
  if (read_timeout_ms_ > 0 && !paused_)
    arm_io_timeout(read_timeout_ms_, "no data for read_timeout_ms=" + std::to_string(read_timeout_ms_));
}

void HttpTransport::on_io_timeout(const std::string& what) { attempt_failed(Verdict::retry, TW_ERR_TIMEOUT, 0, what); }

void HttpTransport::pause_reading(bool pause) {
  if (!link_ || !link_->wsi() || paused_ == pause) return;
  paused_ = pause;
  lws_rx_flow_control(link_->wsi(), pause ? 0 : 1);
  // A paused socket is silent because of the consumer, not the server: no read timeout meanwhile.
  if (pause) {
    disarm_io_timeout();
  } else {
    arm_read_timeout();
    runtime_.kick_lws();
  }
}

int HttpTransport::on_lws(lws* wsi, lws_callback_reasons reason, void* in, size_t len) {
  switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
      // lws builds the request once the connection (TCP, proxy, TLS) is up: from here on a server
      // that holds the request is not a connect failure.
      if (in_exchange_ && !request_sent_) {
        request_sent_ = true;
        if (auto held = held_response_timeout_ms()) arm_io_timeout(*held, held_response_timeout_what());
      }
      if (append_headers(wsi, request_.headers, in, len)) return 0;
      exchange_done(TW_ERR_LIMIT, "request headers do not fit the 16 KiB header buffer");
      return -1;
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP: {
      int status = static_cast<int>(lws_http_client_http_response(wsi));
      HeaderList headers;
      std::string value;
      for (const auto& name : request_.want_headers)
        if (read_header(wsi, name, value)) headers.emplace_back(name, value);
      if (on_response(status, headers)) return 0;
      exchange_done(TW_OK, "");
      return -1;
    }
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
      char* p = t_read_buffer + LWS_PRE;
      int n = static_cast<int>(sizeof t_read_buffer - LWS_PRE);
      return lws_http_client_read(wsi, &p, &n) < 0 ? -1 : 0;
    }
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
      if (!in_exchange_) return -1;
      if (on_body(static_cast<const char*>(in), len)) return 0;
      abort_exchange();  // handled already: no exchange_done follows
      return -1;
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
      exchange_done(TW_OK, "");
      return -1;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
      std::string message = in ? std::string(static_cast<const char*>(in), strnlen(static_cast<const char*>(in), 512))
                               : "connection failed";
      message = "connecting to " + request_.url.display() + " failed: " + message;
      if (std::string detail = take_lws_error(); !detail.empty()) message += " (" + detail + ")";
      if (link_ && !link_->tls_failure().empty()) message += ": certificate verification failed: " + link_->tls_failure();
      if (connecting_)
        connect_error_ = message;
      else
        exchange_done(connection_error_class(link_), message);
      return 0;
    }
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
      if (!connecting_)
        exchange_done(TW_ERR_IO, "connection to " + request_.url.display() + " closed before the response completed");
      return 0;
    case LWS_CALLBACK_WSI_DESTROY:
      link_ = nullptr;
      if (!connecting_) exchange_done(TW_ERR_IO, "connection to " + request_.url.display() + " closed");
      return 0;
    default:
      return 0;
  }
}

bool HttpTransport::on_response(int status, const HeaderList& headers) {
  disarm_io_timeout();
  if (is_redirect(status)) {
    if (const std::string* location = find_header(headers, "location")) {
      redirect_to_ = *location;
      return false;
    }
  }
  if ((status >= 200 && status < 300 && !(status == 204 && no_content_ends_stream())) || status == 304) {
    success_ = true;
    if (bounded_success_body())
      arm_io_timeout(body_deadline_ms(), "response body not complete within " + std::to_string(body_deadline_ms()) +
                                             " ms (read_timeout_ms, or connect_timeout_ms when that is 0)");
    else
      arm_read_timeout();
    return on_success(status, headers);
  }
  error_status_ = status;
  error_headers_ = headers;
  // Only a prefix of the error body is kept, but waiting for it must not hang the stream: see
  // body_deadline_ms(); on_timer() then reports the status with what arrived.
  arm_io_timeout(body_deadline_ms(), "error body stalled");
  return true;
}

bool HttpTransport::on_body(const char* data, size_t len) {
  if (success_) {
    if (!bounded_success_body()) arm_read_timeout();
    return on_success_body(data, len);
  }
  error_body_.append(data, std::min(len, kErrorBodyPrefix - error_body_.size()));
  if (error_body_.size() < kErrorBodyPrefix) return true;
  disarm_io_timeout();
  report_error_response();
  return false;
}

void HttpTransport::exchange_done(tw_err err, const std::string& message) {
  if (!in_exchange_) return;
  // Detach now: a late callback of this connection must not be taken for the next exchange's.
  abort_exchange();
  disarm_io_timeout();
  if (redirect_to_) {
    try {
      current_ = redirect_target(current_, *redirect_to_, ++redirects_,
                                 static_cast<int>(core_->config.integer("redirect.max")));
    } catch (const Error& e) {
      return end_with_error(e.code(), 0, e.what());
    }
    return schedule_attempt(0);
  }
  // Every later request starts again at the configured URL.
  current_ = origin_;
  redirects_ = 0;
  if (success_) return on_success_done(err, message);
  if (error_status_) return report_error_response();
  attempt_failed(classify_error(err), err, 0, message);
}

void HttpTransport::report_error_response() {
  int status = error_status_;
  std::optional<int64_t> hint;
  if (const std::string* retry_after = find_header(error_headers_, "retry-after"))
    if ((hint = parse_retry_after(*retry_after, static_cast<int64_t>(std::time(nullptr)))))
      hint = std::min(*hint, hint_cap_ms());
  std::string message = origin_.display() + " answered HTTP " + std::to_string(status);
  if (!error_body_.empty()) message += ": " + error_body_;
  attempt_failed(classify_http_status(status), TW_ERR_HTTP_STATUS, status, message, hint);
}

}  // namespace tidewire::detail
