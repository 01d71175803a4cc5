#include "mcp.h"

#include <strings.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "../error.h"
#include "../log.h"
#include "io/pool.h"
#include "proto/http1.h"
#include "proto/jsonrpc.h"
#include "proto/sse_parser.h"

namespace tidewire::detail {
namespace {

using HeaderPairs = std::vector<std::pair<std::string, std::string>>;

// An error answer's body is kept for the report up to this many bytes.
constexpr size_t kErrorBodyPrefix = 4096;
// A session id or protocol version longer than this is not a sane header value.
constexpr size_t kMaxTokenBytes = 1024;

const std::string* find_nocase(const HeaderPairs& headers, const char* name) {
  for (const auto& h : headers)
    if (strcasecmp(h.first.c_str(), name) == 0) return &h.second;
  return nullptr;
}

bool media_type_is(const std::string* content_type, const char* type) {
  if (!content_type) return false;
  const size_t n = strlen(type);
  if (content_type->size() < n || strncasecmp(content_type->c_str(), type, n) != 0) return false;
  const char next = content_type->size() > n ? (*content_type)[n] : '\0';
  return next == '\0' || next == ';' || next == ' ' || next == '\t';
}

// MCP: a session id holds visible ASCII only (0x21..0x7E); the same is asked of a protocol version
// before it goes back in a header.
bool visible_ascii(std::string_view s) {
  if (s.empty() || s.size() > kMaxTokenBytes) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x21 && c <= 0x7e; });
}

}  // namespace

// One HTTP exchange of the session: a POST of one message, the GET stream, or a GET resuming a cut
// POST stream. It moves bytes between an io::Connection and the sans-I/O readers (http1, SSE) and
// leaves every decision to the transport.
class McpTransport::Exchange final : public io::Connection::Observer, private http1::ResponseSink {
 public:
  enum class Mode { none, sse, json, discard, error };

  Exchange(McpTransport& t, Role which, std::string message, std::vector<std::string> ids, std::string resume_from)
      : role(which),
        body(std::move(message)),
        pending_ids(std::move(ids)),
        last_event_id(std::move(resume_from)),
        t_(t),
        reader_(*this),
        sse_(t.sse_max_line_bytes_, t.sse_max_event_bytes_),
        timer_(t.runtime_.loop(), [this] { on_timer(); }),
        delay_(t.runtime_.loop(), [this] { start(); }) {
    if (!last_event_id.empty()) sse_.set_last_event_id(last_event_id);
  }
  ~Exchange() override { abort(); }

  void begin(uint64_t delay_ms) {
    if (delay_ms == 0) return start();
    delay_.start(delay_ms);
  }

  // Ends the exchange without a report.
  void abort() {
    aborted_ = true;
    timer_.stop();
    delay_.stop();
    if (connection_) {
      io::Connection* c = connection_;
      connection_ = nullptr;
      c->close();
    }
  }

  void pause(bool pause) {
    paused_ = pause;
    if (!connection_ || !response_started_) return;
    if (pause) {
      connection_->pause_reading();
      if (mode == Mode::sse) timer_.stop();
    } else {
      connection_->resume_reading();
      arm_read_timeout();
    }
  }

  const Role role;
  const std::string body;  // the POSTed message
  std::vector<std::string> pending_ids;  // JSON-RPC requests whose answer has not come
  // What the POST carries besides requests ("the notification notifications/progress"), for a report
  // that it was lost: those messages have no id to report it by.
  std::string unanswered;
  std::string last_event_id;
  bool initialize = false;        // the POST holds the initialize request
  bool carried_session = false;   // the request carried Mcp-Session-Id
  bool head_seen = false;
  bool progressed = false;        // an event arrived on this exchange
  int attempts = 0;               // resumes in a row without progress
  Mode mode = Mode::none;
  std::optional<int64_t> retry_hint_ms;

