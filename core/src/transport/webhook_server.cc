#include "webhook_server.h"

#include <llhttp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

#include <algorithm>
#include <deque>
#include <exception>
#include <limits>
#include <string_view>

#include "../error.h"
#include "../log.h"
#include "../timer.h"

namespace tidewire::detail {
namespace {

constexpr size_t kReadBufferBytes = 64 * 1024;
// A client that pipelines requests without reading the answers stops being read once this much is
// waiting to be written.
constexpr size_t kMaxUnsentBytes = 256 * 1024;
// After a final answer that closes the connection, what the client still sends is read and
// discarded for at most this long, so that closing does not reset the connection before the
// client has read the answer.
constexpr int64_t kLingerMs = 2000;
// A connection refused for being one too many lingers less: a flood must not hold descriptors.
constexpr int64_t kRefusedLingerMs = 250;
// Deferred answers one connection may wait for at once (a client pipelining deliveries faster than
// the handler's store answers); past it, a request is answered 503 at once.
constexpr size_t kMaxDeferred = 32;
// Bytes of a read kept to look back across reads for folded header lines: enough for CRLF and
// some blanks; more blanks than that between a line break and a value are not told apart.
constexpr size_t kTailBytes = 64;
// The answer to nearly every delivery (an acknowledgment on a kept-alive connection): written as
// is, never built.
constexpr std::string_view kAcknowledged = "HTTP/1.1 204 No Content\r\n\r\n";
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

const char* reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return status < 300 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
  }
}

// ASCII only: header names are tokens (llhttp refuses anything else), and a host process's locale
// must not change how one is matched.
std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::string_view trimmed(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// Logs an exception caught on the loop thread as run_contained (log.h) does, in its words. The
// callbacks of every request catch for themselves rather than go through run_contained, whose
// std::function allocated on each of them.
void contained(const char* what, const std::exception_ptr& e) {
  run_contained(what, [&e] { std::rethrow_exception(e); });
}

// The path of an origin-form ("/hooks?x") or absolute-form ("http://h/hooks") request target.
std::string path_of(const std::string& target) {
  std::string path = target;
  size_t scheme = path.find("://");
  if (!path.empty() && path[0] != '/' && scheme != std::string::npos) {
    size_t slash = path.find('/', scheme + 3);
    path = slash == std::string::npos ? "/" : path.substr(slash);
  }
  return path.substr(0, path.find('?'));
}

const std::string* find_header(const WebhookHeaders& headers, const char* name) {
  for (const auto& h : headers)
    if (h.first == name) return &h.second;
  return nullptr;
}

}  // namespace

