#include "http_transport.h"

#include <ctime>

#include "../error.h"

namespace tidewire::detail {
namespace {
constexpr size_t kErrorBodyPrefix = 512;

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}
}  // namespace

HttpTransport::HttpTransport(Runtime& runtime, std::shared_ptr<StreamCore> core)
    : Transport(runtime, std::move(core)),
      origin_(Url::parse(core_->config.str("url"))),
      current_(origin_),
      read_timeout_ms_(core_->config.integer("read_timeout_ms")),
      io_timer_(runtime.loop(), [this] {
        if (exchange_) {
          HttpExchange* x = exchange_;
          exchange_ = nullptr;
          x->abort();
        }
        on_io_timeout(io_timeout_what_);
      }) {}

HttpTransport::~HttpTransport() { stop_io(); }

int64_t HttpTransport::response_timeout_ms() const { return core_->config.integer("connect_timeout_ms"); }

std::string HttpTransport::response_timeout_what() const {
  return "no response within connect_timeout_ms=" + core_->config.str("connect_timeout_ms");
}

void HttpTransport::arm_read_timeout() {
  if (read_timeout_ms_ > 0 && !paused_)
    arm_io_timeout(read_timeout_ms_, "no data for read_timeout_ms=" + std::to_string(read_timeout_ms_));
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
  std::string error;
  HttpRequest request = build_request(current_);
  request.ca_file = core_->config.str("tls.ca_file");
  request.proxy_url = core_->config.str("proxy.url");
  request.verify_tls = core_->config.boolean("tls.verify");
  core_->stats.requests++;
  exchange_ = HttpExchange::start(runtime_, this, request, error);
  runtime_.kick_lws();
  if (!exchange_) return attempt_failed(Verdict::retry, TW_ERR_IO, 0, error);
  arm_io_timeout(response_timeout_ms(), response_timeout_what());
}

void HttpTransport::stop_io() {
  io_timer_.stop();
  if (exchange_) {
    HttpExchange* x = exchange_;
    exchange_ = nullptr;
    x->abort();
  }
}

void HttpTransport::arm_io_timeout(int64_t ms, std::string what) {
  io_timeout_what_ = std::move(what);
  io_timer_.start(static_cast<uint64_t>(ms));
}

void HttpTransport::disarm_io_timeout() { io_timer_.stop(); }

void HttpTransport::on_io_timeout(const std::string& what) {
  current_ = origin_;
  redirects_ = 0;
  attempt_failed(Verdict::retry, TW_ERR_TIMEOUT, 0, current_.to_string() + ": " + what);
}

void HttpTransport::pause_reading(bool pause) {
  if (!exchange_ || paused_ == pause) return;
  paused_ = pause;
  exchange_->pause_reading(pause);
  // A paused socket is silent because of the consumer, not the server: no read timeout meanwhile.
  if (pause)
    disarm_io_timeout();
  else
    arm_read_timeout();
}

bool HttpTransport::on_response(int status, const HeaderList& headers) {
  disarm_io_timeout();
  if (is_redirect(status)) {
    const std::string* location = find_header(headers, "location");
    if (location) {
      redirect_to_ = *location;
      return false;
    }
  }
  if ((status >= 200 && status < 300 && !(status == 204 && no_content_ends_stream())) || status == 304) {
    success_ = true;
    arm_read_timeout();
    return on_success(status, headers);
  }
  error_status_ = status;
  error_headers_ = headers;
  return true;
}

bool HttpTransport::on_body(const char* data, size_t len) {
  if (success_) {
    arm_read_timeout();
    if (on_success_body(data, len)) return true;
    exchange_ = nullptr;  // returning false ends the exchange without on_done
    return false;
  }
  error_body_.append(data, std::min(len, kErrorBodyPrefix - error_body_.size()));
  if (error_body_.size() < kErrorBodyPrefix) return true;
  exchange_ = nullptr;  // returning false ends the exchange without on_done
  report_error_response();
  return false;
}

void HttpTransport::on_done(tw_err err, const std::string& message) {
  exchange_ = nullptr;
  disarm_io_timeout();
  if (redirect_to_) {
    int max = static_cast<int>(core_->config.integer("redirect.max"));
    if (++redirects_ > max)
      return end_with_error(TW_ERR_LIMIT, 0,
                            "more than redirect.max=" + std::to_string(max) + " redirects from " + origin_.to_string());
    try {
      current_ = current_.resolve(*redirect_to_);
    } catch (const Error& e) {
      return end_with_error(TW_ERR_PROTOCOL, 0, "bad redirect Location \"" + *redirect_to_ + "\": " + e.what());
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
  std::string message = origin_.to_string() + " answered HTTP " + std::to_string(status);
  if (!error_body_.empty()) message += ": " + error_body_;
  attempt_failed(classify_http_status(status), TW_ERR_HTTP_STATUS, status, message, hint);
}

}  // namespace tidewire::detail