 private:
  void start() {
    if (aborted_) return;
    http1::Request request;
    request.method = role == Role::post ? "POST" : "GET";
    request.target = t_.url_.target;
    request.host = t_.url_.authority();
    for (auto& h : t_.headers_for(*this)) request.headers.push_back({std::move(h.first), std::move(h.second)});
    try {
      bytes_ = http1::write_request(request, role == Role::post ? std::optional<std::string_view>(body) : std::nullopt);
    } catch (const Error& e) {
      return finish(e.code(), e.what());
    }
    t_.core_->stats.requests++;
    timer_what_ = "no response headers within connect_timeout_ms=" + std::to_string(t_.connect_timeout_ms_);
    timer_.start(static_cast<uint64_t>(t_.connect_timeout_ms_));
    io::ConnectionPool* pool = t_.runtime_.pool();
    io::Connection* idle = pool ? pool->take(t_.dial_.key) : nullptr;
    if (!idle) return connect_fresh();
    reused_ = true;
    connection_ = idle;
    connection_->set_observer(this);
    send();
  }

  void connect_fresh() {
    reused_ = false;
    connection_ = io::Connection::open(t_.runtime_.loop(), t_.dial_.options, &t_.runtime_.tls_contexts(), this);
  }

  void send() {
    request_sent_ = true;
    if (paused_) connection_->pause_reading();
    connection_->write(bytes_);
  }

  void arm_read_timeout() {
    if (mode != Mode::sse || paused_ || t_.read_timeout_ms_ <= 0) return;
    timer_what_ = "no data for read_timeout_ms=" + std::to_string(t_.read_timeout_ms_);
    timer_.start(static_cast<uint64_t>(t_.read_timeout_ms_));
  }

  void on_open() override {
    t_.core_->stats.connections++;
    if (connection_ && connection_->uses_tls()) t_.core_->stats.tls_handshakes++;
    send();
  }

  void on_data(const char* data, size_t size) override {
    response_started_ = true;
    t_.core_->stats.wire_bytes += size;
    reader_.feed(data, size);
    after_read();
  }

  void on_close(const io::Error& error) override {
    connection_ = nullptr;
    if (aborted_ || done_) return;
    // A parked connection the server had given up on. A GET goes again on a new one; a POST may
    // have reached the server before it closed, so it is not sent twice.
    if (reused_ && !response_started_) {
      if (role != Role::post) {
        reader_.reset();
        request_sent_ = false;
        return connect_fresh();
      }
      return finish(TW_ERR_IO, "a kept-alive connection to " + t_.url_.display() +
                                   " closed before any response byte; the message was not sent again");
    }
    if (request_sent_) {
      reader_.eof();
      if (after_read()) return;
    }
    finish(error_code(error), error.kind == io::ErrorKind::closed_by_peer
                                  ? "connection to " + t_.url_.display() + " closed before the response completed"
                                  : connect_failure_text(t_.url_, error));
  }

  void on_timer() {
    if (connection_) {
      io::Connection* c = connection_;
      connection_ = nullptr;
      c->close();
    }
    if (mode == Mode::error) return end_error();
    finish(TW_ERR_TIMEOUT, t_.url_.display() + ": " + timer_what_);
  }

  // After the reader had bytes: ends the exchange if the response ended or failed. True if it did.
  bool after_read() {
    if (aborted_ || done_) return true;
    if (failure_) {
      auto [code, message] = *failure_;
      if (connection_) {
        io::Connection* c = connection_;
        connection_ = nullptr;
        c->close();
      }
      if (mode == Mode::error) {
        end_error();
      } else {
        finish(code, message);
      }
      return true;
    }
    if (!ended_) return false;
    io::Connection* c = connection_;
    connection_ = nullptr;
    io::ConnectionPool* pool = t_.runtime_.pool();
    if (c) {
      if (pool && keep_alive_ && reader_.complete()) {
        pool->put(t_.dial_.key, c, static_cast<uint64_t>(t_.core_->config.integer("http.idle_timeout_ms")));
      } else {
        c->close();
      }
    }
    if (mode == Mode::error) {
      end_error();
      return true;
    }
    if (mode == Mode::json && !json_.empty()) t_.exchange_payload(*this, json_, "", monotonic_ns());
    if (!aborted_) finish(TW_OK, "");
    return true;
  }

