#include "io/connection.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <optional>
#include <string_view>

#include "error.h"
#include "io/ca_store.h"
#include "proto/http1.h"

namespace tidewire::detail::io {

namespace {

constexpr size_t kReadBufferBytes = 64 * 1024;

enum class ReadBuffer { socket, plain };

// The loop thread's read buffers, shared by all its connections: libuv reads one socket at a time,
// and a read's bytes are consumed before the call that hands them on returns (on_data keeps
// nothing), so 10,000 idle connections need not each hold 64 KiB (or 128 KiB under TLS) whose
// first pages every small read would make resident. Allocated on first use: a large static
// thread_local would take the static TLS space of a library that a host loads with dlopen.
char* read_buffer(ReadBuffer which) {
  thread_local std::unique_ptr<char[]> buffers[2];
  auto& buffer = buffers[static_cast<int>(which)];
  if (!buffer) buffer.reset(new char[kReadBufferBytes]);
  return buffer.get();
}
// A proxy's answer to CONNECT is a status line and a few headers; more than this is not a proxy.
constexpr size_t kMaxProxyHeadBytes = 16 * 1024;
// uv_buf_init and SSL_write take int-sized lengths: larger writes go in pieces of at most this.
// (1 GiB rather than INT_MAX so that a piece's TLS records still fit an int when read back.)
constexpr size_t kMaxWritePiece = size_t{1} << 30;
static_assert(kMaxWritePiece <= INT_MAX && kMaxWritePiece <= UINT_MAX);

std::string uv_error_text(int status) {
  return std::string(uv_strerror(status)) + " (" + uv_err_name(status) + ")";
}

// The reason of the oldest error OpenSSL queued on this thread ("wrong version number"), or
// `fallback` when it queued none. Only the reason: the "error:0A00010B:SSL routines::" code in
// front of it means nothing to the reader.
std::string openssl_error_text(const char* fallback) {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return fallback;
  if (const char* reason = ERR_reason_error_string(code)) return reason;
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

// The text a connection failing to reach an address gives: libuv's words, without the errno name.
std::string connect_error_text(int status) { return uv_strerror(status); }

std::string strip_brackets(const std::string& host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
  return host;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buffer[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 || inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

// host:port as CONNECT and error texts write it: IPv6 literals in brackets.
std::string authority(const std::string& host, uint16_t port) {
  std::string bare = strip_brackets(host);
  bool v6 = bare.find(':') != std::string::npos;
  return (v6 ? "[" + bare + "]" : bare) + ":" + std::to_string(port);
}

std::string address_text(const sockaddr* address) {
  char ip[INET6_ADDRSTRLEN] = "?";
  if (address->sa_family == AF_INET) {
    auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    uv_ip4_name(v4, ip, sizeof ip);
    return std::string(ip) + ":" + std::to_string(ntohs(v4->sin_port));
  }
  auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
  uv_ip6_name(v6, ip, sizeof ip);
  return "[" + std::string(ip) + "]:" + std::to_string(ntohs(v6->sin6_port));
}

}  // namespace

std::string tls_verify_text(const std::string& host, long verify_result, const std::string& ca_file) {
  const std::string reason = X509_verify_cert_error_string(verify_result);
  if (verify_result == X509_V_ERR_HOSTNAME_MISMATCH || verify_result == X509_V_ERR_IP_ADDRESS_MISMATCH)
    return "TLS: the certificate of " + host + " is for another name (" + reason +
           ") — connect with a name the certificate holds, or set tls.verify=false to skip verification (testing "
           "only)";
  return "TLS: certificate of " + host + " not trusted (" + reason + ") — " +
         (ca_file.empty() ? std::string("set tls.ca_file to the CA certificate that issued it")
                          : "tls.ca_file \"" + ca_file + "\" does not hold the CA certificate that issued it") +
         ", or set tls.verify=false to skip verification (testing only)";
}

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::none: return "none";
    case ErrorKind::dns: return "dns";
    case ErrorKind::connect: return "connect";
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::proxy: return "proxy";
    case ErrorKind::tls_handshake: return "tls_handshake";
    case ErrorKind::tls_verify: return "tls_verify";
    case ErrorKind::io: return "io";
    case ErrorKind::closed_by_peer: return "closed_by_peer";
  }
  return "unknown";
}

// --- TlsContextCache ---------------------------------------------------------------------------

// The system's store: OpenSSL's default locations or, where those do not exist (an OpenSSL built
// for another distribution's layout), the distribution's own (fallback_ca_location).
static bool load_system_store(SSL_CTX* context) {
  if (SSL_CTX_set_default_verify_paths(context) != 1) return false;
  std::optional<CaLocation> fallback = system_fallback_ca_location();
  if (!fallback) return true;
  return SSL_CTX_load_verify_locations(context, fallback->file.empty() ? nullptr : fallback->file.c_str(),
                                       fallback->dir.empty() ? nullptr : fallback->dir.c_str()) == 1;
}

TlsContextCache::~TlsContextCache() {
  // Connections still using a context hold their own reference (SSL_new takes one).
  for (auto& entry : contexts_) SSL_CTX_free(entry.second);
}

SSL_CTX* TlsContextCache::get(const std::string& ca_file, bool verify, Error* error) {
  auto key = std::make_pair(verify ? ca_file : std::string(), verify);
  auto found = contexts_.find(key);
  if (found != contexts_.end()) return found->second;

  ERR_clear_error();
  SSL_CTX* context = SSL_CTX_new(TLS_client_method());
  if (context == nullptr) {
    *error = {ErrorKind::tls_handshake, "cannot create a TLS context: " + openssl_error_text("out of memory")};
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  SSL_CTX_set_verify(context, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  if (verify) {
    // A CA file replaces the system store rather than adding to it: the user named whom to trust.
    bool loaded = ca_file.empty() ? load_system_store(context)
                                  : SSL_CTX_load_verify_locations(context, ca_file.c_str(), nullptr) == 1;
    if (!loaded) {
      std::string what = ca_file.empty() ? "the system CA store" : "CA file " + ca_file;
      *error = {ErrorKind::tls_verify, "cannot load " + what + ": " + openssl_error_text("unknown reason")};
      SSL_CTX_free(context);
      return nullptr;
    }
  }
  contexts_.emplace(key, context);
  return context;
}

// --- Connection --------------------------------------------------------------------------------

// One TCP handle per connect attempt: a failed attempt's socket cannot be reused, and its handle is
// closed on its own (owner cleared) while the next attempt gets a fresh one.
struct Connection::Tcp {
  uv_tcp_t handle;
  uv_connect_t connect;
  Connection* owner;
};

// The proxy's answer to CONNECT, read by proto/http1. What the reader reports is only recorded:
// handle_proxy_bytes acts once feed() has returned, since acting may close the connection and a
// sink must not call back into its reader.
struct Connection::ProxyAnswer : http1::ResponseSink {
  std::string request;  // the CONNECT request, until sent
  http1::ResponseReader reader{*this, limits()};
  int status = 0;  // of the final answer; 1xx heads are skipped by the reader
  std::string reason;  // sanitized: the proxy's free text goes into error messages
  bool tunnel = false;
  std::string tunnel_bytes;  // what followed the answer in the same read: the tunnel's first bytes
  std::optional<http1::ResponseError> error;

  ProxyAnswer() { reader.set_connect_request(true); }

  static http1::ResponseLimits limits() {
    http1::ResponseLimits limits;
    limits.max_header_bytes = kMaxProxyHeadBytes;
    return limits;
  }
  void on_head(const http1::ResponseHead& head) override {
    status = head.status;
    reason = http1::printable_reason(head.reason);
  }
  void on_body(std::string_view) override {}
  void on_end(const http1::ResponseEnd&) override {}
  void on_upgrade(std::string_view after_head) override {
    tunnel = true;
    tunnel_bytes.assign(after_head);
  }
  void on_error(const http1::ResponseError& e) override { error = e; }
};

struct Connection::WriteRequest {
  uv_write_t request;
  std::string data;
  Connection* connection;
};

Connection* Connection::open(uv_loop_t* loop, const ConnectOptions& options, TlsContextCache* contexts,
                             Observer* observer) {
  auto* connection = new Connection(loop, options, observer);
  connection->start(contexts);
  return connection;
}

Connection::Connection(uv_loop_t* loop, ConnectOptions options, Observer* observer)
    : loop_(loop),
      options_(std::move(options)),
      observer_(observer),
      connect_timer_(loop, [this] {
        static const char* const phase[] = {"name lookup", "TCP connect", "proxy CONNECT", "TLS handshake"};
        size_t index = static_cast<size_t>(state_);
        fail({ErrorKind::timeout, "connecting to " + authority_for_errors() + " took longer than " +
                                      std::to_string(options_.connect_timeout_ms) + " ms (stuck in " +
                                      (index < 4 ? phase[index] : "setup") + ")"});
      }),
      deferred_(loop, [this] {
        if (deferred_error_) {
          fail(std::move(deferred_error_));
          return;
        }
        if (delivery_due_) {
          delivery_due_ = false;
          deliver_pending();
        }
        if (drained_due_) {
          drained_due_ = false;
          if (state_ == State::open && queued_write_bytes_ == 0 && observer_ != nullptr) observer_->on_drained();
        }
      }) {
  new_tcp();
}

Connection::~Connection() {
  if (ssl_ != nullptr) SSL_free(ssl_);  // frees both BIOs too
}

void Connection::new_tcp() {
  if (tcp_ != nullptr) {
    tcp_->owner = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_->handle), [](uv_handle_t* h) { delete static_cast<Tcp*>(h->data); });
  }
  tcp_ = new Tcp{};
  tcp_->owner = this;
  uv_tcp_init(loop_, &tcp_->handle);
  tcp_->handle.data = tcp_;
  tcp_->connect.data = tcp_;
}

std::string Connection::dial_target() const {
  return options_.proxy_host.empty() ? authority_for_errors()
                                     : "proxy " + authority(options_.proxy_host, options_.proxy_port);
}

void Connection::start(TlsContextCache* contexts) {
  connect_timer_.start(options_.connect_timeout_ms);
  std::string target_host = strip_brackets(options_.host);
  if (target_host.empty() || options_.port == 0) {
    fail_later({ErrorKind::dns, "no host or port to connect to"});
    return;
  }
  if (!options_.proxy_host.empty()) {
    proxy_answer_ = std::make_unique<ProxyAnswer>();
    try {
      proxy_answer_->request = http1::write_connect_request(options_.host, options_.port);
    } catch (const detail::Error& e) {
      fail_later({ErrorKind::dns, std::string("cannot ask the proxy for this host: ") + e.what()});
      return;
    }
  }
  if (options_.tls.enabled) {
    Error error;
    SSL_CTX* context = contexts != nullptr ? contexts->get(options_.tls.ca_file, options_.tls.verify, &error) : nullptr;
    if (context == nullptr) {
      if (!error) error = {ErrorKind::tls_handshake, "TLS asked for without a TLS context cache"};
      fail_later(std::move(error));
      return;
    }
    ERR_clear_error();
    ssl_ = SSL_new(context);
    tls_in_ = BIO_new(BIO_s_mem());
    tls_out_ = BIO_new(BIO_s_mem());
    if (ssl_ == nullptr || tls_in_ == nullptr || tls_out_ == nullptr) {
      BIO_free(tls_in_);
      BIO_free(tls_out_);
      tls_in_ = tls_out_ = nullptr;
      fail_later({ErrorKind::tls_handshake, "cannot create a TLS session: " + openssl_error_text("out of memory")});
      return;
    }
    // An empty input BIO means "wait for the network", not end of stream.
    BIO_ctrl(tls_in_, BIO_C_SET_BUF_MEM_EOF_RETURN, -1, nullptr);  // BIO_set_mem_eof_return, without its C cast
    SSL_set_bio(ssl_, tls_in_, tls_out_);
    SSL_set_connect_state(ssl_);
    bool ip = is_ip_literal(target_host);
    // SNI carries names only (RFC 6066 forbids literal addresses there).
    if (!ip) {
      // SSL_set_tlsext_host_name, without its C cast.
      SSL_ctrl(ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(target_host.c_str()));
    }
    if (options_.tls.verify) {
      bool host_set = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), target_host.c_str()) == 1
                         : SSL_set1_host(ssl_, target_host.c_str()) == 1;
      if (!host_set) {
        fail_later({ErrorKind::tls_verify, "cannot check the certificate against host " + target_host});
        return;
      }
      SSL_set_hostflags(ssl_, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    }
    if (options_.tls.alpn_http11) {
      static const unsigned char protocols[] = "\x08http/1.1";
      SSL_set_alpn_protos(ssl_, protocols, sizeof protocols - 1);
    }
  }

