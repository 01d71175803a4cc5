#include "webhook_signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <utility>

#include "../config.h"
#include "../error.h"

namespace tidewire::detail {
namespace {

// SHA-256's block: an HMAC key is padded to it (RFC 2104).
constexpr size_t kBlockBytes = 64;
// Ids and types taken from a payload longer than this are ignored rather than carried.
constexpr size_t kMaxPayloadField = 1024;

const std::pair<const char*, WebhookScheme> kSchemes[] = {
    {"standard", WebhookScheme::standard}, {"svix", WebhookScheme::svix},
    {"github", WebhookScheme::github},     {"stripe", WebhookScheme::stripe},
    {"slack", WebhookScheme::slack},       {"hmac-sha256", WebhookScheme::hmac_sha256},
    {"none", WebhookScheme::none},
};

// Header names of the two schemes that differ only in them.
struct StandardHeaders {
  const char* id;
  const char* timestamp;
  const char* signature;
};
constexpr StandardHeaders kStandardHeaders{"webhook-id", "webhook-timestamp", "webhook-signature"};
constexpr StandardHeaders kSvixHeaders{"svix-id", "svix-timestamp", "svix-signature"};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool is_token(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c);
  });
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); i++)
    if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

WebhookVerdict reject(int status, std::string reason) {
  WebhookVerdict v;
  v.status = status;
  v.reason = std::move(reason);
  return v;
}

// The one value of a header the scheme needs: null, with *error set, when it is missing (or empty)
// or repeated — two values would leave it ambiguous which one was signed.
const std::string* required(const WebhookHeaders& headers, std::string_view name, WebhookVerdict& error) {
  const std::string* found = nullptr;
  for (const auto& h : headers) {
    if (h.first != name) continue;
    if (found) {
      error = reject(400, "repeated " + std::string(name) + " header");
      return nullptr;
    }
    found = &h.second;
  }
  if (!found || found->empty()) {
    error = reject(400, "missing " + std::string(name) + " header");
    return nullptr;
  }
  if (found->find('\0') != std::string::npos) {
    error = reject(400, "malformed " + std::string(name) + " header");
    return nullptr;
  }
  return found;
}

// An optional header that names something (id, type): its first value, or "".
std::string optional_header(const WebhookHeaders& headers, std::string_view name) {
  if (name.empty()) return "";
  for (const auto& h : headers)
    if (h.first == name) return h.second.find('\0') == std::string::npos ? h.second : "";
  return "";
}

