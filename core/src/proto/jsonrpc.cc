#include "jsonrpc.h"

namespace tidewire::detail::jsonrpc {
namespace {

// A recursive-descent reader over RFC 8259 text that only validates and measures; the few members
// MCP needs are picked out by the caller.
class Reader {
 public:
  explicit Reader(std::string_view text) : s_(text) {}

  size_t pos() const { return i_; }
  bool at_end() {
    skip_ws();
    return i_ == s_.size();
  }
  bool peek(char c) {
    skip_ws();
    return i_ < s_.size() && s_[i_] == c;
  }
  bool eat(char c) {
    if (!peek(c)) return false;
    i_++;
    return true;
  }

  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) i_++;
  }

  // A string; `content` receives what is between the quotes (escapes kept).
  bool string(std::string_view* content) {
    skip_ws();
    if (i_ >= s_.size() || s_[i_] != '"') return false;
    const size_t start = ++i_;
    while (i_ < s_.size()) {
      const unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        if (content) *content = s_.substr(start, i_ - start);
        i_++;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        if (++i_ >= s_.size()) return false;
        const char e = s_[i_];
        if (e == 'u') {
          for (int k = 0; k < 4; k++) {
            if (++i_ >= s_.size() || !is_hex(s_[i_])) return false;
          }
        } else if (!(e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't')) {
          return false;
        }
      }
      i_++;
    }
    return false;
  }

  // Any value; `span` receives its text.
  bool value(int depth, std::string_view* span = nullptr) {
    skip_ws();
    if (i_ >= s_.size()) return false;
    const size_t start = i_;
    bool ok;
    switch (s_[i_]) {
      case '"': ok = string(nullptr); break;
      case '{': ok = object(depth + 1, nullptr); break;
      case '[': ok = array(depth + 1, nullptr); break;
      case 't': ok = literal("true"); break;
      case 'f': ok = literal("false"); break;
      case 'n': ok = literal("null"); break;
      default: ok = number(); break;
    }
    if (ok && span) *span = s_.substr(start, i_ - start);
    return ok;
  }

  // An object; `member` (if given) sees each key and reads the value itself (returning false on a
  // syntax error), otherwise values are skipped.
  template <typename F>
  bool object(int depth, F* member) {
    if (depth > kMaxDepth || !eat('{')) return false;
    if (eat('}')) return true;
    for (;;) {
      std::string_view key;
      if (!string(&key) || !eat(':')) return false;
      if (member) {
        if (!(*member)(key, depth)) return false;
      } else if (!value(depth)) {
        return false;
      }
      if (eat(',')) continue;
      return eat('}');
    }
  }
  bool object(int depth, std::nullptr_t) { return object<bool(std::string_view, int)>(depth, nullptr); }

  // An array; `element` (if given) is called with the span of each element.
  template <typename F>
  bool array(int depth, F* element) {
    if (depth > kMaxDepth || !eat('[')) return false;
    if (eat(']')) return true;
    for (;;) {
      std::string_view span;
      if (!value(depth, &span)) return false;
      if (element && !(*element)(span)) return false;
      if (eat(',')) continue;
      return eat(']');
    }
  }
  bool array(int depth, std::nullptr_t) { return array<bool(std::string_view)>(depth, nullptr); }

 private:
  static bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }
  static bool is_digit(char c) { return c >= '0' && c <= '9'; }

  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  bool number() {
    if (i_ < s_.size() && s_[i_] == '-') i_++;
    if (i_ >= s_.size() || !is_digit(s_[i_])) return false;
    if (s_[i_] == '0') {
      i_++;
    } else {
      while (i_ < s_.size() && is_digit(s_[i_])) i_++;
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      if (++i_ >= s_.size() || !is_digit(s_[i_])) return false;
      while (i_ < s_.size() && is_digit(s_[i_])) i_++;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      if (++i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) i_++;
      if (i_ >= s_.size() || !is_digit(s_[i_])) return false;
      while (i_ < s_.size() && is_digit(s_[i_])) i_++;
    }
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

bool scan(std::string_view json, Message& out) {
  out = Message{};
  Reader r(json);
  if (!r.peek('{')) return false;
  auto member = [&](std::string_view key, int depth) -> bool {
    if (key == "id") {
      std::string_view span;
      if (!r.value(depth, &span)) return false;
      if (span != "null") out.id = span;
      return true;
    }
    if (key == "method") {
      if (r.peek('"')) return r.string(&out.method);
      return r.value(depth);
    }
    if (key == "error") {
      out.has_error = true;
      return r.value(depth);
    }
    if (key == "result") {
      out.has_result = true;
      if (!r.peek('{')) return r.value(depth);
      auto inner = [&](std::string_view k, int d) -> bool {
        if (k == "protocolVersion" && r.peek('"')) return r.string(&out.protocol_version);
        return r.value(d);
      };
      return r.object(depth + 1, &inner);
    }
    return r.value(depth);
  };
  return r.object(1, &member) && r.at_end();
}

bool split(std::string_view json, std::vector<std::string_view>& out) {
  Reader r(json);
  if (r.peek('{')) {
    std::string_view span;
    if (!r.value(0, &span) || !r.at_end()) return false;
    out.push_back(span);
    return true;
  }
  if (!r.peek('[')) return false;
  size_t count = 0;
  auto element = [&](std::string_view span) -> bool {
    if (span.empty() || span.front() != '{') return false;
    out.push_back(span);
    count++;
    return true;
  };
  return r.array(1, &element) && count > 0 && r.at_end();
}

}  // namespace tidewire::detail::jsonrpc
