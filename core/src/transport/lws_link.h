// The tie between one lws connection (wsi) and the object that owns it, safe against both sides
// going away first: the link lives as long as the wsi (it frees itself at LWS_CALLBACK_WSI_DESTROY),
// forwards callbacks while an owner is attached, and closes the wsi on request — synchronously from
// outside lws callbacks, or by failing the current callback from inside one (lws forbids a
// synchronous close of the wsi being serviced).
#pragma once

#include <libwebsockets.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <string>

#include "../log.h"
#include "../runtime.h"
#include "../url.h"

namespace tidewire::detail {

// Anything that owns an lws connection: the dispatcher hands it every callback of its wsi.
// For LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION, `in` is the X509_STORE_CTX* and `len`
// is OpenSSL's preverify_ok (lws passes the SSL* as `in` and the store context as user data).
class LwsClient {
 public:
  virtual ~LwsClient() = default;
  virtual int on_lws(lws* wsi, lws_callback_reasons reason, void* in, size_t len) = 0;
};

class LwsLink final : public LwsClient {
 public:
  LwsLink(Runtime& runtime, LwsClient* owner) : runtime_(runtime), owner_(owner) { runtime_.link_opened(); }
  ~LwsLink() override { runtime_.link_gone(); }

  // For lws_client_connect_info: opaque_user_data = link, pwsi = link->wsi_slot().
  lws** wsi_slot() { return &wsi_; }
  lws* wsi() const { return wsi_; }
  // After lws_client_connect_via_info returned null: frees the link unless lws still holds the wsi.
  void connect_failed() {
    owner_ = nullptr;
    if (!wsi_) delete this;
  }

  // Detaches the owner (no callback reaches it any more) and closes the connection. With a close
  // code, a WebSocket close frame carrying it is sent first.
  void close(int ws_close_code = 0) {
    owner_ = nullptr;
    if (!wsi_) return;
    if (ws_close_code) lws_close_reason(wsi_, static_cast<lws_close_status>(ws_close_code), nullptr, 0);
    if (in_callback_) {
      kill_ = true;
      return;
    }
    lws_set_timeout(wsi_, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);  // may delete this
  }

  // The reason certificate verification failed on this connection (OpenSSL's text), or "". Set
  // only by the TLS layer itself, so that an error is classed as TLS from its source, never from
  // words in a message (which include the URL).
  const std::string& tls_failure() const { return tls_failure_; }
  // The URL's host, when it is an IPv6 literal: lws cuts the host name it verifies at the first ':'
  // (4.1.6), so the link checks such an address against the certificate itself.
  void set_ip6_host(const std::string& host) { ip6_host_ = host; }

  int on_lws(lws* wsi, lws_callback_reasons reason, void* in, size_t len) override {
    if (reason == LWS_CALLBACK_WSI_DESTROY) {
      LwsClient* owner = owner_;
      wsi_ = nullptr;
      // Whatever the owner does, the link must go with its wsi.
      if (owner) run_contained("closing a connection", [&] { owner->on_lws(wsi, reason, in, len); });
      delete this;
      return 0;
    }
    if (reason == LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION)
      return on_verify(static_cast<X509_STORE_CTX*>(in), len != 0);
    if (!owner_) return kill_ ? -1 : lws_callback_http_dummy(wsi, reason, nullptr, in, len);
    struct Nesting {  // restored even if the owner throws
      bool& flag;
      bool was;
      explicit Nesting(bool& f) : flag(f), was(f) { flag = true; }
      ~Nesting() { flag = was; }
    } nesting(in_callback_);
    int result = owner_->on_lws(wsi, reason, in, len);
    return kill_ ? -1 : result;
  }

 private:
  // OpenSSL's verify callback, through lws: 0 keeps OpenSSL's verdict. Called for every certificate
  // of the chain and for every error found.
  int on_verify(X509_STORE_CTX* store, bool preverify_ok) {
    if (preverify_ok || !store) return 0;
    int err = X509_STORE_CTX_get_error(store);
    if (err == X509_V_OK) return 0;
    if ((err == X509_V_ERR_HOSTNAME_MISMATCH || err == X509_V_ERR_IP_ADDRESS_MISMATCH) && !ip6_host_.empty() &&
        X509_STORE_CTX_get_error_depth(store) == 0) {
      X509* leaf = X509_STORE_CTX_get_current_cert(store);
      if (leaf && X509_check_ip_asc(leaf, ip6_host_.c_str(), 0) == 1) {
        X509_STORE_CTX_set_error(store, X509_V_OK);  // the address the URL names is in the certificate
        return 0;
      }
    }
    if (tls_failure_.empty()) tls_failure_ = X509_verify_cert_error_string(err);
    return 0;
  }

  Runtime& runtime_;
  LwsClient* owner_;
  lws* wsi_ = nullptr;
  bool in_callback_ = false;
  bool kill_ = false;
  std::string tls_failure_;
  std::string ip6_host_;
};

// Fills what every client connection shares: address, Host/Origin, TLS flags (verification on
// unless asked otherwise), the owner link. `host_header` must outlive the connect call.
inline void fill_client_connect(lws_client_connect_info& info, Runtime& runtime, lws_vhost* vhost, const Url& url,
                                const std::string& host_header, bool verify_tls, LwsLink* link) {
  info.context = runtime.context();
  info.vhost = vhost;
  info.address = url.host.c_str();
  info.port = url.port;
  info.path = url.target.c_str();
  info.host = host_header.c_str();
  info.origin = host_header.c_str();
  info.local_protocol_name = "tidewire";
  if (url.tls()) {
    info.ssl_connection |= LCCSCF_USE_SSL;
    if (url.host.find(':') != std::string::npos) link->set_ip6_host(url.host);
    if (!verify_tls)
      info.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                             LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
  }
  info.opaque_user_data = link;
  info.pwsi = link->wsi_slot();
}

// Adds request headers from APPEND_HANDSHAKE_HEADER. False if they do not fit lws' buffer.
template <typename Headers>
bool append_headers(lws* wsi, const Headers& headers, void* in, size_t len) {
  auto** p = static_cast<unsigned char**>(in);
  unsigned char* end = *p + len;
  for (const auto& h : headers) {
    std::string name = h.first + ":";
    if (lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(name.c_str()),
                                    reinterpret_cast<const unsigned char*>(h.second.data()),
                                    static_cast<int>(h.second.size()), p, end))
      return false;
  }
  return true;
}

}  // namespace tidewire::detail