std::optional<int64_t> parse_unix_seconds(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

// Reads a timestamp header and applies the tolerance in both directions (a stale timestamp is a
// replay; one from the future would stay valid for longer than the tolerance).
std::optional<WebhookVerdict> check_timestamp(const SignatureSettings& s, std::string_view header,
                                              std::string_view text, int64_t now) {
  std::optional<int64_t> ts = parse_unix_seconds(trim(text));
  if (!ts) return reject(400, "malformed " + std::string(header) + " header (expected unix seconds)");
  if (s.tolerance_s > 0 && (*ts < now - s.tolerance_s || *ts > now + s.tolerance_s)) {
    std::string tolerance = " (webhook.tolerance_s=" + std::to_string(s.tolerance_s) + ")";
    if (*ts < now - s.tolerance_s)
      return reject(401, "timestamp outside tolerance: " + std::to_string(now - *ts) + " s old" + tolerance);
    return reject(401, "timestamp outside tolerance: " + std::to_string(*ts - now) + " s in the future" + tolerance);
  }
  return std::nullopt;
}

bool base64_decode_into(std::string_view text, unsigned char* out, size_t capacity, size_t& written);
bool hex_decode_into(std::string_view text, unsigned char* out, size_t capacity, size_t& written);

// A MAC in base64 or hex: exactly 32 bytes once decoded, or nullopt.
std::optional<Mac> base64_mac(std::string_view text) {
  Mac mac;
  size_t n = 0;
  if (!base64_decode_into(text, mac.data(), mac.size(), n) || n != mac.size()) return std::nullopt;
  return mac;
}
std::optional<Mac> hex_mac(std::string_view text) {
  Mac mac;
  size_t n = 0;
  if (!hex_decode_into(text, mac.data(), mac.size(), n) || n != mac.size()) return std::nullopt;
  return mac;
}

// A hex-encoded SHA-256 MAC after `prefix`, or nullopt.
std::optional<Mac> hex_mac_after(std::string_view value, std::string_view prefix) {
  value = trim(value);
  if (!starts_with_nocase(value, prefix)) return std::nullopt;
  return hex_mac(value.substr(prefix.size()));
}

// The MACs a signature header offers: the first few kept in place (most headers carry one), any
// more on the heap; a header can carry hundreds.
class Candidates {
 public:
  Candidates() = default;
  explicit Candidates(const Mac& mac) { push(mac); }
  void push(const Mac& mac) {
    if (count_ < first_.size()) {
      first_[count_] = mac;
    } else {
      more_.push_back(mac);
    }
    count_++;
  }
  bool empty() const { return count_ == 0; }
  template <typename F>
  void each(F&& f) const {
    for (size_t i = 0; i < std::min(count_, first_.size()); i++) f(first_[i]);
    for (const Mac& mac : more_) f(mac);
  }

 private:
  std::array<Mac, 4> first_;
  std::vector<Mac> more_;
  size_t count_ = 0;
};

// Whether any candidate is the MAC of `parts` under any key. Every comparison is constant-time.
bool any_match(const std::vector<HmacKey>& keys, const Candidates& candidates,
               std::initializer_list<std::string_view> parts) {
  bool matched = false;
  for (const auto& key : keys) {
    Mac expected = key.mac(parts);
    candidates.each([&](const Mac& c) {
      if (CRYPTO_memcmp(c.data(), expected.data(), expected.size()) == 0) matched = true;
    });
  }
  return matched;
}

std::string payload_field(std::string_view body, std::string_view key) {
  std::optional<std::string> v = json_top_level_string(body, key);
  return v && v->size() <= kMaxPayloadField ? *v : "";
}

WebhookVerdict no_match() { return reject(401, "no signature matched"); }

WebhookVerdict verify_standard(const SignatureSettings& s, const StandardHeaders& names, const WebhookHeaders& headers,
                               std::string_view body, int64_t now) {
  WebhookVerdict error;
  const std::string* id = required(headers, names.id, error);
  if (!id) return error;
  const std::string* ts = required(headers, names.timestamp, error);
  if (!ts) return error;
  const std::string* sig = required(headers, names.signature, error);
  if (!sig) return error;
  if (auto bad = check_timestamp(s, names.timestamp, *ts, now)) return *bad;
  // Space-separated "v1,<base64>" entries; other versions (v1a is asymmetric) are not ours to check.
  Candidates candidates;
  std::string_view rest = *sig;
  while (!rest.empty()) {
    size_t space = rest.find(' ');
    std::string_view entry = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    size_t comma = entry.find(',');
    if (comma == std::string_view::npos || entry.substr(0, comma) != "v1") continue;
    if (std::optional<Mac> mac = base64_mac(entry.substr(comma + 1))) candidates.push(*mac);
  }
  if (candidates.empty())
    return reject(400, std::string("malformed ") + names.signature +
                           " header (expected space-separated v1,<base64> entries)");
  if (!any_match(s.keys, candidates, {*id, ".", trim(*ts), ".", body})) return no_match();
  WebhookVerdict v;
  v.timestamp = parse_unix_seconds(trim(*ts));
  v.id = *id;
  v.type = payload_field(body, "type");
  return v;
}

WebhookVerdict verify_github(const SignatureSettings& s, const WebhookHeaders& headers, std::string_view body) {
  WebhookVerdict error;
  const std::string* sig = required(headers, "x-hub-signature-256", error);
  if (!sig) return error;
  std::optional<Mac> mac = hex_mac_after(*sig, "sha256=");
  if (!mac) return reject(400, "malformed x-hub-signature-256 header (expected sha256=<hex>)");
  if (!any_match(s.keys, Candidates(*mac), {body})) return no_match();
  WebhookVerdict v;
  v.id = optional_header(headers, "x-github-delivery");
  v.type = optional_header(headers, "x-github-event");
  return v;
}

WebhookVerdict verify_stripe(const SignatureSettings& s, const WebhookHeaders& headers, std::string_view body,
                             int64_t now) {
  WebhookVerdict error;
  const std::string* sig = required(headers, "stripe-signature", error);
  if (!sig) return error;
  WebhookVerdict malformed = reject(400, "malformed stripe-signature header (expected t=<timestamp>,v1=<hex>)");
  // Comma-separated key=value items: one t, any number of v1 (several during a secret roll);
  // v0 and unknown items are ignored, as Stripe's own libraries do.
  std::optional<std::string_view> t;
  Candidates candidates;
  std::string_view rest = *sig;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = item.substr(0, eq);
    std::string_view value = item.substr(eq + 1);
    if (key == "t") {
      if (t) return malformed;
      t = value;
    } else if (key == "v1") {
      if (std::optional<Mac> mac = hex_mac(value)) candidates.push(*mac);
    }
  }
  if (!t || candidates.empty()) return malformed;
  if (auto bad = check_timestamp(s, "stripe-signature t=", *t, now)) return *bad;
  if (!any_match(s.keys, candidates, {*t, ".", body})) return no_match();
  WebhookVerdict v;
  v.timestamp = parse_unix_seconds(trim(*t));
  v.id = payload_field(body, "id");
  v.type = payload_field(body, "type");
  return v;
}