  std::string dial_host = strip_brackets(options_.proxy_host.empty() ? options_.host : options_.proxy_host);
  uint16_t dial_port = options_.proxy_host.empty() ? options_.port : options_.proxy_port;
  // An IP literal needs no name lookup, so no round trip through libuv's thread pool.
  sockaddr_storage literal{};
  if (uv_ip4_addr(dial_host.c_str(), dial_port, reinterpret_cast<sockaddr_in*>(&literal)) == 0 ||
      uv_ip6_addr(dial_host.c_str(), dial_port, reinterpret_cast<sockaddr_in6*>(&literal)) == 0) {
    addresses_.push_back(literal);
    state_ = State::connecting;
    try_next_address(/*inside_open=*/true);
    return;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  dns_req_ = new uv_getaddrinfo_t{};
  dns_req_->data = this;
  int status = uv_getaddrinfo(
      loop_, dns_req_,
      [](uv_getaddrinfo_t* request, int result, addrinfo* addresses) {
        auto* self = static_cast<Connection*>(request->data);
        delete request;
        self->on_resolved(result, addresses);
      },
      dial_host.c_str(), std::to_string(dial_port).c_str(), &hints);
  if (status < 0) {
    delete dns_req_;
    dns_req_ = nullptr;
    fail_later({ErrorKind::dns, "could not resolve host " + dial_host + " (" + connect_error_text(status) + ")"});
  }
}

void Connection::on_resolved(int status, addrinfo* addresses) {
  dns_req_ = nullptr;
  if (state_ == State::closed) {
    if (addresses != nullptr) uv_freeaddrinfo(addresses);
    maybe_destroy();
    return;
  }
  std::string dial_host = strip_brackets(options_.proxy_host.empty() ? options_.host : options_.proxy_host);
  if (status < 0) {
    fail({ErrorKind::dns, "could not resolve host " + dial_host + " (" + connect_error_text(status) + ")"});
    return;
  }
  for (addrinfo* a = addresses; a != nullptr; a = a->ai_next) {
    if (a->ai_family != AF_INET && a->ai_family != AF_INET6) continue;
    sockaddr_storage address{};
    std::memcpy(&address, a->ai_addr, a->ai_addrlen);
    addresses_.push_back(address);
  }
  uv_freeaddrinfo(addresses);
  if (addresses_.empty()) {
    fail({ErrorKind::dns, "could not resolve host " + dial_host + " (no IPv4 or IPv6 address)"});
    return;
  }
  state_ = State::connecting;
  try_next_address();
}

void Connection::try_next_address(bool inside_open) {
  while (next_address_ < addresses_.size()) {
    const sockaddr* address = reinterpret_cast<const sockaddr*>(&addresses_[next_address_]);
    if (next_address_ > 0) new_tcp();
    ++next_address_;
    int status = uv_tcp_connect(&tcp_->connect, &tcp_->handle, address, [](uv_connect_t* request, int result) {
      auto* tcp = static_cast<Tcp*>(request->data);
      if (tcp->owner != nullptr) tcp->owner->on_connected(result);
    });
    if (status == 0) return;
    attempt_errors_ += (attempt_errors_.empty() ? "" : "; ") + address_text(address) + ": " + connect_error_text(status);
  }
  // One address that is the target itself (an IP literal) is named once; otherwise the target,
  // then what each of its addresses answered.
  const std::string target = dial_target();
  const bool named_once = addresses_.size() == 1 && attempt_errors_.rfind(target + ": ", 0) == 0;
  Error error{ErrorKind::connect, "could not connect to " + (named_once ? attempt_errors_ : target + " (" + attempt_errors_ + ")")};
  // Never a callback from inside open(): the caller does not hold the pointer yet.
  if (inside_open) return fail_later(std::move(error));
  fail(std::move(error));
}

void Connection::on_connected(int status) {
  if (state_ == State::closed) return;  // cancelled by close()
  if (status < 0) {
    const sockaddr* address = reinterpret_cast<const sockaddr*>(&addresses_[next_address_ - 1]);
    attempt_errors_ += (attempt_errors_.empty() ? "" : "; ") + address_text(address) + ": " + connect_error_text(status);
    try_next_address();
    return;
  }
  on_tcp_established();
}

void Connection::on_tcp_established() {
  uv_tcp_nodelay(&tcp_->handle, 1);
  start_reading();
  if (proxy_answer_ != nullptr) {
    state_ = State::proxy_head;
    send_raw(std::move(proxy_answer_->request));
  } else if (ssl_ != nullptr) {
    start_tls();
  } else {
    become_open();
  }
}

void Connection::start_reading() {
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&tcp_->handle),
      [](uv_handle_t*, size_t, uv_buf_t* buffer) {
        *buffer = uv_buf_init(read_buffer(ReadBuffer::socket), kReadBufferBytes);
      },
      [](uv_stream_t* stream, ssize_t nread, const uv_buf_t* buffer) {
        auto* self = static_cast<Tcp*>(stream->data)->owner;
        if (self != nullptr) self->on_read(nread, buffer->base);
      });
}

