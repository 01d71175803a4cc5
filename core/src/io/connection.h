// One client connection: name lookup (uv_getaddrinfo), TCP (libuv) to each resolved address in
// turn, an optional HTTP CONNECT proxy, optional TLS (OpenSSL through memory BIOs), then bytes both
// ways. It only moves bytes; every protocol decision belongs to proto/.
//
// Threading: everything here, construction included, runs on the one uv loop thread that owns
// `loop`. Nothing is thread-safe.
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "timer.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct bio_st BIO;

namespace tidewire::detail::http1 {
class ResponseReader;
}

namespace tidewire::detail::io {

// Where a failure came from, so the policy can decide (retry, give up, report) without parsing text.
enum class ErrorKind {
  none,
  dns,             // the name did not resolve
  connect,         // TCP connect refused/unreachable on every address (to the proxy, if one is used)
  timeout,         // DNS + TCP + proxy + TLS did not finish within the connect timeout
  proxy,           // the proxy answered CONNECT with a non-2xx status, or with garbage
  tls_handshake,   // TLS failed for a reason other than the certificate (protocol, alert, EOF)
  tls_verify,      // the certificate chain or host name was rejected, or the CA file is unusable
  io,              // a read or write failed on an open connection
  closed_by_peer,  // the peer closed the connection (EOF, or TLS close_notify)
};

const char* error_kind_name(ErrorKind kind);

// The text of a rejected certificate, naming the remedy: tls.ca_file (or a CA file that does not
// hold the issuer), or the host name the certificate is for; tls.verify=false as the last resort.
std::string tls_verify_text(const std::string& host, long verify_result, const std::string& ca_file);

struct Error {
  ErrorKind kind = ErrorKind::none;
  std::string message;  // for people: names the host, the address or OpenSSL's reason
  explicit operator bool() const { return kind != ErrorKind::none; }
};

struct TlsOptions {
  bool enabled = false;
  bool verify = true;        // chain and host name; false only when the user asks for it
  std::string ca_file;       // PEM; when set it REPLACES the system store
  bool alpn_http11 = false;  // offer ALPN "http/1.1"
};

struct ConnectOptions {
  std::string host;    // name or IP literal; an IPv6 literal with or without brackets
  uint16_t port = 0;
  std::string proxy_host;  // HTTP CONNECT proxy; empty: connect directly
  uint16_t proxy_port = 0;
  TlsOptions tls;
  uint64_t connect_timeout_ms = 10000;  // covers DNS, TCP, the proxy's answer and the TLS handshake
};

// SSL_CTX objects, one per (ca_file, verify): loading a CA store is costly, and each context can
// serve any number of connections. Owned by the caller (the runtime); it must outlive only the
// calls to Connection::open that use it: each SSL holds its own reference to its context.
// Loop thread only.
class TlsContextCache {
 public:
  TlsContextCache() = default;
  ~TlsContextCache();
  TlsContextCache(const TlsContextCache&) = delete;
  TlsContextCache& operator=(const TlsContextCache&) = delete;

  // Borrowed pointer, valid while this cache lives; nullptr with `error` (tls_verify) set when the
  // CA file or the system store cannot be loaded.
  SSL_CTX* get(const std::string& ca_file, bool verify, Error* error);
  size_t size() const { return contexts_.size(); }

 private:
  std::map<std::pair<std::string, bool>, SSL_CTX*> contexts_;
};

class Connection {
 public:
  // What the connection reports. The observer is borrowed: it must stay valid while it is attached
  // (set_observer replaces it; after close() or on_close it is never called again). Any method of
  // the connection, close() included, may be called from inside these callbacks.
  class Observer {
   public:
    virtual ~Observer() = default;
    // DNS, TCP, proxy and TLS are done; write() may be used from now on.
    virtual void on_open() = 0;
    // Received bytes (decrypted under TLS), in reads of up to 64 KiB. Valid during the call only.
    virtual void on_data(const char* data, size_t size) = 0;
    // The connection ended on its own (never after the owner's close()). The object is being torn
    // down: after this returns the pointer must not be used again.
    virtual void on_close(const Error& error) = 0;
    // Every byte written so far has left (queued_write_bytes() fell to 0): a sender that held back
    // on a long queue may write again.
    virtual void on_drained() {}
    // Whether on_drained matters to this observer. One that never holds back (it writes one request
    // and waits for the answer) says no, which spares a loop callback after each write that the
    // socket takes whole.
    virtual bool wants_drained() const { return true; }
  };