WebhookVerdict verify_slack(const SignatureSettings& s, const WebhookHeaders& headers, std::string_view body,
                            int64_t now) {
  WebhookVerdict error;
  const std::string* ts = required(headers, "x-slack-request-timestamp", error);
  if (!ts) return error;
  const std::string* sig = required(headers, "x-slack-signature", error);
  if (!sig) return error;
  if (auto bad = check_timestamp(s, "x-slack-request-timestamp", *ts, now)) return *bad;
  std::optional<Mac> mac = hex_mac_after(*sig, "v0=");
  if (!mac) return reject(400, "malformed x-slack-signature header (expected v0=<hex>)");
  if (!any_match(s.keys, Candidates(*mac), {"v0:", trim(*ts), ":", body})) return no_match();
  WebhookVerdict v;
  v.timestamp = parse_unix_seconds(trim(*ts));
  v.id = payload_field(body, "event_id");
  v.type = payload_field(body, "type");
  return v;
}

WebhookVerdict verify_generic(const SignatureSettings& s, const WebhookHeaders& headers, std::string_view body) {
  WebhookVerdict error;
  const std::string* sig = required(headers, s.signature_header, error);
  if (!sig) return error;
  std::string_view value = trim(*sig);
  std::string expected = s.signature_prefix + (s.base64 ? "<base64>" : "<hex>");
  if (!starts_with_nocase(value, s.signature_prefix))
    return reject(400, "malformed " + s.signature_header + " header (expected " + expected + ")");
  value.remove_prefix(s.signature_prefix.size());
  std::optional<Mac> mac = s.base64 ? base64_mac(value) : hex_mac(value);
  if (!mac)
    return reject(400, "malformed " + s.signature_header + " header (expected " + expected + ")");
  if (!any_match(s.keys, Candidates(*mac), {body})) return no_match();
  WebhookVerdict v;
  v.id = optional_header(headers, s.id_header);
  v.type = payload_field(body, "type");
  return v;
}

// Each byte's value in the base64 alphabet, or -1.
constexpr std::array<int8_t, 256> kBase64Values = [] {
  std::array<int8_t, 256> values{};
  for (auto& v : values) v = -1;
  for (int i = 0; i < 26; i++) {
    values[static_cast<size_t>('A' + i)] = static_cast<int8_t>(i);
    values[static_cast<size_t>('a' + i)] = static_cast<int8_t>(26 + i);
  }
  for (int i = 0; i < 10; i++) values[static_cast<size_t>('0' + i)] = static_cast<int8_t>(52 + i);
  values['+'] = 62;
  values['/'] = 63;
  return values;
}();