void Connection::on_read(ssize_t nread, const char* data) {
  if (state_ == State::closed || nread == 0) return;
  if (nread < 0) {
    int status = static_cast<int>(nread);
    bool eof = status == UV_EOF;
    switch (state_) {
      case State::proxy_head:
        fail({ErrorKind::proxy, dial_target() + " " + (eof ? "closed the connection" : uv_error_text(status)) +
                                    " before answering CONNECT"});
        break;
      case State::tls_handshake:
        fail({ErrorKind::tls_handshake, authority_for_errors() + " " +
                                            (eof ? "closed the connection" : uv_error_text(status)) +
                                            " during the TLS handshake"});
        break;
      default:
        if (eof) {
          fail({ErrorKind::closed_by_peer, authority_for_errors() + " closed the connection" +
                                               (ssl_ != nullptr ? " (without TLS close_notify)" : "")});
        } else {
          fail({ErrorKind::io, "reading from " + authority_for_errors() + " failed: " +
                                   uv_error_text(status)});
        }
    }
    return;
  }
  size_t size = static_cast<size_t>(nread);
  if (state_ == State::proxy_head) {
    handle_proxy_bytes(data, size);
  } else if (ssl_ != nullptr) {
    feed_tls(data, size);
  } else if (observer_ != nullptr) {
    observer_->on_data(data, size);
  }
}

