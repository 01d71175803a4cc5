#include "proto/http1.h"

#include <algorithm>
#include <cctype>

#include "error.h"

namespace tidewire::detail::http1 {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

// RFC 9110 5.6.2: tchar.
bool is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-': case '.':
    case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool is_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return is_tchar(static_cast<unsigned char>(c)); });
}

// Control characters (and space, and DEL) would end or split the request line.
bool is_visible(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u != 0x7f;
  });
}

bool has_line_break_or_nul(std::string_view text) { return text.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos; }

void check_headers(const std::vector<Header>& headers) {
  for (const Header& h : headers) {
    if (!is_token(h.name))
      throw Error(TW_ERR_INVALID_VALUE, "HTTP header name is not a token (RFC 9110 5.6.2)");
    // The value may be a secret (Authorization, API keys): named, never shown.
    if (has_line_break_or_nul(h.value))
      throw Error(TW_ERR_INVALID_VALUE, "HTTP header \"" + h.name + "\": a value cannot contain CR, LF or NUL");
    if (equal_ignoring_case(h.name, "host") || equal_ignoring_case(h.name, "content-length") ||
        equal_ignoring_case(h.name, "transfer-encoding"))
      throw Error(TW_ERR_INVALID_VALUE,
                  "HTTP header \"" + h.name + "\" is written by the request writer itself and cannot be set");
  }
}

void check_head(const Request& request) {
  if (!is_token(request.method))
    throw Error(TW_ERR_INVALID_VALUE, "HTTP request method is not a token (RFC 9110 5.6.2)");
  if (request.target.empty() || request.target[0] != '/' || !is_visible(request.target))
    throw Error(TW_ERR_INVALID_VALUE,
                "HTTP request target must start with '/' and hold no space or control character");
  if (request.host.empty() || !is_visible(request.host))
    throw Error(TW_ERR_INVALID_VALUE, "HTTP Host must be non-empty and hold no space or control character");
  check_headers(request.headers);
}

std::string head_bytes(const Request& request) {
  check_head(request);
  std::string out;
  out.reserve(64 + request.target.size() + request.host.size());
  out.append(request.method).append(" ").append(request.target).append(" HTTP/1.1\r\nHost: ");
  out.append(request.host).append("\r\n");
  for (const Header& h : request.headers) out.append(h.name).append(": ").append(h.value).append("\r\n");
  return out;
}

std::string hex(uint64_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), digits[n & 15]);
    n >>= 4;
  } while (n != 0);
  return out;
}

ResponseReader& reader_of(llhttp_t* parser) { return *static_cast<ResponseReader*>(parser->data); }

}  // namespace

const std::string* find_header(const std::vector<Header>& headers, std::string_view name) {
  for (const Header& h : headers)
    if (equal_ignoring_case(h.name, name)) return &h.value;
  return nullptr;
}

std::string write_request(const Request& request, std::optional<std::string_view> body) {
  std::string out = head_bytes(request);
  if (body) out.append("Content-Length: ").append(std::to_string(body->size())).append("\r\n");
  out.append("\r\n");
  if (body) out.append(*body);
  return out;
}

std::string write_chunked_request_head(const Request& request) {
  return head_bytes(request) + "Transfer-Encoding: chunked\r\n\r\n";
}

std::string write_chunk(std::string_view data) {
  if (data.empty()) return {};
  std::string out = hex(data.size());
  out.append("\r\n").append(data).append("\r\n");
  return out;
}

std::string write_last_chunk() { return "0\r\n\r\n"; }

std::string write_connect_request(std::string_view host, uint16_t port, const std::vector<Header>& headers) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  // The host is not shown: it is refused for holding what could forge the request line or a log line.
  if (host.empty() || !is_visible(host) || host.find_first_of("/?#@[]") != std::string_view::npos)
    throw Error(TW_ERR_INVALID_VALUE,
                "CONNECT host must be non-empty and hold no space, control character or any of / ? # @ [ ]");
  if (port == 0) throw Error(TW_ERR_INVALID_VALUE, "CONNECT port must be 1..65535");
  check_headers(headers);
  // A colon can only be an IPv6 literal's (the port is given apart), which the authority brackets.
  const bool v6 = host.find(':') != std::string_view::npos;
  std::string target;
  target.append(v6 ? "[" : "").append(host).append(v6 ? "]:" : ":").append(std::to_string(port));
  std::string out = "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n";
  for (const Header& h : headers) out.append(h.name).append(": ").append(h.value).append("\r\n");
  out.append("\r\n");
  return out;
}