  void end_error() {
    timer_.stop();
    done_ = true;
    t_.exchange_error_status(*this, status_, http1::printable_reason(error_body_, kErrorBodyPrefix), error_hint_);
    t_.retire(*this);
  }

  void finish(tw_err err, const std::string& message) {
    if (done_) return;
    done_ = true;
    timer_.stop();
    if (connection_) {
      io::Connection* c = connection_;
      connection_ = nullptr;
      c->close();
    }
    t_.exchange_done(*this, err, message);
  }

  // http1::ResponseSink
  void on_head(const http1::ResponseHead& head) override {
    if (aborted_) return;
    timer_.stop();
    head_seen = true;
    status_ = head.status;
    HeaderPairs headers;
    headers.reserve(head.headers.size());
    for (const auto& h : head.headers) headers.emplace_back(h.name, h.value);
    if (status_ < 200 || status_ >= 300) {
      mode = Mode::error;
      if (const std::string* retry_after = find_nocase(headers, "retry-after"))
        error_hint_ = parse_retry_after(*retry_after, static_cast<int64_t>(std::time(nullptr)));
      // The error body is waited for no longer than the rest of the exchange.
      timer_what_ = "error body stalled";
      timer_.start(static_cast<uint64_t>(t_.read_timeout_ms_ > 0 ? t_.read_timeout_ms_ : t_.connect_timeout_ms_));
    } else if (media_type_is(find_nocase(headers, "content-type"), "text/event-stream")) {
      mode = Mode::sse;
      sse_.reset_connection();
    } else if (media_type_is(find_nocase(headers, "content-type"), "application/json")) {
      mode = Mode::json;
      timer_what_ = "JSON response body not complete within connect_timeout_ms=" +
                    std::to_string(t_.connect_timeout_ms_);
      timer_.start(static_cast<uint64_t>(t_.connect_timeout_ms_));
    } else {
      mode = Mode::discard;
    }
    t_.exchange_head(*this, status_, headers);
    if (!aborted_) arm_read_timeout();
  }

  void on_body(std::string_view data) override {
    if (aborted_ || done_) return;
    switch (mode) {
      case Mode::sse:
        return on_sse(data);
      case Mode::json:
        if (json_.size() + data.size() > t_.max_message_bytes_) {
          failure_ = {TW_ERR_LIMIT, "a JSON response from " + t_.url_.display() +
                                        " exceeds mcp.max_message_bytes=" + std::to_string(t_.max_message_bytes_)};
          mode = Mode::discard;
          return;
        }
        json_.append(data);
        return;
      case Mode::error:
        error_body_.append(data.substr(0, kErrorBodyPrefix - std::min(kErrorBodyPrefix, error_body_.size())));
        return;
      default:
        return;
    }
  }

  void on_sse(std::string_view data) {
    arm_read_timeout();
    const SseParser::Result result = sse_.feed(data.data(), data.size(), parsed_);
    // The server's reconnection time holds for this stream and the GETs resuming it, capped.
    if (auto retry = sse_.take_retry_ms())
      retry_hint_ms = static_cast<int64_t>(std::min<uint64_t>(*retry, static_cast<uint64_t>(t_.reconnect_max_ms_)));
    const int64_t received_ns = monotonic_ns();
    for (auto& event : parsed_) {
      if (aborted_) break;
      if (!event.id.empty()) last_event_id = event.id;
      progressed = true;
      // A priming event (an id and no data) only sets where a resume starts.
      if (event.data.empty()) continue;
      t_.exchange_payload(*this, event.data, event.id, received_ns);
    }
    parsed_.clear();
    if (result != SseParser::Result::ok && !failure_) {
      const bool line = result == SseParser::Result::line_too_long;
      failure_ = {TW_ERR_LIMIT, (line ? "an SSE line from " : "an SSE event from ") + t_.url_.display() +
                                    (line ? " exceeds sse.max_line_bytes=" + std::to_string(t_.sse_max_line_bytes_)
                                          : " exceeds sse.max_event_bytes=" + std::to_string(t_.sse_max_event_bytes_))};
    }
  }