void Connection::handle_proxy_bytes(const char* data, size_t size) {
  ProxyAnswer& answer = *proxy_answer_;
  answer.reader.feed(data, size);
  if (answer.tunnel && answer.status >= 200 && answer.status < 300) {
    std::string tunnel_bytes = std::move(answer.tunnel_bytes);
    proxy_answer_.reset();
    enter_tunnel(std::move(tunnel_bytes));
    return;
  }
  // The status and the sanitized reason, never the proxy's raw bytes: they end up in logs.
  if (answer.status != 0) {
    fail({ErrorKind::proxy, dial_target() + " refused CONNECT to " + authority_for_errors() + ": " +
                                std::to_string(answer.status) + (answer.reason.empty() ? "" : " " + answer.reason)});
  } else if (answer.error) {
    fail({ErrorKind::proxy, dial_target() + " did not answer CONNECT to " + authority_for_errors() +
                                " with HTTP: " + answer.error->message});
  }
}

void Connection::enter_tunnel(std::string tunnel_bytes) {
  if (ssl_ != nullptr) {
    start_tls();
    if (!tunnel_bytes.empty() && state_ != State::closed) feed_tls(tunnel_bytes.data(), tunnel_bytes.size());
    return;
  }
  become_open();
  if (state_ != State::open || tunnel_bytes.empty()) return;
  if (paused_) {
    pending_plain_ = std::move(tunnel_bytes);
  } else if (observer_ != nullptr) {
    observer_->on_data(tunnel_bytes.data(), tunnel_bytes.size());
  }
}