  // Starts connecting. The returned object is owned by the connection itself and freed once libuv
  // has released its handles, some time after close() or on_close: the caller keeps a raw pointer
  // until then and must not delete it. `contexts` is only used during this call (TLS only) and may
  // be null when options.tls.enabled is false. Failures (a bad CA file included) are reported
  // through on_close from the loop, never from inside open().
  static Connection* open(uv_loop_t* loop, const ConnectOptions& options, TlsContextCache* contexts,
                          Observer* observer);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void set_observer(Observer* observer) { observer_ = observer; }

  // Sends bytes (encrypted first under TLS): what the socket takes at once is written now (when
  // nothing is queued before it), the rest is queued. Returns false, sending nothing, before on_open
  // or after the connection ended. A write failure is reported through on_close, from the loop.
  bool write(std::string data);
  // The same from the caller's buffer, which is copied only if the socket does not take it at once.
  bool write(const char* data, size_t size);
  // Bytes handed to the socket and not yet written: the sender's backpressure signal.
  size_t queued_write_bytes() const { return queued_write_bytes_; }

  // Stops and restarts delivery of on_data. Under TLS, decrypted bytes still buffered when reading
  // is paused are delivered after resume, from the loop (not from inside resume_reading()).
  void pause_reading();
  void resume_reading();
  bool reading_paused() const { return paused_; }

  // Ends the connection: a best-effort TLS close_notify, then the socket is closed. No callback
  // comes after this call. Idempotent; the pointer is invalid once control returns to the loop.
  void close();

  bool is_open() const { return state_ == State::open; }
  bool uses_tls() const { return ssl_ != nullptr; }
  // The ALPN protocol the server chose ("" if none).
  std::string alpn_selected() const;
  // The peer's address as "ip:port" ("[ip]:port" for IPv6); the proxy's when one is used.
  std::string peer_address() const;
  // Whether bytes or an end of stream are waiting on the socket although nobody asked for them (a
  // parked keep-alive connection that the peer has closed or spoken on). Does not consume anything.
  bool has_unsolicited_input() const;
  // The part of has_unsolicited_input() that needs no system call: bytes read from the socket but
  // not yet delivered (TLS records). Does not consume anything.
  bool has_buffered_input() const;

 private:
  enum class State { resolving, connecting, proxy_head, tls_handshake, open, closed };
  struct Tcp;
  struct WriteRequest;
  struct ProxyAnswer;

  Connection(uv_loop_t* loop, ConnectOptions options, Observer* observer);
  ~Connection();

  void start(TlsContextCache* contexts);
  void on_resolved(int status, struct addrinfo* result);
  void try_next_address(bool inside_open = false);
  void on_connected(int status);
  void on_tcp_established();
  void on_read(ssize_t nread, const char* data);
  void handle_proxy_bytes(const char* data, size_t size);
  void enter_tunnel(std::string tunnel_bytes);
  void start_tls();
  void feed_tls(const char* data, size_t size);
  void drive_handshake();
  void drain_tls();
  void deliver_pending();
  void flush_tls_output();
  void send_raw(std::string data);
  ssize_t write_now(const char* data, size_t size);
  bool write_tls(const char* data, size_t size);
  void become_open();
  void fail(Error error);
  void fail_later(Error error);
  void release_handles();
  void maybe_destroy();
  void new_tcp();
  void start_reading();
  // The target's host:port (IPv6 in brackets), as every message names it.
  std::string authority_for_errors() const;
  std::string dial_target() const;

  uv_loop_t* loop_;
  ConnectOptions options_;
  Observer* observer_;
  State state_ = State::resolving;

  Tcp* tcp_ = nullptr;  // the current attempt's handle; null once the last one is closed
  uv_getaddrinfo_t* dns_req_ = nullptr;  // set while the name lookup is outstanding
  std::vector<sockaddr_storage> addresses_;
  size_t next_address_ = 0;
  std::string attempt_errors_;

  Timer connect_timer_;
  Timer deferred_;  // runs work that must not run inside the caller's stack (failures from open(), resume)
  Error deferred_error_;

  // Reads the proxy's answer to CONNECT (proto/http1); exists in state proxy_head only.
  std::unique_ptr<ProxyAnswer> proxy_answer_;
  std::string pending_plain_;  // plain bytes received while paused (only from the proxy's leftover)

  SSL* ssl_ = nullptr;
  BIO* tls_in_ = nullptr;   // network -> SSL (owned by ssl_)
  BIO* tls_out_ = nullptr;  // SSL -> network (owned by ssl_)

  bool paused_ = false;
  size_t queued_write_bytes_ = 0;
  bool delivery_due_ = false;  // bytes buffered while paused: delivered from deferred_
  bool drained_due_ = false;  // a write went out whole at once: on_drained from deferred_
};

}  // namespace tidewire::detail::io