int base64_value(char c) { return kBase64Values[static_cast<unsigned char>(c)]; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Just enough JSON to find one member of the top-level object: strings are decoded, every other
// value is skipped by bracket counting. Iterative, bounded by the input.
class JsonScanner {
 public:
  explicit JsonScanner(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  void skip_ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  bool at(char c) {
    skip_ws();
    return p_ < end_ && *p_ == c;
  }
  bool eat(char c) {
    if (!at(c)) return false;
    ++p_;
    return true;
  }

  // A string at the current position; decoded into *out unless out is null.
  bool string(std::string* out) {
    if (!eat('"')) return false;
    while (p_ < end_) {
      char c = *p_++;
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        if (out) *out += c;
        continue;
      }
      if (p_ >= end_) return false;
      char e = *p_++;
      static const char kEscapes[] = "\"\\/bfnrt";
      static const char kDecoded[] = "\"\\/\b\f\n\r\t";
      const char* simple = e ? std::strchr(kEscapes, e) : nullptr;
      if (simple) {
        if (out) *out += kDecoded[simple - kEscapes];
        continue;
      }
      if (e != 'u') return false;
      std::optional<uint32_t> cp = hex4();
      if (!cp) return false;
      // A high surrogate followed by an escaped low one is one code point; any other surrogate is
      // replaced by U+FFFD.
      if (*cp >= 0xD800 && *cp <= 0xDBFF && end_ - p_ >= 6 && p_[0] == '\\' && p_[1] == 'u') {
        const char* save = p_;
        p_ += 2;
        std::optional<uint32_t> low = hex4();
        if (low && *low >= 0xDC00 && *low <= 0xDFFF) {
          *cp = 0x10000 + ((*cp - 0xD800) << 10) + (*low - 0xDC00);
        } else {
          p_ = save;
        }
      }
      if (*cp >= 0xD800 && *cp <= 0xDFFF) *cp = 0xFFFD;
      if (out) append_utf8(*out, *cp);
    }
    return false;
  }

  bool skip_value() {
    skip_ws();
    if (p_ >= end_) return false;
    if (*p_ == '"') return string(nullptr);
    if (*p_ == '{' || *p_ == '[') {
      int depth = 0;
      do {
        if (p_ >= end_) return false;
        if (*p_ == '"') {
          if (!string(nullptr)) return false;
          continue;
        }
        char c = *p_++;
        if (c == '{' || c == '[') depth++;
        if (c == '}' || c == ']') depth--;
      } while (depth > 0);
      return true;
    }
    const char* start = p_;
    while (p_ < end_ && !std::strchr(",}] \t\r\n", *p_)) ++p_;
    return p_ > start;
  }

 private:
  std::optional<uint32_t> hex4() {
    if (end_ - p_ < 4) return std::nullopt;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
      int h = hex_value(*p_++);
      if (h < 0) return std::nullopt;
      v = v * 16 + static_cast<uint32_t>(h);
    }
    return v;
  }

  const char* p_;
  const char* end_;
};

}  // namespace