void Connection::start_tls() {
  state_ = State::tls_handshake;
  drive_handshake();
}

void Connection::feed_tls(const char* data, size_t size) {
  // A memory BIO grows as needed, so this takes everything.
  BIO_write(tls_in_, data, static_cast<int>(size));
  if (state_ == State::tls_handshake) {
    drive_handshake();
  } else {
    drain_tls();
  }
}

void Connection::drive_handshake() {
  ERR_clear_error();
  int result = SSL_do_handshake(ssl_);
  flush_tls_output();
  if (result == 1) {
    become_open();
    drain_tls();  // application data may have come with the last handshake flight
    return;
  }
  int reason = SSL_get_error(ssl_, result);
  if (reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE) return;
  long verify_result = SSL_get_verify_result(ssl_);
  std::string host = authority_for_errors();
  if (options_.tls.verify && verify_result != X509_V_OK) {
    ERR_clear_error();
    fail({ErrorKind::tls_verify, tls_verify_text(host, verify_result, options_.tls.ca_file)});
    return;
  }
  fail({ErrorKind::tls_handshake,
        "TLS handshake with " + host + " failed: " + openssl_error_text("the peer ended the handshake")});
}

void Connection::drain_tls() {
  if (ssl_ == nullptr) return;
  // Fill the 64 KiB buffer from as many TLS records as are there (each is at most 16 KiB), so the
  // observer sees few large reads rather than many record-sized ones.
  while (state_ == State::open && !paused_) {
    size_t filled = 0;
    int reason = SSL_ERROR_NONE;
    ERR_clear_error();
    char* plain = read_buffer(ReadBuffer::plain);
    while (filled < kReadBufferBytes) {
      int n = SSL_read(ssl_, plain + filled, static_cast<int>(kReadBufferBytes - filled));
      if (n <= 0) {
        reason = SSL_get_error(ssl_, n);
        break;
      }
      filled += static_cast<size_t>(n);
    }
    if (filled > 0 && observer_ != nullptr) observer_->on_data(plain, filled);
    if (state_ != State::open) return;
    if (reason == SSL_ERROR_NONE) continue;  // the buffer was full: there may be more
    if (reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE) break;
    if (reason == SSL_ERROR_ZERO_RETURN) {
      fail({ErrorKind::closed_by_peer, authority_for_errors() + " closed the TLS session"});
    } else {
      fail({ErrorKind::io, "TLS read from " + authority_for_errors() +
                               " failed: " + openssl_error_text("protocol error")});
    }
    return;
  }
  // Reading can make OpenSSL answer (a key update, an alert).
  if (state_ == State::open) flush_tls_output();
}