std::string printable_reason(std::string_view reason, size_t max_bytes) {
  std::string out;
  for (size_t i = 0; i < reason.size() && i < max_bytes; i++) {
    auto c = static_cast<unsigned char>(reason[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (reason.size() > max_bytes) out += "...";
  return out;
}

namespace {

// RFC 9110 section 15's reason phrases for the statuses an error answer usually has.
const char* standard_reason(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "";
  }
}

bool is_separator(char c) { return c == ' ' || c == '\t' || c == ':' || c == '-' || c == '.' || c == '\r' || c == '\n'; }

std::string_view trim_separators(std::string_view text) {
  while (!text.empty() && is_separator(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_separator(text.back())) text.remove_suffix(1);
  return text;
}

}  // namespace

std::string status_text(int status, std::string_view body, size_t max_bytes) {
  const std::string code = std::to_string(status);
  const std::string_view reason = standard_reason(status);
  std::string text = "HTTP " + code;
  if (!reason.empty()) text += " " + std::string(reason);
  std::string_view rest = trim_separators(body);
  if (rest.substr(0, code.size()) == code && (rest.size() == code.size() || is_separator(rest[code.size()])))
    rest = trim_separators(rest.substr(code.size()));
  if (rest.empty() || (!reason.empty() && equal_ignoring_case(rest, reason))) return text;
  return text + ": " + printable_reason(rest, max_bytes);
}

// ---------------------------------------------------------------------------------------------

ResponseReader::ResponseReader(ResponseSink& sink, ResponseLimits limits) : sink_(sink), limits_(limits) {
  llhttp_settings_init(&settings_);
  settings_.on_message_begin = on_message_begin;
  settings_.on_status = on_status;
  settings_.on_header_field = on_header_field;
  settings_.on_header_value = on_header_value;
  settings_.on_header_field_complete = on_header_field_complete;
  settings_.on_header_value_complete = on_header_value_complete;
  settings_.on_headers_complete = on_headers_complete;
  settings_.on_chunk_header = on_chunk_header;
  settings_.on_body = on_body;
  settings_.on_message_complete = on_message_complete;
  reset();
}

void ResponseReader::reset() {
  llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
  parser_.data = this;
  state_ = State::reading;
  head_request_ = false;
  connect_request_ = false;
  bytes_read_ = 0;
  section_ = Section::head;
  section_end_ = limits_.max_header_bytes;
  paused_at_ = Pause::none;
  final_head_done_ = false;
  keep_alive_ = false;
  body_bytes_ = 0;
  pending_error_.reset();
  clear_head();
  end_.keep_alive = false;
  end_.trailers.clear();
  fields_ = &head_.headers;
  last_field_ = Field::none;
}

void ResponseReader::fail(ResponseError::Kind kind, tw_err code, std::string message) {
  state_ = State::failed;
  sink_.on_error(ResponseError{kind, code, std::move(message)});
}

void ResponseReader::fail_from_llhttp(llhttp_errno_t err) {
  if (pending_error_) {
    ResponseError e = std::move(*pending_error_);
    pending_error_.reset();
    return fail(e.kind, e.code, std::move(e.message));
  }
  // llhttp's reasons are fixed texts: they never quote the peer's bytes.
  const char* reason = llhttp_get_error_reason(&parser_);
  fail(ResponseError::Kind::malformed, TW_ERR_PROTOCOL,
       std::string("malformed HTTP response: ") + (reason && *reason ? reason : "parse error") + " (" +
           llhttp_errno_name(err) + ")");
}

void ResponseReader::fail_section_too_long() {
  fail(ResponseError::Kind::limit, TW_ERR_LIMIT,
       std::string("HTTP response ") + (section_ == Section::head ? "head" : "trailers") + " larger than the limit of " +
           std::to_string(limits_.max_header_bytes) + " bytes (max_header_bytes)");
}

// Field by field rather than `= ResponseHead{}`: the vector keeps its storage, so that the responses
// on a kept-alive connection (a poll's 304s) do not each allocate it anew. What it keeps is bounded
// by limits_.max_headers entries (their strings are freed).
void ResponseReader::clear_head() {
  head_.status = 0;
  head_.reason.clear();
  head_.http_minor = 1;
  head_.headers.clear();
}

int ResponseReader::on_message_begin(llhttp_t* parser) {
  ResponseReader& r = reader_of(parser);
  // A 1xx head is read and dropped; the next head starts afresh.
  r.clear_head();
  r.fields_ = &r.head_.headers;
  r.last_field_ = Field::none;
  return 0;
}

// The data callbacks only collect: llhttp never gets more of a head or of trailers than the limit
// allows (see feed()), so what they collect is bounded.
int ResponseReader::on_status(llhttp_t* parser, const char* at, size_t length) {
  reader_of(parser).head_.reason.append(at, length);
  return 0;
}

int ResponseReader::on_header_field(llhttp_t* parser, const char* at, size_t length) {
  ResponseReader& r = reader_of(parser);
  if (r.last_field_ != Field::name) r.fields_->emplace_back();
  r.fields_->back().name.append(at, length);
  r.last_field_ = Field::name;
  return 0;
}

int ResponseReader::on_header_value(llhttp_t* parser, const char* at, size_t length) {
  ResponseReader& r = reader_of(parser);
  r.fields_->back().value.append(at, length);
  r.last_field_ = Field::value;
  return 0;
}

// Checks wait for a whole name: a check on a partial one (the end of a slice) could fire before an
// error llhttp finds later in the same name, and the events would depend on the slicing.
int ResponseReader::on_header_field_complete(llhttp_t* parser) {
  ResponseReader& r = reader_of(parser);
  // llhttp (v8, strict off) lets blanks into a response's field names ("X : v"); RFC 9112 5.1 does
  // not, and a name that one reader trims and another does not is how smuggling starts.
  if (!is_token(r.fields_->back().name)) {
    r.pending_error_ = ResponseError{ResponseError::Kind::malformed, TW_ERR_PROTOCOL,
                                     "malformed HTTP response: a header name is not a token"};
    return -1;
  }
  if (r.fields_->size() > r.limits_.max_headers) {
    r.pending_error_ = ResponseError{ResponseError::Kind::limit, TW_ERR_LIMIT,
                                     std::string("HTTP response ") + (r.final_head_done_ ? "trailers hold" : "head holds") +
                                         " more than the limit of " + std::to_string(r.limits_.max_headers) +
                                         " header fields (max_headers)"};
    return -1;
  }
  return 0;
}

int ResponseReader::on_header_value_complete(llhttp_t* parser) {
  ResponseReader& r = reader_of(parser);
  // RFC 9110 5.5: trailing blanks are not part of the value (llhttp keeps them). An obs-fold has
  // already been read by llhttp as the blank that starts the next line, without its CR LF.
  std::string& value = r.fields_->back().value;
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
  // An empty value has no on_header_value call: the field still ends here, and a following name
  // starts a new field.
  r.last_field_ = Field::value;
  return 0;
}

int ResponseReader::on_headers_complete(llhttp_t* parser) {
  ResponseReader& r = reader_of(parser);
  r.head_.status = llhttp_get_status_code(parser);
  r.head_.http_minor = llhttp_get_http_minor(parser);
  // Paused so that feed() learns exactly where the head ends (the bytes after a 101 head are the
  // new protocol's), and so that the sink's on_head runs outside llhttp.
  r.paused_at_ = Pause::end_of_head;
  return HPE_PAUSED;
}

int ResponseReader::on_chunk_header(llhttp_t* parser) {
  if (parser->content_length != 0) return 0;
  // The last chunk: trailers follow, as bounded as a head; feed() learns where they start.
  reader_of(parser).paused_at_ = Pause::last_chunk;
  return HPE_PAUSED;
}

int ResponseReader::on_body(llhttp_t* parser, const char* at, size_t length) {
  ResponseReader& r = reader_of(parser);
  const uint64_t room = r.limits_.max_body_bytes - r.body_bytes_;
  if (length > room) {
    // Up to the limit exactly, so the bytes delivered do not depend on how the input was sliced.
    if (room > 0) r.sink_.on_body(std::string_view(at, static_cast<size_t>(room)));
    r.body_bytes_ += room;
    r.pending_error_ = ResponseError{ResponseError::Kind::limit, TW_ERR_LIMIT,
                                     "HTTP response body larger than the limit of " +
                                         std::to_string(r.limits_.max_body_bytes) + " bytes (max_body_bytes)"};
    return -1;
  }
  r.body_bytes_ += length;
  r.sink_.on_body(std::string_view(at, length));
  return 0;
}

int ResponseReader::on_message_complete(llhttp_t* parser) {
  ResponseReader& r = reader_of(parser);
  if (!r.final_head_done_) return 0;  // the end of a 1xx: the final response follows
  // Read now: llhttp forgets the message's flags once this callback returns.
  r.keep_alive_ = llhttp_should_keep_alive(parser) != 0;
  r.paused_at_ = Pause::end_of_message;
  return HPE_PAUSED;  // nothing after the response is read as HTTP
}

bool ResponseReader::finish_head(const char* end_of_head, const char* slice_end) {
  const int status = head_.status;
  const bool tunnel = status == 101 || (connect_request_ && status >= 200 && status < 300);
  if (status >= 100 && status < 200 && !tunnel) {
    // 1xx (100 Continue, 103 Early Hints): no body whatever its headers say; skipped. The next
    // head still counts against the same max_header_bytes, so 1xx floods stay bounded.
    parser_.flags |= F_SKIPBODY;
    return true;
  }
  final_head_done_ = true;
  section_ = Section::body;
  section_end_ = UINT64_MAX;
  fields_ = &end_.trailers;
  last_field_ = Field::none;
  if (tunnel) {
    state_ = State::upgraded;
    sink_.on_head(head_);
    sink_.on_upgrade(std::string_view(end_of_head, static_cast<size_t>(slice_end - end_of_head)));
    return false;
  }
  // RFC 9110 6.4.1: these never have content, whatever Content-Length or Transfer-Encoding say.
  if (head_request_ || status == 204 || status == 304) parser_.flags |= F_SKIPBODY;
  sink_.on_head(head_);
  return true;
}

void ResponseReader::finish_message(const char* end_of_message, const char* slice_end) {
  state_ = State::complete;
  end_.keep_alive = keep_alive_;
  sink_.on_end(end_);
  if (end_of_message != slice_end) unsolicited();
}

void ResponseReader::unsolicited() {
  fail(ResponseError::Kind::unsolicited, TW_ERR_PROTOCOL,
       "bytes followed the end of the HTTP response where no request was pipelined; the connection "
       "cannot be reused");
}

size_t ResponseReader::feed(const char* data, size_t size) {
  if (state_ == State::complete && size > 0) unsolicited();
  if (state_ != State::reading) return 0;
  const char* const end = data + size;
  const char* position = data;
  auto offset_of = [&](const char* p) { return bytes_read_ + static_cast<uint64_t>(p - data); };
  // After a pause llhttp runs again even with no byte left: a message without body ends there.
  bool resumed = false;
  while (position != end || resumed) {
    resumed = false;
    // In a head or trailers, llhttp is never given a byte beyond the limit: a section still open
    // when the next byte would cross it is too long, wherever the slices were cut and whatever
    // llhttp would have said of the bytes beyond.
    const uint64_t allowance = section_end_ - offset_of(position);
    if (allowance == 0 && position != end) {
      fail_section_too_long();
      return 0;
    }
    const size_t length = static_cast<size_t>(std::min<uint64_t>(allowance, static_cast<uint64_t>(end - position)));
    const llhttp_errno_t err = llhttp_execute(&parser_, position, length);
    if (err == HPE_OK) {
      position += length;
      continue;
    }
    const Pause pause = paused_at_;
    paused_at_ = Pause::none;
    const char* stop = llhttp_get_error_pos(&parser_);
    if (err == HPE_PAUSED && pause == Pause::end_of_head) {
      if (!finish_head(stop, end)) return state_ == State::upgraded ? static_cast<size_t>(stop - data) : 0;
    } else if (err == HPE_PAUSED && pause == Pause::last_chunk) {
      section_ = Section::trailers;
      section_end_ = offset_of(stop) + limits_.max_header_bytes;
    } else if (err == HPE_PAUSED && pause == Pause::end_of_message) {
      finish_message(stop, end);
      return size;
    } else {
      fail_from_llhttp(err);
      return 0;
    }
    llhttp_resume(&parser_);
    position = stop;
    resumed = true;
  }
  bytes_read_ += size;
  return size;
}

void ResponseReader::eof() {
  if (state_ != State::reading) return;
  if (bytes_read_ == 0)
    return fail(ResponseError::Kind::closed_early, TW_ERR_IO, "the connection closed before the HTTP response began");
  // HPE_OK when only 1xx responses came, HPE_INVALID_EOF_STATE in a head or a delimited body, or
  // HPE_PAUSED from on_message_complete for a body delimited by the close.
  llhttp_finish(&parser_);
  if (paused_at_ == Pause::end_of_message) {
    paused_at_ = Pause::none;
    return finish_message(nullptr, nullptr);
  }
  fail(ResponseError::Kind::cut, TW_ERR_IO,
       std::string("the connection closed before the end of the HTTP response ") +
           (final_head_done_ ? "body" : "head"));
}

// ---------------------------------------------------------------------------------------------

RedirectDecision decide_redirect(int status, const std::vector<Header>& headers, const Url& current, int hop,
                                 int max) {
  const bool redirect_status = status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
  const std::string* location = redirect_status ? find_header(headers, "location") : nullptr;
  if (!location) return {};
  return RedirectDecision{RedirectDecision::Kind::follow, redirect_target(current, *location, hop, max)};
}

}  // namespace tidewire::detail::http1