  void on_end(const http1::ResponseEnd& end) override {
    ended_ = true;
    keep_alive_ = end.keep_alive;
  }
  void on_upgrade(std::string_view) override {
    failure_ = {TW_ERR_PROTOCOL, t_.url_.display() + " answered 101 Switching Protocols to a request that asked for no upgrade"};
  }
  void on_error(const http1::ResponseError& error) override {
    if (ended_) return;  // bytes after a complete response: the connection is not reused (keep_alive off)
    failure_ = {error.code, t_.url_.display() + ": " + error.message};
  }

  McpTransport& t_;
  http1::ResponseReader reader_;
  SseParser sse_;
  std::vector<SseEvent> parsed_;
  Timer timer_;  // connect and response deadline, then the read timeout of an SSE body
  Timer delay_;  // before a resume
  std::string timer_what_;
  std::string bytes_;
  io::Connection* connection_ = nullptr;
  bool reused_ = false;
  bool request_sent_ = false;
  bool response_started_ = false;
  bool paused_ = false;
  bool aborted_ = false;
  bool done_ = false;
  bool ended_ = false;
  bool keep_alive_ = false;
  int status_ = 0;
  std::string json_;
  std::string error_body_;
  std::optional<int64_t> error_hint_;
  std::optional<std::pair<tw_err, std::string>> failure_;
};

namespace {

// Sends DELETE with the session id on a connection of its own and closes it at the first byte of
// the answer (whatever it says: 200, 204, 405) or after the bound. Owns itself, so the stream can
// end at once.
class SessionDelete final : public io::Connection::Observer {
 public:
  static void start(uv_loop_t* loop, const Dial& dial, io::TlsContextCache* contexts, std::string request,
                    uint64_t bound_ms) {
    new SessionDelete(loop, dial, contexts, std::move(request), bound_ms);
  }

 private:
  SessionDelete(uv_loop_t* loop, const Dial& dial, io::TlsContextCache* contexts, std::string request,
                uint64_t bound_ms)
      : request_(std::move(request)), bound_(loop, [this] { done(); }) {
    bound_.start(bound_ms);
    connection_ = io::Connection::open(loop, dial.options, contexts, this);
  }
  void on_open() override { connection_->write(std::move(request_)); }
  void on_data(const char*, size_t) override { done(); }
  void on_close(const io::Error&) override {
    connection_ = nullptr;
    done();
  }
  void done() {
    if (connection_) connection_->close();
    delete this;
  }

  std::string request_;
  io::Connection* connection_ = nullptr;
  Timer bound_;
};

}  // namespace

McpTransport::McpTransport(Runtime& runtime, std::shared_ptr<StreamCore> core)
    : Transport(runtime, std::move(core)),
      url_(Url::parse(core_->config.str("url"))),
      connect_timeout_ms_(core_->config.integer("connect_timeout_ms")),
      read_timeout_ms_(core_->config.integer("read_timeout_ms")),
      max_message_bytes_(static_cast<size_t>(core_->config.integer("mcp.max_message_bytes"))),
      sse_max_line_bytes_(static_cast<size_t>(core_->config.integer("sse.max_line_bytes"))),
      sse_max_event_bytes_(static_cast<size_t>(core_->config.integer("sse.max_event_bytes"))),
      reconnect_max_ms_(core_->config.integer("reconnect.max_ms")),
      listen_enabled_(core_->config.boolean("mcp.listen")),
      reaper_(runtime.loop(), [this] { retired_.clear(); }),
      protocol_version_(core_->config.str("mcp.protocol_version")),
      protocol_version_configured_(!protocol_version_.empty()) {
  dial_ = dial_for(url_, core_->config, /*http11_alpn=*/true);
}