void Connection::flush_tls_output() {
  size_t pending;
  while ((pending = BIO_ctrl_pending(tls_out_)) > 0) {
    std::string bytes(std::min<size_t>(pending, kMaxWritePiece), '\0');
    int n = BIO_read(tls_out_, bytes.data(), static_cast<int>(bytes.size()));
    if (n <= 0) return;
    bytes.resize(static_cast<size_t>(n));
    send_raw(std::move(bytes));
  }
}

// Most writes (a request, a frame) fit the socket's buffer whole: written now, with no write request,
// no completion a loop turn later and no epoll_ctl for libuv to stop watching for writability again.
// Only with nothing queued, so that bytes never overtake earlier ones. Returns how many bytes the
// socket took (the rest is for send_raw), or -1 after a failure (reported from the loop).
ssize_t Connection::write_now(const char* data, size_t size) {
  if (queued_write_bytes_ != 0 || size > kMaxWritePiece) return 0;
  uv_buf_t buffer = uv_buf_init(const_cast<char*>(data), static_cast<unsigned>(size));
  int written = uv_try_write(reinterpret_cast<uv_stream_t*>(&tcp_->handle), &buffer, 1);
  if (written == UV_EAGAIN) return 0;
  if (written < 0) {
    // Not from here: the caller may be in the middle of a call of its own.
    fail_later({ErrorKind::io, "writing to " + authority_for_errors() + " failed: " + uv_error_text(written)});
    return -1;
  }
  if (static_cast<size_t>(written) == size && observer_ != nullptr && observer_->wants_drained()) {
    // on_drained as after a queued write: never from inside write(), always from the loop.
    drained_due_ = true;
    deferred_.start(0);
  }
  return written;
}