SignatureSettings SignatureSettings::from_config(const Config& config) {
  SignatureSettings s;
  const std::string& scheme = config.str("webhook.scheme");
  for (const auto& entry : kSchemes)
    if (scheme == entry.first) s.scheme = entry.second;
  s.tolerance_s = config.integer("webhook.tolerance_s");
  s.id_header = lower(config.str("webhook.id_header"));
  if (!s.id_header.empty() && !is_token(s.id_header))
    throw Error(TW_ERR_INVALID_VALUE, "webhook.id_header: \"" + s.id_header + "\" is not a header name");

  std::vector<std::string> secrets = Config::split_list(config.str("webhook.secret"));
  if (s.scheme == WebhookScheme::none) {
    if (!secrets.empty())
      throw Error(TW_ERR_INVALID_VALUE,
                  "webhook.secret is set but webhook.scheme=none ignores it: set webhook.scheme to the "
                  "sender's scheme, or clear webhook.secret to accept unsigned deliveries");
    return s;
  }
  if (secrets.empty())
    throw Error(TW_ERR_INVALID_VALUE, "webhook.secret is required for webhook.scheme=" + scheme +
                                          " (the sender's signing secret; webhook.scheme=none accepts unsigned "
                                          "deliveries)");
  for (size_t i = 0; i < secrets.size(); i++) {
    if (s.scheme != WebhookScheme::standard && s.scheme != WebhookScheme::svix) {
      s.keys.emplace_back(secrets[i]);
      continue;
    }
    // The key is the base64 payload of a whsec_ secret (the prefix is optional, as in the
    // reference libraries).
    std::string_view text = secrets[i];
    if (text.rfind("whsec_", 0) == 0) text.remove_prefix(6);
    std::optional<std::string> key = base64_decode(text);
    if (!key || key->empty())
      throw Error(TW_ERR_INVALID_VALUE, "webhook.secret: secret " + std::to_string(i + 1) + " of " +
                                            std::to_string(secrets.size()) + " is not a whsec_<base64> secret");
    s.keys.emplace_back(*key);
    OPENSSL_cleanse(key->data(), key->size());
  }

  if (s.scheme == WebhookScheme::hmac_sha256) {
    s.signature_header = lower(config.str("webhook.signature_header"));
    if (s.signature_header.empty())
      throw Error(TW_ERR_INVALID_VALUE,
                  "webhook.signature_header is required for webhook.scheme=hmac-sha256 (the request header "
                  "carrying the signature, e.g. X-Signature)");
    if (!is_token(s.signature_header))
      throw Error(TW_ERR_INVALID_VALUE,
                  "webhook.signature_header: \"" + s.signature_header + "\" is not a header name");
    s.base64 = config.str("webhook.signature_encoding") == "base64";
    s.signature_prefix = config.str("webhook.signature_prefix");
  }
  return s;
}

WebhookVerdict verify_webhook(const SignatureSettings& s, const WebhookHeaders& headers, std::string_view body,
                              int64_t now_unix_s) {
  switch (s.scheme) {
    case WebhookScheme::standard: return verify_standard(s, kStandardHeaders, headers, body, now_unix_s);
    case WebhookScheme::svix: return verify_standard(s, kSvixHeaders, headers, body, now_unix_s);
    case WebhookScheme::github: return verify_github(s, headers, body);
    case WebhookScheme::stripe: return verify_stripe(s, headers, body, now_unix_s);
    case WebhookScheme::slack: return verify_slack(s, headers, body, now_unix_s);
    case WebhookScheme::hmac_sha256: return verify_generic(s, headers, body);
    case WebhookScheme::none: break;
  }
  WebhookVerdict v;
  v.id = optional_header(headers, s.id_header);
  v.type = payload_field(body, "type");
  return v;
}

namespace {

// SHA-256, found among OpenSSL's providers once: the lookup costs more than hashing a delivery.
const EVP_MD* sha256() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (!md) throw Error(TW_ERR_INTERNAL, "OpenSSL has no SHA-256 implementation");
  return md;
}

using MdCtx = std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)>;

MdCtx new_md_ctx() {
  MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx) throw Error(TW_ERR_INTERNAL, "HMAC-SHA256 could not be set up (OpenSSL)");
  return ctx;
}

void hmac_failed() { throw Error(TW_ERR_INTERNAL, "HMAC-SHA256 failed (OpenSSL)"); }

}  // namespace

struct HmacKey::Pads {
  MdCtx inner = new_md_ctx();  // SHA-256 after (key XOR ipad)
  MdCtx outer = new_md_ctx();  // SHA-256 after (key XOR opad)
};

HmacKey::HmacKey(std::string_view key) : bytes_(key) {
  // A key longer than a block is hashed first; a shorter one is padded with zeros.
  unsigned char block[kBlockBytes] = {};
  if (key.size() > kBlockBytes) {
    unsigned int len = 0;
    if (!EVP_Digest(key.data(), key.size(), block, &len, sha256(), nullptr)) hmac_failed();
  } else if (!key.empty()) {
    std::memcpy(block, key.data(), key.size());
  }
  auto pads = std::make_shared<Pads>();
  unsigned char pad[kBlockBytes];
  for (auto [ctx, x] : {std::pair{pads->inner.get(), 0x36}, std::pair{pads->outer.get(), 0x5c}}) {
    for (size_t i = 0; i < kBlockBytes; i++) pad[i] = static_cast<unsigned char>(block[i] ^ x);
    if (!EVP_DigestInit_ex(ctx, sha256(), nullptr) || !EVP_DigestUpdate(ctx, pad, sizeof pad)) {
      OPENSSL_cleanse(block, sizeof block);
      OPENSSL_cleanse(pad, sizeof pad);
      throw Error(TW_ERR_INTERNAL, "HMAC-SHA256 could not be set up (OpenSSL)");
    }
  }
  OPENSSL_cleanse(block, sizeof block);
  OPENSSL_cleanse(pad, sizeof pad);
  pads_ = std::move(pads);
}