McpTransport::~McpTransport() {
  stop_io();
  retired_.clear();
}

std::vector<std::pair<std::string, std::string>> McpTransport::headers_for(Exchange& ex) {
  HeaderPairs h;
  if (ex.role == Role::post) {
    h.emplace_back("Accept", "application/json, text/event-stream");
    h.emplace_back("Content-Type", "application/json");
  } else {
    h.emplace_back("Accept", "text/event-stream");
    h.emplace_back("Cache-Control", "no-cache");
    if (!ex.last_event_id.empty()) h.emplace_back("Last-Event-ID", ex.last_event_id);
  }
  if (!session_id_.empty()) {
    h.emplace_back("Mcp-Session-Id", session_id_);
    ex.carried_session = true;
  }
  if (!protocol_version_.empty() && !ex.initialize) h.emplace_back("MCP-Protocol-Version", protocol_version_);
  for (auto& c : request_headers(url_, url_)) {
    // The transport's own headers stand; a configured Content-Type or Accept would break the protocol.
    if (find_nocase(h, c.first.c_str())) continue;
    h.push_back(std::move(c));
  }
  return h;
}

void McpTransport::attempt() {
  if (ended()) return;
  held_for_credentials_ = false;
  dispatch();
  if (!initialized_ || !listen_enabled_ || listen_refused_ || listen_) return;
  listen_ = start_exchange(Role::listen, "", {}, listen_last_event_id_, 0);
}

McpTransport::Exchange* McpTransport::start_exchange(Role role, std::string body, std::vector<std::string> ids,
                                                     std::string last_event_id, uint64_t delay_ms) {
  auto ex = std::make_unique<Exchange>(*this, role, std::move(body), std::move(ids), std::move(last_event_id));
  Exchange* raw = ex.get();
  exchanges_.push_back(std::move(ex));
  if (role == Role::post) {
    std::vector<std::string_view> messages;
    if (jsonrpc::split(raw->body, messages)) {
      for (auto m : messages) {
        jsonrpc::Message msg;
        if (!jsonrpc::scan(m, msg)) continue;
        if (msg.is_request()) {
          raw->pending_ids.emplace_back(msg.id);
        } else if (raw->unanswered.empty() && (msg.is_notification() || msg.is_response())) {
          // The application's own method or id, as written (bounded, control bytes escaped).
          raw->unanswered = msg.is_notification() ? "the notification " + http1::printable_reason(msg.method)
                                                  : "the response to id " + http1::printable_reason(msg.id);
        }
        if (msg.method == "initialize") raw->initialize = true;
      }
    }
  }
  if (paused_) raw->pause(true);
  raw->begin(delay_ms);
  return raw;
}

void McpTransport::send_ready() { dispatch(); }

void McpTransport::dispatch() {
  if (ended() || held_for_credentials_ || post_waiting_head_) return;
  // A message leaves the send buffer only when it is posted, so mcp.send_buffer_bytes bounds what
  // a slow server lets pile up (tw_stream_send returns TW_ERR_WOULD_BLOCK past it).
  std::string body;
  if (!outgoing_.empty()) {
    body = std::move(outgoing_.front());
    outgoing_.pop_front();
  } else {
    OutgoingMessage m;
    if (!core_->sends || !core_->sends->pop(m)) return;
    body = std::move(m.payload);
  }
  post_waiting_head_ = start_exchange(Role::post, std::move(body), {}, "", 0);
}