void Connection::send_raw(std::string data) {
  ssize_t now = write_now(data.data(), data.size());
  if (now < 0 || static_cast<size_t>(now) == data.size()) return;
  data.erase(0, static_cast<size_t>(now));
  auto* request = new WriteRequest{{}, std::move(data), this};
  request->request.data = request;
  // One request, several buffers when it is larger than a uv_buf_init length (uv_write copies the array).
  std::vector<uv_buf_t> buffers;
  for (size_t offset = 0; offset < request->data.size(); offset += kMaxWritePiece) {
    size_t piece = std::min(kMaxWritePiece, request->data.size() - offset);
    buffers.push_back(uv_buf_init(request->data.data() + offset, static_cast<unsigned>(piece)));
  }
  queued_write_bytes_ += request->data.size();
  int status = uv_write(&request->request, reinterpret_cast<uv_stream_t*>(&tcp_->handle), buffers.data(),
                        static_cast<unsigned>(buffers.size()),
                        [](uv_write_t* write, int result) {
                          auto* done = static_cast<WriteRequest*>(write->data);
                          Connection* self = done->connection;
                          self->queued_write_bytes_ -= done->data.size();
                          delete done;
                          if (result < 0 && self->state_ != State::closed) {
                            self->fail({ErrorKind::io, "writing to " + self->authority_for_errors() +
                                                           " failed: " + uv_error_text(result)});
                          } else if (result == 0 && self->queued_write_bytes_ == 0 && self->state_ == State::open &&
                                     self->observer_ != nullptr) {
                            self->observer_->on_drained();
                          }
                        });
  if (status < 0) {
    queued_write_bytes_ -= request->data.size();
    delete request;
    // Not from here: the caller may be in the middle of a call of its own.
    fail_later({ErrorKind::io, "writing to " + authority_for_errors() + " failed: " + uv_error_text(status)});
  }
}

std::string Connection::authority_for_errors() const { return authority(options_.host, options_.port); }

void Connection::become_open() {
  state_ = State::open;
  connect_timer_.stop();
  if (observer_ != nullptr) observer_->on_open();
  if (state_ == State::open && paused_) uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_->handle));
}

bool Connection::write(std::string data) {
  if (state_ != State::open) return false;
  if (data.empty()) return true;
  if (ssl_ == nullptr) {
    send_raw(std::move(data));
    return true;
  }
  return write_tls(data.data(), data.size());
}

bool Connection::write(const char* data, size_t size) {
  if (state_ != State::open) return false;
  if (size == 0) return true;
  if (ssl_ != nullptr) return write_tls(data, size);
  // Copied only when the socket does not take it all now.
  ssize_t now = write_now(data, size);
  if (now >= 0 && static_cast<size_t>(now) < size) send_raw(std::string(data + now, size - static_cast<size_t>(now)));
  return true;
}

bool Connection::write_tls(const char* data, size_t size) {
  // Without SSL_MODE_ENABLE_PARTIAL_WRITE, and with a memory BIO that never fills, SSL_write takes
  // a whole piece or fails; each piece's records are handed to the socket before the next.
  for (size_t offset = 0; offset < size; offset += kMaxWritePiece) {
    size_t piece = std::min(kMaxWritePiece, size - offset);
    ERR_clear_error();
    if (SSL_write(ssl_, data + offset, static_cast<int>(piece)) <= 0) {
      fail_later({ErrorKind::io, "TLS write to " + authority_for_errors() + " failed: " +
                                     openssl_error_text("protocol error")});
      return false;
    }
    flush_tls_output();
  }
  return true;
}

