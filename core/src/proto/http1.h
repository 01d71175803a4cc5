// HTTP/1.1 for a client, sans I/O: the request writer turns a request into the bytes to write; the
// response reader turns bytes read (in slices of any size) into events; the redirect decision says
// where a 3xx leads. Nothing here touches a socket, so every decision is unit-tested with bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <llhttp.h>

#include "tidewire/tidewire.h"
#include "url.h"

namespace tidewire::detail::http1 {

struct Header {
  std::string name;  // as written or received (case kept)
  std::string value;
};

// The first header named `name` (compared ignoring ASCII case), or nullptr. The pointer is borrowed
// from `headers` and valid while it is unchanged.
const std::string* find_header(const std::vector<Header>& headers, std::string_view name);

// ---------------------------------------------------------------------------------------------
// Request writer

struct Request {
  std::string method = "GET";  // any RFC 7230 token; case kept (methods are case-sensitive)
  std::string target = "/";    // origin-form: path and query
  std::string host;            // the Host header's value: Url::authority()
  // Sent in order after Host. The writer owns the framing: Host, Content-Length and
  // Transfer-Encoding given here are refused (a second one would let a peer read the request
  // differently). HTTP/1.1 keeps the connection open by default; add `Connection: close` to ask
  // otherwise, or `Connection: Upgrade` for a WebSocket handshake.
  std::vector<Header> headers;
};

// The request's bytes. `body` absent: no body and no Content-Length; present (even empty): the body
// follows a Content-Length. Throws Error(TW_ERR_INVALID_VALUE) for a method that is not a token, a
// target with a control character or space, a bad Host, a header name that is not a token or a
// header value with CR, LF or NUL; the message names the header but never shows its value (it may
// hold a secret).
std::string write_request(const Request& request, std::optional<std::string_view> body);

// For an upload whose length is unknown when it starts: the head with `Transfer-Encoding: chunked`
// (same checks as write_request), then any number of write_chunk(), then write_last_chunk().
std::string write_chunked_request_head(const Request& request);
// One chunk; empty `data` gives no bytes at all, since an empty chunk would end the body.
std::string write_chunk(std::string_view data);
// The last chunk and the empty trailer section: the end of the body.
std::string write_last_chunk();

// A CONNECT request asking a proxy for a tunnel to host:port: the authority-form target (RFC 9112
// 3.2.3), IPv6 literals in brackets (given with or without them), the same authority as Host, then
// `headers` (checked as write_request checks them). Throws Error(TW_ERR_INVALID_VALUE) for an empty
// host, a host with a space, a control character or a character that would change the authority's
// meaning ('/', '?', '#', '@', brackets inside), or port 0. Read the answer with a ResponseReader
// after set_connect_request(true).
std::string write_connect_request(std::string_view host, uint16_t port, const std::vector<Header>& headers = {});

// A peer's reason phrase made safe to put into an error text or a log line: printable ASCII kept,
// anything else (control characters, CR/LF, bytes >= 0x7f) as '?', cut to `max_bytes` (then "...").
// A reason phrase is free text from the peer; unfiltered it could forge log lines.
std::string printable_reason(std::string_view reason, size_t max_bytes = 64);

// An error answer as an error text says it, each thing once: "HTTP 404 Not Found", then what the
// body adds ("HTTP 404 Not Found: no such feed"). A body that only restates the status ("404: Not
// Found", "Not Found") adds nothing. The body is peer text: made printable and cut to `max_bytes`.
std::string status_text(int status, std::string_view body, size_t max_bytes = 64);

// ---------------------------------------------------------------------------------------------
// Response reader

struct ResponseHead {
  int status = 0;
  std::string reason;
  int http_minor = 1;  // HTTP/1.<minor>
  std::vector<Header> headers;  // every field line, in order, repeated names kept

  const std::string* find(std::string_view name) const { return find_header(headers, name); }
};

struct ResponseEnd {
  // The connection may carry the next request, as far as this response says
  // (llhttp_should_keep_alive: HTTP/1.1 without `Connection: close`, or HTTP/1.0 with
  // `Connection: keep-alive`; a body that did not end with the connection). An `unsolicited` error
  // after on_end overrules it.
  bool keep_alive = false;
  std::vector<Header> trailers;  // fields after a chunked body, if any
};

struct ResponseError {
  enum class Kind {
    malformed,        // not HTTP/1.x as RFC 9112 and llhttp read it
    limit,            // a limit of ResponseLimits exceeded
    cut,              // the connection closed before the response ended
    closed_early,     // the connection closed before the response's first byte (a stale keep-alive)
    unsolicited,      // bytes after a complete response, where no request was pipelined
  };
  Kind kind = Kind::malformed;
  tw_err code = TW_ERR_PROTOCOL;  // TW_ERR_PROTOCOL, TW_ERR_LIMIT or TW_ERR_IO (cut, closed_early)
  std::string message;             // never shows header values or body bytes
};

struct ResponseLimits {
  size_t max_header_bytes = 64 * 1024;  // the heads' bytes on the wire, 1xx heads included; also
                                        // the trailers' bytes
  size_t max_headers = 100;             // field lines in one head (and in the trailers)
  uint64_t max_body_bytes = UINT64_MAX;  // decoded body bytes (chunk framing not counted)
};

// Receives a reader's events, in order: for a final response, on_head, on_body (any number),
// on_end; for 101 Switching Protocols, on_head then on_upgrade; on_error at most once (possibly after
// on_end, for unsolicited bytes), after which nothing follows. 1xx responses other than 101 produce
// no event. A sink must not call back into the reader that calls it.
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  // `head` is the reader's; valid during the call (copy what is kept).
  virtual void on_head(const ResponseHead& head) = 0;
  // Decoded body bytes pointing into the slice given to feed(): valid during the call only. How the
  // body is cut into calls depends on how the input was sliced; the bytes do not.
  virtual void on_body(std::string_view data) = 0;
  virtual void on_end(const ResponseEnd& end) = 0;
  // After a 101 head: `after_head` is the rest of the fed slice (the new protocol's first bytes,
  // maybe none), pointing into it and valid during the call only.
  virtual void on_upgrade(std::string_view after_head) = 0;
  virtual void on_error(const ResponseError& error) = 0;
};

