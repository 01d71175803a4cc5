// Webhook signature schemes, pure and I/O-free: which headers each scheme reads, what it signs, and
// whether a request's raw body carries a valid signature under one of the configured secrets; then,
// once verified, where the delivery's id and type come from.
//
// verify_webhook() is the one entry point: bytes in, a verdict out. Nothing here parses the body
// before its signature has been checked, and no message ever quotes a secret.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tidewire::detail {

class Config;

// An HMAC-SHA256 MAC.
using Mac = std::array<unsigned char, 32>;

// An HMAC-SHA256 key made ready once (RFC 2104): the SHA-256 states after its inner and outer pads
// are kept, so a MAC costs two state copies and the hashing of the message alone; setting a key up
// per MAC (and finding SHA-256 among OpenSSL's providers) cost as much again as the hashing.
// Immutable once made: copies share the states, and any thread may use it, several at once.
class HmacKey {
 public:
  // Throws Error(TW_ERR_INTERNAL) if OpenSSL cannot hash with SHA-256.
  explicit HmacKey(std::string_view key);
  // The key as given.
  const std::string& bytes() const { return bytes_; }
  // The MAC of the concatenated parts. Throws Error(TW_ERR_INTERNAL) if OpenSSL fails.
  Mac mac(std::initializer_list<std::string_view> parts) const;

 private:
  struct Pads;
  std::string bytes_;
  std::shared_ptr<const Pads> pads_;
};

enum class WebhookScheme { standard, svix, github, stripe, slack, hmac_sha256, none };

struct SignatureSettings {
  WebhookScheme scheme = WebhookScheme::standard;
  // HMAC keys, one per configured secret: base64-decoded `whsec_` secrets for standard and svix,
  // the secret's bytes as written for every other scheme.
  std::vector<HmacKey> keys;
  int64_t tolerance_s = 300;      // 0: timestamps are not checked
  // hmac-sha256 only.
  std::string signature_header;   // lower case
  bool base64 = false;            // signature encoding: base64 instead of hex
  std::string signature_prefix;   // required in front of the signature, then stripped ("" = none)
  // hmac-sha256 and none: header carrying the delivery id (lower case, "" = no id).
  std::string id_header;

  // Reads the webhook.* keys. Throws Error(TW_ERR_INVALID_VALUE) naming the key that is missing or
  // wrong; the message never contains a secret.
  static SignatureSettings from_config(const Config& config);
};

// Request headers with lower-case names, as received (a repeated header appears repeatedly).
using WebhookHeaders = std::vector<std::pair<std::string, std::string>>;

struct WebhookVerdict {
  // 0: verified. 400: a header the scheme needs is missing, repeated or malformed.
  // 401: no signature matched, or the timestamp is outside the tolerance.
  int status = 0;
  std::string reason;  // what was wrong, e.g. "missing webhook-signature header"
  std::string id;      // once verified: the delivery id ("" if the scheme gives none)
  std::string type;    // once verified: the event type ("" if none)
  std::optional<int64_t> timestamp;  // once verified: the signed unix time, for schemes that sign one
  bool ok() const { return status == 0; }
};

// Verifies one delivery against `settings` at wall-clock time `now_unix_s` (injectable for tests).
WebhookVerdict verify_webhook(const SignatureSettings& settings, const WebhookHeaders& headers,
                              std::string_view body, int64_t now_unix_s);

// The building blocks, exposed for tests and fuzzers.

// HMAC-SHA256 of the concatenated parts (32 bytes): HmacKey(key).mac(parts).
std::string hmac_sha256(std::string_view key, std::initializer_list<std::string_view> parts);
// Standard base64 (RFC 4648 §4), padding optional; nullopt on any other character or length.
std::optional<std::string> base64_decode(std::string_view text);
std::string base64_encode(std::string_view bytes);
// Hex, either case; nullopt on odd length or a non-hex character.
std::optional<std::string> hex_decode(std::string_view text);
// The value of `key` in a JSON document's top-level object when it is a string (unescaped, UTF-8),
// nullopt if the document is not an object, the key is absent, its value is not a string, or the
// string holds a NUL. A minimal scanner: it never recurses and never reads past `json`.
std::optional<std::string> json_top_level_string(std::string_view json, std::string_view key);

}  // namespace tidewire::detail
