// Signature verification on arbitrary deliveries, for every scheme: header parsing, timestamp
// checks, decoding and the payload scan must never crash; a verdict is always 0, 400 or 401 with a
// reason; and a delivery signed properly by the fuzzer's own HMAC always verifies.
#include <cstdlib>
#include <string>
#include <string_view>

#include "transport/webhook_signature.h"

using namespace tidewire::detail;

namespace {

constexpr int64_t kNow = 1700000000;

SignatureSettings settings_for(uint8_t choice) {
  SignatureSettings s;
  s.scheme = static_cast<WebhookScheme>(choice % 7);
  s.keys = {HmacKey("first-secret"), HmacKey(std::string_view("\x00\xff key", 6))};
  s.tolerance_s = (choice & 0x80) ? 0 : 300;
  s.signature_header = "x-signature";
  s.base64 = (choice & 0x40) != 0;
  s.signature_prefix = (choice & 0x20) ? "sha256=" : "";
  s.id_header = "x-id";
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  SignatureSettings settings = settings_for(data[0]);
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  // "name: value" lines, then a blank line, then the body.
  WebhookHeaders headers;
  size_t pos = 0;
  while (pos < input.size()) {
    size_t end = input.find('\n', pos);
    if (end == std::string_view::npos) end = input.size();
    std::string_view line = input.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    headers.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
  }
  std::string_view body = pos < input.size() ? input.substr(pos) : std::string_view();
  WebhookVerdict v = verify_webhook(settings, headers, body, kNow);
  if (v.status != 0 && v.status != 400 && v.status != 401) std::abort();
  if (!v.ok() && v.reason.empty()) std::abort();
  for (const auto& key : settings.keys)
    if (!key.bytes().empty() && v.reason.find(key.bytes()) != std::string::npos) std::abort();  // secrets never leak

  // The same body, signed correctly for the hmac-sha256 scheme, must verify.
  if (settings.scheme == WebhookScheme::hmac_sha256) {
    std::string mac = hmac_sha256(settings.keys[1].bytes(), {body});
    std::string encoded = settings.base64 ? base64_encode(mac) : std::string();
    if (!settings.base64) {
      static const char* hex = "0123456789abcdef";
      for (unsigned char c : mac) {
        encoded += hex[c >> 4];
        encoded += hex[c & 15];
      }
    }
    WebhookHeaders signed_headers = {{"x-signature", settings.signature_prefix + encoded}};
    if (!verify_webhook(settings, signed_headers, body, kNow).ok()) std::abort();
  }
  (void)json_top_level_string(body, "type");
  if (auto decoded = base64_decode(body)) {
    if (base64_decode(base64_encode(*decoded)) != decoded) std::abort();
  }
  (void)hex_decode(body);
  return 0;
}