void Connection::pause_reading() {
  if (paused_) return;
  paused_ = true;
  if (state_ == State::open) uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_->handle));
}

void Connection::resume_reading() {
  if (!paused_) return;
  paused_ = false;
  if (state_ != State::open) return;
  start_reading();
  bool tls_buffered = ssl_ != nullptr && (SSL_pending(ssl_) > 0 || BIO_ctrl_pending(tls_in_) > 0);
  if (tls_buffered || !pending_plain_.empty()) {
    delivery_due_ = true;
    deferred_.start(0);
  }
}

void Connection::deliver_pending() {
  if (state_ != State::open || paused_) return;
  if (!pending_plain_.empty()) {
    std::string bytes = std::move(pending_plain_);
    pending_plain_.clear();
    if (observer_ != nullptr) observer_->on_data(bytes.data(), bytes.size());
  }
  drain_tls();
}

void Connection::close() {
  if (state_ == State::closed) return;
  if (ssl_ != nullptr && state_ == State::open) {
    // close_notify, best effort: uv_close cancels queued writes, so only what the socket takes
    // right now goes out; a peer that misses it sees a plain EOF.
    ERR_clear_error();
    SSL_shutdown(ssl_);
    size_t pending = BIO_ctrl_pending(tls_out_);
    if (pending > 0 && queued_write_bytes_ == 0) {
      std::string bytes(pending, '\0');
      int n = BIO_read(tls_out_, bytes.data(), static_cast<int>(pending));
      if (n > 0) {
        uv_buf_t buffer = uv_buf_init(bytes.data(), static_cast<unsigned>(n));
        uv_try_write(reinterpret_cast<uv_stream_t*>(&tcp_->handle), &buffer, 1);
      }
    }
    ERR_clear_error();
  }
  state_ = State::closed;
  release_handles();
}

void Connection::fail(Error error) {
  if (state_ == State::closed) return;
  state_ = State::closed;
  release_handles();
  if (observer_ != nullptr) observer_->on_close(error);
}

void Connection::fail_later(Error error) {
  if (deferred_error_) return;  // the first failure is the one to report
  deferred_error_ = std::move(error);
  deferred_.start(0);
}

void Connection::release_handles() {
  connect_timer_.stop();
  deferred_.stop();
  if (dns_req_ != nullptr) uv_cancel(reinterpret_cast<uv_req_t*>(dns_req_));  // its callback still comes
  // The object goes in the close callback, always a later loop turn: never under a caller's feet.
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_->handle), [](uv_handle_t* handle) {
    auto* tcp = static_cast<Tcp*>(handle->data);
    Connection* self = tcp->owner;
    delete tcp;
    self->tcp_ = nullptr;
    self->maybe_destroy();
  });
}

void Connection::maybe_destroy() {
  if (state_ == State::closed && tcp_ == nullptr && dns_req_ == nullptr) delete this;
}

std::string Connection::alpn_selected() const {
  if (ssl_ == nullptr) return {};
  const unsigned char* protocol = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl_, &protocol, &length);
  return protocol != nullptr ? std::string(reinterpret_cast<const char*>(protocol), length) : std::string();
}

std::string Connection::peer_address() const {
  if (state_ == State::closed || tcp_ == nullptr) return {};
  sockaddr_storage address{};
  int length = sizeof address;
  if (uv_tcp_getpeername(&tcp_->handle, reinterpret_cast<sockaddr*>(&address), &length) != 0) return {};
  return address_text(reinterpret_cast<sockaddr*>(&address));
}

bool Connection::has_buffered_input() const {
  return state_ == State::open && ssl_ != nullptr && (SSL_pending(ssl_) > 0 || BIO_ctrl_pending(tls_in_) > 0);
}

bool Connection::has_unsolicited_input() const {
  if (state_ != State::open) return false;
  if (has_buffered_input()) return true;
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(&tcp_->handle), &fd) != 0) return true;
  char byte;
  ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
  return true;  // a byte nobody asked for, or EOF (n == 0)
}

}  // namespace tidewire::detail::io