void McpTransport::exchange_head(Exchange& ex, int status, const HeaderPairs& headers) {
  if (status >= 200 && status < 300) {
    if (const std::string* id = find_nocase(headers, "mcp-session-id")) {
      if (!visible_ascii(*id)) {
        return end_with_error(TW_ERR_PROTOCOL, status,
                              url_.display() + " sent an Mcp-Session-Id that is not 1.." +
                                  std::to_string(kMaxTokenBytes) + " visible ASCII characters");
      }
      if (session_id_.empty() || ex.initialize) session_id_ = *id;
    }
    opened();
    if (ex.role != Role::post && ex.mode != Exchange::Mode::sse) {
      ex.abort();
      if (ex.role == Role::listen) {
        listen_ = nullptr;
        retire(ex);
        return refuse_listen(status, url_.display() + " answered the GET stream with HTTP " + std::to_string(status) +
                                         " but not text/event-stream (not opened again)");
      }
      report_lost(ex.pending_ids, TW_ERR_PROTOCOL, status, "cut",
                  url_.display() + " answered a resuming GET with HTTP " + std::to_string(status) +
                      " but not text/event-stream");
      return retire(ex);
    }
  }
  if (ex.role == Role::post && post_waiting_head_ == &ex) {
    post_waiting_head_ = nullptr;
    dispatch();
  }
}

void McpTransport::exchange_payload(Exchange& ex, std::string_view json, const std::string& event_id,
                                    int64_t received_ns) {
  if (ended()) return;
  std::vector<std::string_view> messages;
  if (!jsonrpc::split(json, messages)) {
    return end_with_error(TW_ERR_PROTOCOL, 0,
                          url_.display() + " sent a message that is not a JSON-RPC object or batch");
  }
  for (auto m : messages) {
    jsonrpc::Message msg;
    jsonrpc::scan(m, msg);  // split checked the syntax
    if (msg.is_response()) {
      auto it = std::find(ex.pending_ids.begin(), ex.pending_ids.end(), msg.id);
      if (it != ex.pending_ids.end()) ex.pending_ids.erase(it);
      if (ex.initialize && msg.has_result && !initialized_) {
        if (!protocol_version_configured_ && !msg.protocol_version.empty()) {
          if (!visible_ascii(msg.protocol_version))
            return end_with_error(TW_ERR_PROTOCOL, 0,
                                  url_.display() + " answered initialize with a protocolVersion that cannot be "
                                                   "sent back in the MCP-Protocol-Version header");
          protocol_version_ = std::string(msg.protocol_version);
        }
        initialized_ = true;
      }
    }
    EventPtr e = new_message(m, received_ns);
    e->id = event_id;
    e->type = std::string(msg.method);
    batch_.push_back(std::move(e));
  }
  const bool pause = deliver(batch_);
  if (pause) pause_all(true);
  // The GET stream is for after initialization (the session exists then).
  if (initialized_ && !listen_ && !listen_refused_ && listen_enabled_) attempt();
}

void McpTransport::exchange_error_status(Exchange& ex, int status, const std::string& body,
                                         std::optional<int64_t> hint_ms) {
  if (ended()) return;
  if (ex.role == Role::post && post_waiting_head_ == &ex) post_waiting_head_ = nullptr;
  if (hint_ms) hint_ms = std::min(*hint_ms, reconnect_max_ms_);
  std::string message = url_.display() + " answered HTTP " + std::to_string(status);
  if (!body.empty()) message += ": " + body;
  if (status == 404 && ex.carried_session) return session_expired();
  if (is_auth_failure(status)) {
    // Refused before it was acted on: sent again once new credentials are set (reconnect.on_auth_failure=wait).
    if (ex.role == Role::post) {
      outgoing_.push_front(ex.body);
      held_for_credentials_ = true;
    } else if (ex.role == Role::listen) {
      listen_ = nullptr;
    } else {
      report_lost(ex.pending_ids, TW_ERR_HTTP_STATUS, status, "cut", message);
    }
    return attempt_failed(Verdict::fatal, TW_ERR_HTTP_STATUS, status, message);
  }
  switch (ex.role) {
    case Role::post: {
      EventPtr e = new_event(TW_KIND_ERROR);
      e->error = TW_ERR_HTTP_STATUS;
      e->http_status = status;
      e->type = "http_status";
      e->ends_stream = false;
      e->id = ex.pending_ids.empty() ? "" : ex.pending_ids.front();
      e->data = body;
      core_->stats.errors++;
      core_->queue.push_status(std::move(e));
      dispatch();
      return;
    }
    case Role::listen: {
      listen_ = nullptr;
      if (status == 405) {
        // The server offers no GET stream: nothing to listen to, and nothing wrong.
        listen_refused_ = true;
        log(TW_LOG_INFO, url_.display() + " offers no GET stream (HTTP 405)");
        return;
      }
      if (classify_http_status(status) == Verdict::retry)
        return attempt_failed(Verdict::retry, TW_ERR_HTTP_STATUS, status, message + " (the GET stream)", hint_ms);
      // Any other refusal (servers answer 400 or 404 where the specification asks for 405): no GET
      // stream, said once as an event; requests and their answers go on, as MCP's SDKs do.
      return refuse_listen(status, message + " (the GET stream; not opened again)");
    }
    case Role::resume:
      if (classify_http_status(status) == Verdict::retry) return resume_later(ex, hint_ms, message);
      return report_lost(ex.pending_ids, TW_ERR_HTTP_STATUS, status, "cut",
                         message + " to a GET resuming a cut stream; the answer is lost");
  }
}

