#include "http_exchange.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>

#include "../log.h"

namespace tidewire::detail {
namespace {

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
  if (it != token_by_name().end()) {
    int len = lws_hdr_total_length(wsi, it->second);
    if (len <= 0) return false;
    out.resize(static_cast<size_t>(len) + 1);
    int n = lws_hdr_copy(wsi, &out[0], len + 1, it->second);
    if (n < 0) return false;
    out.resize(static_cast<size_t>(n));
    return true;
  }
  std::string key = name + ":";
  int len = lws_hdr_custom_length(wsi, key.c_str(), static_cast<int>(key.size()));
  if (len < 0) return false;
  out.resize(static_cast<size_t>(len) + 1);
  int n = lws_hdr_custom_copy(wsi, &out[0], len + 1, key.c_str(), static_cast<int>(key.size()));
  if (n < 0) return false;
  out.resize(static_cast<size_t>(n));
  return true;
}

bool looks_like_tls(const std::string& message) {
  std::string m = message;
  std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return m.find("ssl") != std::string::npos || m.find("tls") != std::string::npos ||
         m.find("cert") != std::string::npos;
}

// One receive buffer per I/O thread: lws_http_client_read fills it and hands it straight to the
// handler, so no exchange needs a buffer of its own.
thread_local char t_read_buffer[LWS_PRE + 65536];

}  // namespace

HttpExchange::HttpExchange(Runtime& runtime, Handler* handler, HttpRequest request)
    : runtime_(runtime), handler_(handler), request_(std::move(request)), host_header_(request_.url.authority()) {}

HttpExchange* HttpExchange::start(Runtime& runtime, Handler* handler, const HttpRequest& request, std::string& error) {
  auto* x = new HttpExchange(runtime, handler, request);
  lws_vhost* vhost;
  try {
    vhost = runtime.vhost_for(request.ca_file, request.proxy_url);
  } catch (const std::exception& e) {
    error = e.what();
    delete x;
    return nullptr;
  }
  const Url& url = x->request_.url;
  lws_client_connect_info info{};
  info.context = runtime.context();
  info.vhost = vhost;
  info.address = url.host.c_str();
  info.port = url.port;
  info.path = url.target.c_str();
  info.host = x->host_header_.c_str();
  info.origin = x->host_header_.c_str();
  info.method = "GET";
  info.protocol = "tidewire";
  info.local_protocol_name = "tidewire";
  info.alpn = "http/1.1";
  info.ssl_connection = LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
  if (url.tls()) {
    info.ssl_connection |= LCCSCF_USE_SSL;
    if (!request.verify_tls)
      info.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                             LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
  }
  info.opaque_user_data = x;
  info.pwsi = &x->wsi_;
  x->starting_ = true;
  lws* wsi = lws_client_connect_via_info(&info);
  x->starting_ = false;
  if (wsi && !x->destroyed_) return x;
  // The connection failed while starting; errors reported then were held back for this answer.
  error = x->start_error_.empty() ? "could not start a connection to " + url.to_string() : x->start_error_;
  if (x->destroyed_ || !x->wsi_)
    delete x;
  else
    x->handler_ = nullptr;  // lws still holds the wsi: the object goes at WSI_DESTROY
  return nullptr;
}

void HttpExchange::abort() {
  handler_ = nullptr;
  if (in_callback_) {
    abort_requested_ = true;
    return;
  }
  if (wsi_) {
    lws* wsi = wsi_;
    // Closing synchronously runs WSI_DESTROY, which deletes this object.
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
  }
}

void HttpExchange::pause_reading(bool pause) {
  if (!wsi_) return;
  lws_rx_flow_control(wsi_, pause ? 0 : 1);
  if (!pause) runtime_.kick_lws();
}

void HttpExchange::finish(tw_err err, const std::string& message) {
  if (finished_) return;
  finished_ = true;
  if (starting_) {
    start_error_ = message;
    return;
  }
  if (Handler* h = handler_) {
    handler_ = nullptr;
    h->on_done(err, message);
  }
}

int HttpExchange::on_lws(lws* wsi, lws_callback_reasons reason, void* in, size_t len) {
  if (reason == LWS_CALLBACK_WSI_DESTROY) {  // the last callback this wsi gets
    finish(TW_ERR_IO, "connection to " + request_.url.to_string() + " closed");
    wsi_ = nullptr;
    if (starting_)
      destroyed_ = true;  // start() still uses the object and frees it
    else
      delete this;
    return 0;
  }
  bool was_in_callback = in_callback_;
  in_callback_ = true;
  int result = dispatch(wsi, reason, in, len);
  in_callback_ = was_in_callback;
  return result;
}

int HttpExchange::dispatch(lws* wsi, lws_callback_reasons reason, void* in, size_t len) {
  switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
      auto** p = static_cast<unsigned char**>(in);
      unsigned char* end = *p + len;
      for (const auto& h : request_.headers) {
        std::string name = h.first + ":";
        if (lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(name.c_str()),
                                        reinterpret_cast<const unsigned char*>(h.second.data()),
                                        static_cast<int>(h.second.size()), p, end)) {
          finish(TW_ERR_LIMIT, "request headers do not fit the 16 KiB header buffer");
          return -1;
        }
      }
      return 0;
    }
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP: {
      int status = static_cast<int>(lws_http_client_http_response(wsi));
      HeaderList headers;
      std::string value;
      for (const auto& name : request_.want_headers)
        if (read_header(wsi, name, value)) headers.emplace_back(name, value);
      if (!handler_) return -1;
      if (!handler_->on_response(status, headers)) {
        finish(TW_OK, "");
        return -1;
      }
      return abort_requested_ ? -1 : 0;
    }
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
      char* p = t_read_buffer + LWS_PRE;
      int n = static_cast<int>(sizeof t_read_buffer - LWS_PRE);
      if (lws_http_client_read(wsi, &p, &n) < 0) return -1;
      return abort_requested_ ? -1 : 0;
    }
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
      if (!handler_ || abort_requested_) return -1;
      if (!handler_->on_body(static_cast<const char*>(in), len)) {
        handler_ = nullptr;
        return -1;
      }
      return abort_requested_ ? -1 : 0;
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
      finish(TW_OK, "");
      return -1;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
      std::string message = in ? std::string(static_cast<const char*>(in), strnlen(static_cast<const char*>(in), len ? len : 512))
                               : "connection failed";
      message = "connecting to " + request_.url.to_string() + " failed: " + message;
      std::string detail = take_lws_error();
      if (!detail.empty()) message += " (" + detail + ")";
      finish(looks_like_tls(message) ? TW_ERR_TLS : TW_ERR_IO, message);
      return 0;
    }
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
      finish(TW_ERR_IO, "connection to " + request_.url.to_string() + " closed before the response completed");
      return 0;
    default:
      return lws_callback_http_dummy(wsi, reason, nullptr, in, len);
  }
}

}  // namespace tidewire::detail