// One accepted connection. It deletes itself once libuv has closed its handle; until then the
// server may be gone (server_ is then null).
class WebhookServer::Connection {
 public:
  explicit Connection(WebhookServer& server)
      : server_(&server), limits_(server.limits_), timer_(server.loop_, [this] { on_timer(); }) {
    uv_tcp_init(server.loop_, &tcp_);
    tcp_.data = this;
    llhttp_init(&parser_, HTTP_REQUEST, &settings());
    parser_.data = this;
  }

  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp_); }

  void start() {
    uv_tcp_nodelay(&tcp_, 1);
    last_active_ = now();
    arm_timer();
    resume_reading();
  }

  // Answers 503 + Retry-After at once and closes: the server holds webhook.max_connections already.
  void refuse() {
    uv_tcp_nodelay(&tcp_, 1);
    answer({503, {{"Retry-After", std::to_string(limits_.retry_after_s)}},
            "more than webhook.max_connections=" + std::to_string(limits_.max_connections) +
                " connections are open; retry later\n"},
           true, kRefusedLingerMs);
  }

  // Closes at once (unwritten answers are dropped). Safe to call more than once.
  void close() {
    if (closed_) return;
    closed_ = true;
    timer_.stop();
    if (server_) {
      server_->connections_.erase(this);
      server_->refused_.erase(this);
      unlist_held();
      for (const Slot& slot : slots_)
        if (slot.ticket) server_->deferred_.erase(slot.ticket);
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), [](uv_handle_t* h) { delete static_cast<Connection*>(h->data); });
  }

  void detach() { server_ = nullptr; }
  // Taken off the server's list of connections holding answers (by the server itself).
  void unlisted() { listed_ = false; }

  // Writes the answers held back (up to the first deferred one still unknown), then closes if the
  // last said so.
  void release() {
    if (closed_) return;
    for (Slot& slot : slots_)
      if (!slot.ticket) slot.waiting = false;
    drain();
  }

  // The handler's answer to a deferred request.
  void complete(uint64_t ticket, const ServerResponse& r) {
    if (closed_) return;
    for (Slot& slot : slots_) {
      if (slot.ticket != ticket) continue;
      slot.ticket = 0;
      slot.bytes = format(r, slot.close);
      if (server_) server_->handler_.on_answered(r.status);
      slot.waiting = r.hold;
      if (r.hold) list_held();
      break;
    }
    drain();
  }

 private:
  static const llhttp_settings_t& settings() {
    static const llhttp_settings_t s = [] {
      llhttp_settings_t t;
      llhttp_settings_init(&t);
      t.on_message_begin = [](llhttp_t* p) { return guard(p, [&](Connection* c) { return c->on_message_begin(); }); };
      t.on_url = [](llhttp_t* p, const char* at, size_t len) {
        return guard(p, [&](Connection* c) { return c->on_url(at, len); });
      };
      t.on_header_field = [](llhttp_t* p, const char* at, size_t len) {
        return guard(p, [&](Connection* c) { return c->on_header_field(at, len); });
      };
      t.on_header_value = [](llhttp_t* p, const char* at, size_t len) {
        return guard(p, [&](Connection* c) { return c->on_header_value(at, len); });
      };
      t.on_header_value_complete = [](llhttp_t* p) {
        return guard(p, [&](Connection* c) { return c->on_header_value_complete(); });
      };
      t.on_headers_complete = [](llhttp_t* p) {
        return guard(p, [&](Connection* c) { return c->on_headers_complete(); });
      };
      t.on_body = [](llhttp_t* p, const char* at, size_t len) {
        return guard(p, [&](Connection* c) { return c->on_body(at, len); });
      };
      t.on_message_complete = [](llhttp_t* p) {
        return guard(p, [&](Connection* c) { return c->on_message_complete(); });
      };
      return t;
    }();
    return s;
  }
  static Connection* self(llhttp_t* p) { return static_cast<Connection*>(p->data); }

  // An exception escaping a request's handling (e.g. bad_alloc) fails that connection only; it
  // never unwinds through llhttp (C code).
  template <typename F>
  static int guard(llhttp_t* p, F&& body) {
    Connection* c = self(p);
    int result = -1;
    try {
      result = body(c);
    } catch (...) {
      contained("a webhook request", std::current_exception());
      c->failed_ = true;
    }
    return c->failed_ ? -1 : result;
  }

  int64_t now() const { return static_cast<int64_t>(uv_now(tcp_.loop)); }

  // One timer per connection: the idle timeout, shortened to the header deadline while a request
  // head is arriving and to the request deadline while a request is arriving (bytes move the idle
  // timeout, never the deadlines), or the linger time once closing.
  int64_t due() const {
    int64_t at = last_active_ + limits_.idle_timeout_ms;
    if (in_head_) at = std::min(at, head_deadline_);
    if (in_request_) at = std::min(at, request_deadline_);
    return at;
  }

  // The timer is moved only when it must fire sooner than it would: one that fires early finds
  // the connection not due and is set again (on_timer). Moving it on every read and request (a
  // deadline that keeps moving later) cost more than the rest of a request's bookkeeping.
  void arm_timer() {
    if (closing_) return;
    int64_t at = due();
    if (armed_at_ <= at) return;
    start_timer(at);
  }

  void start_timer(int64_t at) {
    armed_at_ = at;
    timer_.start(static_cast<uint64_t>(std::max<int64_t>(0, at - now())));
  }

  void on_timer() {
    armed_at_ = kNever;
    if (!closing_ && now() < due()) return start_timer(due());
    // A request past its deadline is told why; a silent or lingering connection just closes.
    if (!closing_ && in_request_ && now() >= request_deadline_) {
      in_request_ = false;
      answer({408, {},
              "request not complete within webhook.request_timeout_ms=" + std::to_string(limits_.request_timeout_ms) +
                  "\n"},
             true);
      return;
    }
    close();
  }

  void resume_reading() {
    read_paused_ = false;
    uv_read_start(
        stream(),
        [](uv_handle_t* h, size_t, uv_buf_t* buf) {
          auto* c = static_cast<Connection*>(h->data);
          *buf = c->server_ ? uv_buf_init(c->server_->read_buffer_.get(), kReadBufferBytes)
                            : uv_buf_init(nullptr, 0);
        },
        [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
          static_cast<Connection*>(s->data)->on_read(nread, buf);
        });
  }

  void on_read(ssize_t nread, const uv_buf_t* buf) {
    try {
      parse(nread, buf);
    } catch (...) {
      contained("a webhook connection's read", std::current_exception());
      failed_ = true;
    }
    if (failed_) close();
  }

  void parse(ssize_t nread, const uv_buf_t* buf) {
    if (nread == 0) return;
    // End of stream or an error: a request still arriving has no one left to answer.
    if (nread < 0 || !server_) return close();
    if (closing_) return;  // lingering: discard
    last_active_ = now();
    read_begin_ = buf->base;
    llhttp_errno_t err = llhttp_execute(&parser_, buf->base, static_cast<size_t>(nread));
    read_begin_ = nullptr;
    // The end of this read, for looking back across reads (see folded()).
    size_t keep = std::min<size_t>(static_cast<size_t>(nread), kTailBytes);
    previous_tail_.assign(buf->base + nread - keep, keep);
    if (failed_ || closing_ || closed_ || err == HPE_OK) return;
    if (err == HPE_PAUSED_UPGRADE) return linger();
    answer({400, {}, std::string("malformed request: ") + llhttp_get_error_reason(&parser_) + "\n"}, true);
  }

  // Ready for the next request. The body's buffer is kept for it (unless a large body grew it):
  // the handler copies a body it keeps.
  void clear_request() {
    std::string body = std::move(request_.body);
    body.clear();
    if (body.capacity() > kReadBufferBytes) body = std::string();
    request_ = ServerRequest();
    request_.body = std::move(body);
  }

  int count_head(size_t len) {
    head_bytes_ += len;
    if (head_bytes_ <= limits_.max_header_bytes) return 0;
    answer({431, {},
            "request head exceeds webhook.max_header_bytes=" + std::to_string(limits_.max_header_bytes) + "\n"},
           true);
    return -1;
  }

  int on_message_begin() {
    clear_request();
    // Room for a usual delivery's headers at once (they move into its event), rather than growing.
    request_.headers.reserve(8);
    early_.reset();
    field_.clear();
    value_.clear();
    head_bytes_ = 0;
    headers_done_ = false;
    in_head_ = true;
    head_deadline_ = now() + limits_.header_timeout_ms;
    in_request_ = true;
    request_deadline_ = now() + limits_.request_timeout_ms;
    arm_timer();
    return 0;
  }

  int on_url(const char* at, size_t len) {
    request_.target.append(at, len);
    return count_head(len);
  }

  int on_header_field(const char* at, size_t len) {
    field_.append(at, len);
    return count_head(len);
  }

  int on_header_value(const char* at, size_t len) {
    if (folded(at)) {
      answer({400, {}, "malformed request: a header line continued on the next line (obs-fold) is not accepted\n"},
             true);
      return -1;
    }
    value_.append(at, len);
    return count_head(len);
  }

  // Whether header value bytes at `at` begin a continuation line (obs-fold, RFC 9112 §5.2): only
  // blanks between them and a line break. llhttp accepts folding, and reads a folded
  // Content-Length as none, so the body would be taken for the next request: refused instead.
  bool folded(const char* at) const {
    if (!read_begin_) return false;
    const char* p = at;
    while (p > read_begin_ && (p[-1] == ' ' || p[-1] == '\t')) p--;
    if (p > read_begin_) return p[-1] == '\n';
    // Reached the start of this read: go on in the end of the previous one.
    size_t i = previous_tail_.size();
    while (i > 0 && (previous_tail_[i - 1] == ' ' || previous_tail_[i - 1] == '\t')) i--;
    return i > 0 && previous_tail_[i - 1] == '\n';
  }

  int on_header_value_complete() {
    // Trailer fields (after a chunked body) count against the limit but are not request headers.
    if (!headers_done_) request_.headers.emplace_back(lower(field_), trimmed(value_));
    field_.clear();
    value_.clear();
    return count_head(4);  // ": " and CRLF
  }

  int on_headers_complete() {
    in_head_ = false;
    headers_done_ = true;
    request_.method = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
    request_.path = path_of(request_.target);
    bool chunked = (parser_.flags & F_CHUNKED) != 0;
    bool has_body = chunked || parser_.content_length > 0;
    const std::string* expect = find_header(request_.headers, "expect");

    // The server's own refusals first: they are final, where the handler's may be transient (503).
    std::optional<ServerResponse> refusal;
    if (!chunked && parser_.content_length > limits_.max_body_bytes)
      refusal = body_too_large(parser_.content_length);
    else if (expect && lower(*expect) != "100-continue")
      refusal = ServerResponse{417, {}, "only Expect: 100-continue is supported\n"};
    else
      refusal = server_->handler_.on_head(request_);
    if (refusal) {
      // Nothing to skip: answered in order when the (empty) message completes, and the connection
      // stays open. Otherwise answered now, and the body is never read.
      if (!has_body) {
        early_ = std::move(refusal);
        return 0;
      }
      answer(*refusal, true);
      return -1;
    }
    // An HTTP/1.0 client may not understand 100 Continue (RFC 9110 §10.1.1).
    if (expect && has_body && parser_.http_major == 1 && parser_.http_minor >= 1)
      write("HTTP/1.1 100 Continue\r\n\r\n");
    arm_timer();
    return 0;
  }

  ServerResponse body_too_large(uint64_t size) {
    return {413, {},
            "body of " + (size ? std::to_string(size) + " bytes" : std::string("more bytes")) +
                " exceeds webhook.max_body_bytes=" + std::to_string(limits_.max_body_bytes) + "\n"};
  }

  int on_body(const char* at, size_t len) {
    if (request_.body.size() + len > limits_.max_body_bytes) {
      answer(body_too_large(0), true);
      return -1;
    }
    request_.body.append(at, len);
    return 0;
  }

  int on_message_complete() {
    in_request_ = false;
    size_t deferred = 0;
    for (const Slot& slot : slots_) deferred += slot.ticket != 0;
    ServerResponse response;
    if (early_) {
      response = std::move(*early_);
    } else if (deferred >= kMaxDeferred) {
      response = {503, {{"Retry-After", std::to_string(limits_.retry_after_s)}},
                  "too many deliveries waiting on this connection; retry later\n"};
    } else {
      request_.ticket = ++server_->last_ticket_;
      response = server_->handler_.on_request(request_);
    }
    early_.reset();
    clear_request();
    bool keep_alive = llhttp_should_keep_alive(&parser_) && !parser_.upgrade;
    if (keep_alive && parser_.http_minor == 0) response.headers.emplace_back("Connection", "keep-alive");
    answer(response, !keep_alive);
    arm_timer();  // back to the idle timeout between requests
    return keep_alive ? 0 : HPE_PAUSED;
  }

  // Writes a final answer; with `close`, nothing more is read and the connection closes after it.
  // A held answer (and everything after it on this connection) waits for release(); a deferred
  // one (and everything after it) for complete().
  void answer(const ServerResponse& r, bool close, int64_t linger_ms = kLingerMs) {
    if (r.deferred && server_) {
      slots_.push_back({r.ticket, true, close, {}});
      server_->deferred_[r.ticket] = this;
      if (close) {
        closing_ = true;
        linger_ms_ = linger_ms;
      }
      return;
    }
    bool acknowledgment = is_acknowledgment(r, close);
    if (r.hold && server_) {
      slots_.push_back({0, true, close, acknowledgment ? std::string() : format(r, close), acknowledgment});
      list_held();
      server_->handler_.on_answered(r.status);
      if (close) linger(linger_ms);
      return;
    }
    if (server_) server_->handler_.on_answered(r.status);
    if (acknowledgment) {
      write(kAcknowledged);
    } else {
      write(format(r, close));
    }
    if (close) linger(linger_ms);
  }

  // Puts this connection on the server's list of those with answers held back, once.
  void list_held() {
    if (listed_ || !server_) return;
    listed_ = true;
    server_->holding_.push_back(this);
  }

  void unlist_held() {
    if (!listed_) return;
    listed_ = false;
    if (!server_) return;
    auto& held = server_->holding_;
    held.erase(std::remove(held.begin(), held.end(), this), held.end());
  }

  // Whether the answer's bytes are kAcknowledged.
  static bool is_acknowledgment(const ServerResponse& r, bool close) {
    return r.status == 204 && r.headers.empty() && !close;
  }

  static std::string format(const ServerResponse& r, bool close) {
    if (is_acknowledgment(r, close)) return std::string(kAcknowledged);
    std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason_phrase(r.status) + "\r\n";
    for (const auto& h : r.headers) out += h.first + ": " + h.second + "\r\n";
    if (r.status != 204) {
      if (!r.body.empty()) out += "Content-Type: text/plain; charset=utf-8\r\n";
      out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
    }
    if (close) out += "Connection: close\r\n";
    out += "\r\n";
    if (r.status != 204) out += r.body;
    return out;
  }

  // Writes the answers at the front that are known and released, in order; then, if the last
  // answer said so and none is left, lingers.
  void drain() {
    while (!slots_.empty() && !slots_.front().waiting && !closed_) {
      Slot slot = std::move(slots_.front());
      slots_.pop_front();
      send(slot.view());
    }
    if (slots_.empty()) unlist_held();
    if (slots_.empty() && closing_) linger(linger_ms_);
  }

  // Bytes go out in request order: behind answers still waiting, they wait too.
  void write(std::string_view data) {
    if (closed_) return;
    if (!slots_.empty()) {
      Slot& last = slots_.back();
      if (last.waiting) {
        slots_.push_back({0, false, false, std::string(data)});
      } else {
        last.bytes = std::string(last.view()) + std::string(data);
        last.acknowledgment = false;
      }
      return;
    }
    send(data);
  }

  // Writes what the socket takes at once, without a request or a callback (libuv's write queue
  // costs an allocation and re-arms the socket's poll, a system call, per answer); whatever it
  // does not take is queued. Only with nothing queued, so bytes never pass queued ones (as
  // uv_try_write would do it, but with send(): no SIGPIPE, and a shorter way through the kernel).
  void send(std::string_view data) {
    if (closed_) return;
    uv_os_fd_t fd = -1;
    if (uv_stream_get_write_queue_size(stream()) == 0 && uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp_), &fd) == 0) {
      ssize_t n;
      do {
        n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      } while (n < 0 && errno == EINTR);
      if (n == static_cast<ssize_t>(data.size())) return;
      if (n >= 0) {
        data.remove_prefix(static_cast<size_t>(n));
      } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
        return close();  // the peer is gone
      }
    }
    struct Write {
      uv_write_t req;
      std::string data;
    };
    auto* w = new Write{{}, std::string(data)};
    w->req.data = w;
    uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
    int rc = uv_write(&w->req, stream(), &buf, 1, [](uv_write_t* req, int status) {
      auto* c = static_cast<Connection*>(req->handle->data);
      delete static_cast<Write*>(req->data);
      if (status < 0) return c->close();
      if (c->read_paused_ && !c->closed_ && uv_stream_get_write_queue_size(c->stream()) == 0) c->resume_reading();
    });
    if (rc != 0) {
      delete w;
      return close();
    }
    if (!read_paused_ && !closing_ && uv_stream_get_write_queue_size(stream()) > kMaxUnsentBytes) {
      read_paused_ = true;
      uv_read_stop(stream());
    }
  }

  // After the last answer: send FIN once it is written, then drain what the client still sends
  // until it closes too, or linger_ms. With answers held back, nothing more is read and the rest
  // waits for release().
  void linger(int64_t linger_ms = kLingerMs) {
    if (lingering_ || closed_) return;
    closing_ = true;
    linger_ms_ = linger_ms;
    if (!slots_.empty()) return;
    lingering_ = true;
    auto* req = new uv_shutdown_t;
    if (uv_shutdown(req, stream(), [](uv_shutdown_t* r, int) { delete r; }) != 0) {
      delete req;
      return close();
    }
    if (read_paused_) resume_reading();
    start_timer(now() + std::min(linger_ms, limits_.idle_timeout_ms));
  }

  WebhookServer* server_;
  const ServerLimits limits_;
  uv_tcp_t tcp_{};
  llhttp_t parser_{};
  Timer timer_;

  ServerRequest request_;
  std::string field_;
  std::string value_;
  size_t head_bytes_ = 0;
  bool in_head_ = false;
  bool in_request_ = false;  // from a request's first byte to its last
  int64_t request_deadline_ = 0;
  bool headers_done_ = false;
  int64_t head_deadline_ = 0;
  std::optional<ServerResponse> early_;  // a refusal decided at the head, sent when the message ends
  bool read_paused_ = true;
  bool closing_ = false;    // the last answer is decided; nothing more is parsed
  bool lingering_ = false;  // FIN sent (or on its way), draining until the client closes
  bool closed_ = false;
  bool failed_ = false;  // an internal error: the connection is closed
  bool listed_ = false;  // on server_->holding_
  int64_t last_active_ = 0;    // loop time of the last bytes read
  int64_t armed_at_ = kNever;  // loop time the timer fires at
  // Answers not yet on the wire, in request order: held (until release()), deferred (ticket, until
  // complete()), or ready bytes behind one of those.
  struct Slot {
    uint64_t ticket;  // a deferred answer not known yet; 0 otherwise
    bool waiting;     // deferred, or held until release()
    bool close;       // the connection closes after it
    std::string bytes;
    bool acknowledgment = false;  // the bytes are kAcknowledged, not held in `bytes`
    std::string_view view() const { return acknowledgment ? kAcknowledged : std::string_view(bytes); }
  };
  std::deque<Slot> slots_;
  const char* read_begin_ = nullptr;  // the read being parsed
  std::string previous_tail_;        // the last bytes of the previous read
  int64_t linger_ms_ = kLingerMs;
};