void McpTransport::exchange_done(Exchange& ex, tw_err err, const std::string& message) {
  if (ex.role == Role::listen && listen_ == &ex) listen_ = nullptr;
  if (ex.role == Role::post && post_waiting_head_ == &ex) post_waiting_head_ = nullptr;
  retire(ex);
  if (ended()) return;
  // A peer over a limit, breaking the protocol or failing TLS verification will not do better on
  // the next request: the stream ends, as every transport's does.
  if (err != TW_OK && classify_error(err) == Verdict::fatal) return end_with_error(err, 0, message);
  switch (ex.role) {
    case Role::listen: {
      // The server ended or dropped the GET stream: resume where it stopped, after its retry:.
      std::string why = err == TW_OK ? url_.display() + " ended the GET stream" : message;
      listen_last_event_id_ = ex.last_event_id;
      return attempt_failed(err == TW_OK ? Verdict::retry : classify_error(err), err == TW_OK ? TW_ERR_IO : err, 0,
                            why, ex.retry_hint_ms);
    }
    case Role::post:
    case Role::resume:
      if (!ex.head_seen && ex.role == Role::post) {
        report_lost(ex.pending_ids.empty() ? std::vector<std::string>{""} : ex.pending_ids, err, 0, "send_failed",
                    message + "; " + (ex.unanswered.empty() ? "the message" : ex.unanswered) + " was not sent again");
        return dispatch();
      }
      // Answered, or 202 / no body: an answer the server did not put on this response may still
      // come on the GET stream, so nothing is reported lost.
      if (ex.pending_ids.empty() || ex.mode == Exchange::Mode::discard) return dispatch();
      if (ex.mode == Exchange::Mode::sse && !ex.last_event_id.empty()) {
        resume_later(ex, ex.retry_hint_ms,
                     err == TW_OK ? url_.display() + " ended a stream before its answer" : message);
      } else {
        report_lost(ex.pending_ids, err == TW_OK ? TW_ERR_IO : err, 0, "cut",
                    (err == TW_OK ? url_.display() + " ended the response before its answer" : message) +
                        "; no event id to resume from, and the request is not sent again");
      }
      return dispatch();
  }
}