// One response on a connection, read with llhttp. Not thread-safe; not copyable. Keep-alive: after
// on_end, reset() makes the reader ready for the next response on the same connection. Requests
// are never pipelined, so bytes that follow a complete response (in the same slice or in a later
// feed() without reset()) are an error of kind `unsolicited` after on_end: the connection must then
// be closed, whatever on_end said. (Reported the same way whichever slice they came in, so the
// events never depend on how the input was split.)
class ResponseReader {
 public:
  explicit ResponseReader(ResponseSink& sink, ResponseLimits limits = {});
  ResponseReader(const ResponseReader&) = delete;
  ResponseReader& operator=(const ResponseReader&) = delete;

  // Prepares for the next response: forgets the previous one and any error, keeps sink and limits.
  void reset();
  // The request was HEAD: the response has no body whatever its Content-Length says. Applies to the
  // current response; reset() clears it.
  void set_head_request(bool head) { head_request_ = head; }
  // The request was CONNECT (to a proxy): a 2xx answer ends the HTTP like a 101 does (on_head, then
  // on_upgrade with the tunnel's first bytes). reset() clears it.
  void set_connect_request(bool connect) { connect_request_ = connect; }

  // Reads a slice of the connection's bytes (`data` only needs to live during the call). Returns how
  // many bytes were HTTP: `size`, except at the end of a 101 head (or of a 2xx answer to CONNECT),
  // where the rest of the slice is the new protocol's (also given to on_upgrade). Once upgraded or
  // failed, returns 0 and reads nothing.
  size_t feed(const char* data, size_t size);
  // The connection was closed by the peer: ends an until-close body (on_end), or reports the
  // response as cut (or never begun). Nothing is read after it until reset().
  void eof();

  bool complete() const { return state_ == State::complete; }
  bool upgraded() const { return state_ == State::upgraded; }
  bool failed() const { return state_ == State::failed; }

 private:
  enum class State { reading, complete, upgraded, failed };
  enum class Field { none, name, value };
  enum class Section { head, body, trailers };
  // Where llhttp was paused by a callback, so that feed() acts at an exact position of the slice.
  enum class Pause { none, end_of_head, last_chunk, end_of_message };

  static int on_message_begin(llhttp_t* parser);
  static int on_status(llhttp_t* parser, const char* at, size_t length);
  static int on_header_field(llhttp_t* parser, const char* at, size_t length);
  static int on_header_value(llhttp_t* parser, const char* at, size_t length);
  static int on_header_field_complete(llhttp_t* parser);
  static int on_header_value_complete(llhttp_t* parser);
  static int on_headers_complete(llhttp_t* parser);
  static int on_chunk_header(llhttp_t* parser);
  static int on_body(llhttp_t* parser, const char* at, size_t length);
  static int on_message_complete(llhttp_t* parser);

  void clear_head();  // as a fresh ResponseHead, keeping the storage of its vector
  void fail(ResponseError::Kind kind, tw_err code, std::string message);
  void fail_from_llhttp(llhttp_errno_t err);
  void fail_section_too_long();
  void unsolicited();
  // Returns false when the reader stopped (upgraded) at the end of the head.
  bool finish_head(const char* end_of_head, const char* slice_end);
  void finish_message(const char* end_of_message, const char* slice_end);

  ResponseSink& sink_;
  ResponseLimits limits_;
  llhttp_settings_t settings_;
  llhttp_t parser_;
  State state_ = State::reading;
  bool head_request_ = false;
  bool connect_request_ = false;

  uint64_t bytes_read_ = 0;  // since reset(), before the current slice
  Section section_ = Section::head;
  // The offset (since reset()) the current section must end before: max_header_bytes for the
  // heads (1xx included), the trailers' start + max_header_bytes for trailers; none for a body.
  uint64_t section_end_ = 0;
  Pause paused_at_ = Pause::none;
  bool final_head_done_ = false;  // the head of the final (or 101) response has been read
  bool keep_alive_ = false;
  uint64_t body_bytes_ = 0;
  std::optional<ResponseError> pending_error_;  // set inside a callback, reported after llhttp returns

  ResponseHead head_;
  std::vector<Header>* fields_ = &head_.headers;  // head_.headers, or end_.trailers after the body
  ResponseEnd end_;
  Field last_field_ = Field::none;
};

// ---------------------------------------------------------------------------------------------
// Redirects

struct RedirectDecision {
  enum class Kind { not_redirect, follow };
  Kind kind = Kind::not_redirect;
  Url target;  // for `follow`
};

// Whether a response is a redirect to follow: 301, 302, 303, 307 or 308 with a Location. A redirect
// status without Location is not one (the status stands as it is). Following is decided by
// redirect_target() (url.h), so HTTP and WebSocket share one rule: `hop` counts this redirect (1 for
// the first); throws its Error for a hop beyond `max`, a bad Location, or TLS to clear text.
RedirectDecision decide_redirect(int status, const std::vector<Header>& headers, const Url& current, int hop,
                                 int max);

}  // namespace tidewire::detail::http1