Mac HmacKey::mac(std::initializer_list<std::string_view> parts) const {
  // One working state per thread, reused: copying a pad's state into it replaces what it held.
  thread_local MdCtx work = new_md_ctx();
  Mac inner;
  Mac out;
  unsigned int len = 0;
  if (!EVP_MD_CTX_copy_ex(work.get(), pads_->inner.get())) hmac_failed();
  for (std::string_view part : parts)
    if (!part.empty() && !EVP_DigestUpdate(work.get(), part.data(), part.size())) hmac_failed();
  if (!EVP_DigestFinal_ex(work.get(), inner.data(), &len) || !EVP_MD_CTX_copy_ex(work.get(), pads_->outer.get()) ||
      !EVP_DigestUpdate(work.get(), inner.data(), inner.size()) || !EVP_DigestFinal_ex(work.get(), out.data(), &len))
    hmac_failed();
  return out;
}

std::string hmac_sha256(std::string_view key, std::initializer_list<std::string_view> parts) {
  Mac mac = HmacKey(key).mac(parts);
  return std::string(reinterpret_cast<const char*>(mac.data()), mac.size());
}

namespace {

// The decoders behind base64_decode and hex_decode, into a caller's buffer (a MAC decodes onto the
// stack): false on a malformed text or one that decodes to more than `capacity` bytes.
bool base64_decode_into(std::string_view text, unsigned char* out, size_t capacity, size_t& written) {
  written = 0;
  size_t padding = 0;
  while (!text.empty() && text.back() == '=' && padding < 2) {
    text.remove_suffix(1);
    padding++;
  }
  if (text.size() % 4 == 1 || (padding && (text.size() + padding) % 4 != 0)) return false;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = base64_value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (written == capacity) return false;
      out[written++] = static_cast<unsigned char>((acc >> bits) & 0xFF);
    }
  }
  return true;
}

bool hex_decode_into(std::string_view text, unsigned char* out, size_t capacity, size_t& written) {
  written = 0;
  if (text.size() % 2 || text.size() / 2 > capacity) return false;
  for (size_t i = 0; i < text.size() / 2; i++) {
    int hi = hex_value(text[2 * i]);
    int lo = hex_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[written++] = static_cast<unsigned char>(hi * 16 + lo);
  }
  return true;
}

}  // namespace

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out(text.size() * 3 / 4 + 3, '\0');
  size_t n = 0;
  if (!base64_decode_into(text, reinterpret_cast<unsigned char*>(&out[0]), out.size(), n)) return std::nullopt;
  out.resize(n);
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(&out[0]), reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> hex_decode(std::string_view text) {
  std::string out(text.size() / 2, '\0');
  size_t n = 0;
  if (!hex_decode_into(text, reinterpret_cast<unsigned char*>(&out[0]), out.size(), n)) return std::nullopt;
  return out;
}

std::optional<std::string> json_top_level_string(std::string_view json, std::string_view key) {
  JsonScanner scan(json);
  if (!scan.eat('{') || scan.at('}')) return std::nullopt;
  for (;;) {
    std::string name;
    if (!scan.string(&name) || !scan.eat(':')) return std::nullopt;
    if (name == key) {
      std::string value;
      if (!scan.at('"') || !scan.string(&value) || value.find('\0') != std::string::npos) return std::nullopt;
      return value;
    }
    if (!scan.skip_value() || !scan.eat(',')) return std::nullopt;
  }
}

}  // namespace tidewire::detail