void McpTransport::resume_later(Exchange& ex, std::optional<int64_t> hint_ms, const std::string& why) {
  const int attempts = ex.progressed ? 0 : ex.attempts + 1;
  const int64_t max_attempts = core_->config.integer("reconnect.max_attempts");
  if (max_attempts > 0 && attempts > max_attempts)
    return report_lost(ex.pending_ids, TW_ERR_GAVE_UP, 0, "cut",
                       "gave up resuming after reconnect.max_attempts=" + std::to_string(max_attempts) +
                           " failed attempts; last: " + why);
  int64_t delay;
  if (hint_ms) {
    delay = *hint_ms;
  } else {
    const int64_t initial = core_->config.integer("reconnect.initial_ms");
    const int64_t cap = reconnect_max_ms_;
    delay = initial;
    for (int i = 1; i < attempts && delay < cap; i++) delay *= 2;
    delay = std::min(delay, cap);
  }
  log(TW_LOG_INFO, url_.display() + ": " + why + "; resuming with Last-Event-ID in " + std::to_string(delay) + " ms");
  core_->stats.reconnects++;
  Exchange* next = start_exchange(Role::resume, "", ex.pending_ids, ex.last_event_id, static_cast<uint64_t>(delay));
  next->attempts = attempts;
  next->retry_hint_ms = ex.retry_hint_ms;
}

void McpTransport::report_lost(const std::vector<std::string>& ids, tw_err err, int http_status,
                               const std::string& type, const std::string& message) {
  if (ended()) return;
  core_->stats.errors++;
  for (const auto& id : ids) {
    EventPtr e = new_event(TW_KIND_ERROR);
    e->error = err;
    e->http_status = http_status;
    e->type = type;
    e->ends_stream = false;
    e->id = id;
    e->data = message;
    core_->queue.push_status(std::move(e));
  }
}

void McpTransport::refuse_listen(int http_status, const std::string& message) {
  listen_refused_ = true;
  report_lost({""}, TW_ERR_HTTP_STATUS, http_status, "get_stream", message);
}

void McpTransport::session_expired() {
  end_with_error(TW_ERR_HTTP_STATUS, 404,
                 url_.display() + " answered HTTP 404 to a request with its Mcp-Session-Id: session expired; "
                                  "initialize a new session");
}

void McpTransport::retire(Exchange& ex) {
  ex.abort();
  for (auto it = exchanges_.begin(); it != exchanges_.end(); ++it) {
    if (it->get() != &ex) continue;
    retired_.push_back(std::move(*it));
    exchanges_.erase(it);
    reaper_.start(0);
    return;
  }
}

void McpTransport::pause_all(bool pause) {
  paused_ = pause;
  for (auto& ex : exchanges_) ex->pause(pause);
}

void McpTransport::resume() { pause_all(false); }

void McpTransport::restart() {
  restarting_ = true;
  Transport::restart();
  restarting_ = false;
}

void McpTransport::stop_io() {
  if (restarting_) {
    // tw_stream_restart drops the GET stream (which attempt() opens again); answers in flight stay.
    if (listen_) {
      listen_last_event_id_ = listen_->last_event_id;
      Exchange* ex = listen_;
      listen_ = nullptr;
      retire(*ex);
    }
    return;
  }
  for (auto& ex : exchanges_) {
    ex->abort();
    retired_.push_back(std::move(ex));
  }
  exchanges_.clear();
  post_waiting_head_ = nullptr;
  listen_ = nullptr;
  if (!retired_.empty()) reaper_.start(0);
}

void McpTransport::close() {
  if (!ended() && !session_id_.empty()) {
    http1::Request request;
    request.method = "DELETE";
    request.target = url_.target;
    request.host = url_.authority();
    request.headers.push_back({"Mcp-Session-Id", session_id_});
    if (!protocol_version_.empty()) request.headers.push_back({"MCP-Protocol-Version", protocol_version_});
    for (auto& h : request_headers(url_, url_))
      if (strcasecmp(h.first.c_str(), "Mcp-Session-Id") != 0) request.headers.push_back({h.first, h.second});
    request.headers.push_back({"Connection", "close"});
    try {
      SessionDelete::start(runtime_.loop(), dial_, &runtime_.tls_contexts(), http1::write_request(request, std::nullopt),
                           static_cast<uint64_t>(core_->config.integer("mcp.delete_timeout_ms")));
    } catch (const Error& e) {
      log(TW_LOG_WARN, std::string("mcp: the session could not be ended with DELETE: ") + e.what());
    }
  }
  end_clean();
}

}  // namespace tidewire::detail