WebhookServer::WebhookServer(uv_loop_t* loop, const ServerLimits& limits, Handler& handler)
    : loop_(loop), limits_(limits), handler_(handler), read_buffer_(new char[kReadBufferBytes]) {}

WebhookServer::~WebhookServer() {
  if (listener_)
    uv_close(reinterpret_cast<uv_handle_t*>(listener_), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
  std::unordered_set<Connection*> open;
  open.swap(connections_);
  open.insert(refused_.begin(), refused_.end());
  refused_.clear();
  for (Connection* c : holding_) c->unlisted();
  holding_.clear();
  deferred_.clear();
  for (Connection* c : open) {
    c->detach();
    c->close();
  }
}

bool WebhookServer::complete(uint64_t ticket, const ServerResponse& response) {
  auto it = deferred_.find(ticket);
  if (it == deferred_.end()) return false;
  Connection* c = it->second;
  deferred_.erase(it);
  c->complete(ticket, response);
  return true;
}

void WebhookServer::release_held() {
  // The list is taken whole first: a release may close its connection, which unlists itself.
  releasing_.swap(holding_);
  for (Connection* c : releasing_) c->unlisted();
  for (Connection* c : releasing_) c->release();
  releasing_.clear();
}

int WebhookServer::listen(const std::string& host, int port) {
  std::string ip = host == "localhost" ? "127.0.0.1" : host;
  std::string where = (ip.find(':') != std::string::npos ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
  sockaddr_storage addr{};
  if (uv_ip4_addr(ip.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr)) != 0 &&
      uv_ip6_addr(ip.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr)) != 0)
    throw Error(TW_ERR_INVALID_VALUE, "url: cannot listen on \"" + host +
                                          "\": a webhook listens on an IP address (e.g. 127.0.0.1, 0.0.0.0, ::) "
                                          "or localhost");
  listener_ = new uv_tcp_t;
  uv_tcp_init(loop_, listener_);
  listener_->data = this;
  int rc = uv_tcp_bind(listener_, reinterpret_cast<const sockaddr*>(&addr), 0);
  // Linux reports an address in use at listen(), not at bind().
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(listener_), SOMAXCONN, on_connection);
  if (rc != 0) throw Error(TW_ERR_IO, "url: cannot listen on " + where + ": " + uv_strerror(rc));
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(listener_, reinterpret_cast<sockaddr*>(&bound), &len);
  return ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

void WebhookServer::on_connection(uv_stream_t* listener, int status) {
  auto* self = static_cast<WebhookServer*>(listener->data);
  if (status < 0) {
    log(TW_LOG_WARN, std::string("webhook: accepting a connection failed: ") + uv_strerror(status));
    return;
  }
  run_contained("accepting a webhook connection", [self, listener] {
    auto* c = new Connection(*self);
    if (uv_accept(listener, c->stream()) != 0) return c->close();
    if (self->connections_.size() < self->limits_.max_connections) {
      self->connections_.insert(c);
      return c->start();
    }
    // One too many. Refusals are capped too, past which a connection is closed unanswered.
    if (self->refused_.size() >= self->limits_.max_connections) return c->close();
    self->refused_.insert(c);
    c->refuse();
  });
}

}  // namespace tidewire::detail
