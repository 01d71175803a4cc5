// Webhook signature schemes: published vectors as published, the others signed here by each
// scheme's documented recipe with OpenSSL's HMAC (independent of the code under test).
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <vector>

#include "config.h"
#include "error.h"
#include "transport/webhook_signature.h"

namespace tidewire::detail {
namespace {

// The Standard Webhooks vector (standard-webhooks/standard-webhooks, libraries' test suites).
const char* const kStdSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const char* const kStdId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const int64_t kStdTimestamp = 1614265330;
const char* const kStdBody = "{\"test\": 2432232314}";
const char* const kStdSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

// GitHub's "Validating webhook deliveries" example.
const char* const kGithubSecret = "It's a Secret to Everybody";
const char* const kGithubBody = "Hello, World!";
const char* const kGithubSignature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

std::string hmac_hex(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &len);
  static const char digits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; i++) {
    hex += digits[mac[i] >> 4];
    hex += digits[mac[i] & 15];
  }
  return hex;
}

std::string hmac_base64(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &len);
  unsigned char out[64];
  int n = EVP_EncodeBlock(out, mac, static_cast<int>(len));
  return std::string(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
}

SignatureSettings settings(std::initializer_list<std::pair<const char*, const char*>> keys) {
  Config c;
  for (const auto& kv : keys) c.set(kv.first, kv.second);
  return SignatureSettings::from_config(c);
}

WebhookHeaders standard_headers(const std::string& signature, int64_t ts = kStdTimestamp,
                                const std::string& id = kStdId) {
  return {{"webhook-id", id}, {"webhook-timestamp", std::to_string(ts)}, {"webhook-signature", signature}};
}

// The message of the Error thrown by from_config for these keys.
std::string config_error(std::initializer_list<std::pair<const char*, const char*>> keys) {
  try {
    settings(keys);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), TW_ERR_INVALID_VALUE);
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

TEST(WebhookStandard, PublishedVectorVerifiesWithTheClockAtItsTimestamp) {
  auto s = settings({{"webhook.secret", kStdSecret}});
  WebhookVerdict v = verify_webhook(s, standard_headers(kStdSignature), kStdBody, kStdTimestamp);
  EXPECT_TRUE(v.ok()) << v.reason;
  EXPECT_EQ(v.id, kStdId);
  EXPECT_EQ(v.type, "");  // the payload has no top-level "type"
}

TEST(WebhookStandard, TimestampIsCheckedInBothDirectionsAtTheTolerance) {
  auto s = settings({{"webhook.secret", kStdSecret}, {"webhook.tolerance_s", "300"}});
  auto h = standard_headers(kStdSignature);
  EXPECT_TRUE(verify_webhook(s, h, kStdBody, kStdTimestamp + 300).ok());
  EXPECT_TRUE(verify_webhook(s, h, kStdBody, kStdTimestamp - 300).ok());
  WebhookVerdict stale = verify_webhook(s, h, kStdBody, kStdTimestamp + 301);
  EXPECT_EQ(stale.status, 401);
  EXPECT_NE(stale.reason.find("timestamp outside tolerance"), std::string::npos) << stale.reason;
  EXPECT_NE(stale.reason.find("301 s old"), std::string::npos) << stale.reason;
  WebhookVerdict future = verify_webhook(s, h, kStdBody, kStdTimestamp - 301);
  EXPECT_EQ(future.status, 401);
  EXPECT_NE(future.reason.find("in the future"), std::string::npos) << future.reason;
}

TEST(WebhookStandard, ZeroToleranceDisablesTheTimestampCheck) {
  auto s = settings({{"webhook.secret", kStdSecret}, {"webhook.tolerance_s", "0"}});
  EXPECT_TRUE(verify_webhook(s, standard_headers(kStdSignature), kStdBody, kStdTimestamp + 10'000'000).ok());
}

TEST(WebhookStandard, SecondSecretOfARotationMatches) {
  auto s = settings({{"webhook.secret", "whsec_c2VjcmV0LW9uZQ==, whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}});
  EXPECT_EQ(s.keys.size(), 2u);
  EXPECT_TRUE(verify_webhook(s, standard_headers(kStdSignature), kStdBody, kStdTimestamp).ok());
}

TEST(WebhookStandard, AnyOfSeveralSignaturesMayMatch) {
  auto s = settings({{"webhook.secret", kStdSecret}});
  std::string header = std::string("v1a,AAAA v1,Zm9vYmFyYmF6 v2,x ") + kStdSignature + " junk";
  EXPECT_TRUE(verify_webhook(s, standard_headers(header), kStdBody, kStdTimestamp).ok());
}

TEST(WebhookStandard, WrongSecretTamperedBodyOrIdMatchNoSignature) {
  auto other = settings({{"webhook.secret", "whsec_c2VjcmV0LW9uZQ=="}});
  WebhookVerdict v = verify_webhook(other, standard_headers(kStdSignature), kStdBody, kStdTimestamp);
  EXPECT_EQ(v.status, 401);
  EXPECT_EQ(v.reason, "no signature matched");
  EXPECT_TRUE(v.id.empty());
  auto s = settings({{"webhook.secret", kStdSecret}});
  EXPECT_EQ(verify_webhook(s, standard_headers(kStdSignature), "{\"test\": 2432232315}", kStdTimestamp).status, 401);
  EXPECT_EQ(verify_webhook(s, standard_headers(kStdSignature, kStdTimestamp, "msg_other"), kStdBody, kStdTimestamp)
                .status,
            401);
}

TEST(WebhookStandard, MissingRepeatedOrMalformedHeadersAre400NamingTheHeader) {
  auto s = settings({{"webhook.secret", kStdSecret}});
  auto without = [&](const char* name) {
    WebhookHeaders h;
    for (auto& kv : standard_headers(kStdSignature))
      if (kv.first != name) h.push_back(kv);
    return verify_webhook(s, h, kStdBody, kStdTimestamp);
  };
  for (const char* name : {"webhook-id", "webhook-timestamp", "webhook-signature"}) {
    WebhookVerdict v = without(name);
    EXPECT_EQ(v.status, 400);
    EXPECT_EQ(v.reason, std::string("missing ") + name + " header");
  }
  auto repeated = standard_headers(kStdSignature);
  repeated.emplace_back("webhook-signature", kStdSignature);
  EXPECT_EQ(verify_webhook(s, repeated, kStdBody, kStdTimestamp).reason, "repeated webhook-signature header");
  WebhookVerdict bad_ts = verify_webhook(
      s, {{"webhook-id", kStdId}, {"webhook-timestamp", "1614265330.5"}, {"webhook-signature", kStdSignature}},
      kStdBody, kStdTimestamp);
  EXPECT_EQ(bad_ts.status, 400);
  EXPECT_NE(bad_ts.reason.find("malformed webhook-timestamp"), std::string::npos);
  for (const char* bad : {"g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "v1,", "v1,!!!!", "v1,AAAA", ","}) {
    WebhookVerdict v = verify_webhook(s, standard_headers(bad), kStdBody, kStdTimestamp);
    EXPECT_EQ(v.status, 400) << bad;
    EXPECT_NE(v.reason.find("malformed webhook-signature header"), std::string::npos) << bad;
  }
}

TEST(WebhookStandard, TypeComesFromThePayloadOnlyAtTopLevel) {
  auto s = settings({{"webhook.secret", kStdSecret}});
  std::string key = *base64_decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  std::string body = R"({"data": {"type": "nested"}, "type": "invoice.paid", "n": [1, {"type": 2}]})";
  std::string ts = std::to_string(kStdTimestamp);
  std::string sig = "v1," + hmac_base64(key, std::string(kStdId) + "." + ts + "." + body);
  WebhookVerdict v = verify_webhook(s, standard_headers(sig), body, kStdTimestamp);
  ASSERT_TRUE(v.ok()) << v.reason;
  EXPECT_EQ(v.type, "invoice.paid");
}

TEST(WebhookSvix, SameSchemeUnderSvixHeaderNames) {
  auto s = settings({{"webhook.scheme", "svix"}, {"webhook.secret", kStdSecret}});
  WebhookHeaders h = {{"svix-id", kStdId},
                      {"svix-timestamp", std::to_string(kStdTimestamp)},
                      {"svix-signature", kStdSignature}};
  WebhookVerdict v = verify_webhook(s, h, kStdBody, kStdTimestamp);
  EXPECT_TRUE(v.ok()) << v.reason;
  EXPECT_EQ(v.id, kStdId);
  EXPECT_EQ(verify_webhook(s, standard_headers(kStdSignature), kStdBody, kStdTimestamp).reason,
            "missing svix-id header");
}

TEST(WebhookGithub, DocsVectorVerifiesAndNamesDeliveryAndEvent) {
  auto s = settings({{"webhook.scheme", "github"}, {"webhook.secret", kGithubSecret}});
  WebhookHeaders h = {{"x-hub-signature-256", kGithubSignature},
                      {"x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
                      {"x-github-event", "push"}};
  WebhookVerdict v = verify_webhook(s, h, kGithubBody, 0);
  EXPECT_TRUE(v.ok()) << v.reason;
  EXPECT_EQ(v.id, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
  EXPECT_EQ(v.type, "push");
}

TEST(WebhookGithub, WrongOrMalformedSignatures) {
  auto s = settings({{"webhook.scheme", "github"}, {"webhook.secret", kGithubSecret}});
  EXPECT_EQ(verify_webhook(s, {{"x-hub-signature-256", kGithubSignature}}, "Hello, World?", 0).status, 401);
  for (const char* bad : {"757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", "sha1=757107ea",
                          "sha256=zz", "sha256=757107ea"}) {
    WebhookVerdict v = verify_webhook(s, {{"x-hub-signature-256", bad}}, kGithubBody, 0);
    EXPECT_EQ(v.status, 400) << bad;
    EXPECT_NE(v.reason.find("malformed x-hub-signature-256"), std::string::npos);
  }
  EXPECT_EQ(verify_webhook(s, {{"x-hub-signature", "sha1=x"}}, kGithubBody, 0).reason,
            "missing x-hub-signature-256 header");
}

TEST(WebhookStripe, SignedPayloadIsTimestampDotBodyUnderTheWholeSecretString) {
  const std::string secret = "whsec_test_secret_4eC39HqLyjWDarjtT1zdp7dc";
  auto s = settings({{"webhook.scheme", "stripe"}, {"webhook.secret", secret.c_str()}});
  std::string body = R"({"id": "evt_1NG8Du2eZvKYlo2CUI79vXWy", "object": "event", "type": "payment_intent.succeeded"})";
  int64_t t = 1700000000;
  std::string sig = hmac_hex(secret, std::to_string(t) + "." + body);
  WebhookHeaders h = {{"stripe-signature", "t=" + std::to_string(t) + ",v1=" + sig + ",v0=6ffbb59b2300aae63f27"}};
  WebhookVerdict v = verify_webhook(s, h, body, t + 10);
  EXPECT_TRUE(v.ok()) << v.reason;
  EXPECT_EQ(v.id, "evt_1NG8Du2eZvKYlo2CUI79vXWy");
  EXPECT_EQ(v.type, "payment_intent.succeeded");
  // A roll: Stripe sends one v1 per active secret.
  WebhookHeaders rolled = {{"stripe-signature", "t=" + std::to_string(t) + ", v1=" + std::string(64, 'a') +
                                                    ", v1=" + sig}};
  EXPECT_TRUE(verify_webhook(s, rolled, body, t).ok());
  EXPECT_EQ(verify_webhook(s, h, body, t + 301).status, 401);
  EXPECT_EQ(verify_webhook(s, h, body, t - 301).status, 401);
  auto decoded_key = settings({{"webhook.scheme", "stripe"}, {"webhook.secret", "whsec_dGVzdA=="}});
  EXPECT_EQ(decoded_key.keys[0].bytes(), "whsec_dGVzdA==");  // never base64-decoded
}

TEST(WebhookStripe, MalformedHeaders) {
  auto s = settings({{"webhook.scheme", "stripe"}, {"webhook.secret", "whsec_x"}});
  std::string v1 = "v1=" + std::string(64, '0');
  for (const std::string& bad : std::vector<std::string>{v1, "t=1700000000", "t=1700000000,v1=abc", "t=x," + v1,
                                                         "t=1700000000,t=1700000000," + v1, "garbage"}) {
    WebhookVerdict v = verify_webhook(s, {{"stripe-signature", bad}}, "{}", 1700000000);
    EXPECT_EQ(v.status, 400) << bad;
  }
  EXPECT_EQ(verify_webhook(s, {}, "{}", 0).reason, "missing stripe-signature header");
}

TEST(WebhookSlack, SignatureIsOverVersionTimestampAndBody) {
  const std::string secret = "8f742231b10e8888abcd99yyyzzz85a5";
  auto s = settings({{"webhook.scheme", "slack"}, {"webhook.secret", secret.c_str()}});
  std::string body = R"({"token":"z","type":"event_callback","event_id":"Ev08MFMKH6","event":{"type":"app_mention"}})";
  std::string ts = "1531420618";
  WebhookHeaders h = {{"x-slack-request-timestamp", ts},
                      {"x-slack-signature", "v0=" + hmac_hex(secret, "v0:" + ts + ":" + body)}};
  WebhookVerdict v = verify_webhook(s, h, body, 1531420618);
  EXPECT_TRUE(v.ok()) << v.reason;
  EXPECT_EQ(v.type, "event_callback");
  EXPECT_EQ(v.id, "Ev08MFMKH6");
  EXPECT_EQ(verify_webhook(s, h, body, 1531420618 + 301).status, 401);
  EXPECT_EQ(verify_webhook(s, h, body + " ", 1531420618).status, 401);
  h[1].second = "v1=" + hmac_hex(secret, "v0:" + ts + ":" + body);
  EXPECT_EQ(verify_webhook(s, h, body, 1531420618).status, 400);
}

TEST(WebhookHmacSha256, PrefixIsRequiredWhenConfiguredAndStrippedIgnoringCase) {
  auto s = settings({{"webhook.scheme", "hmac-sha256"},
                     {"webhook.secret", "s3cret"},
                     {"webhook.signature_header", "X-Signature"},
                     {"webhook.signature_prefix", "sha256="},
                     {"webhook.id_header", "X-Delivery"}});
  std::string body = R"({"type":"order.created"})";
  std::string hex = hmac_hex("s3cret", body);
  WebhookVerdict v = verify_webhook(s, {{"x-signature", "sha256=" + hex}, {"x-delivery", "d-1"}}, body, 0);
  EXPECT_TRUE(v.ok()) << v.reason;
  EXPECT_EQ(v.id, "d-1");
  EXPECT_EQ(v.type, "order.created");
  EXPECT_TRUE(verify_webhook(s, {{"x-signature", "SHA256=" + hex}}, body, 0).ok());
  WebhookVerdict bare = verify_webhook(s, {{"x-signature", hex}}, body, 0);
  EXPECT_EQ(bare.status, 400);
  EXPECT_NE(bare.reason.find("expected sha256=<hex>"), std::string::npos) << bare.reason;
}

TEST(WebhookHmacSha256, Base64EncodingWithoutPrefix) {
  auto s = settings({{"webhook.scheme", "hmac-sha256"},
                     {"webhook.secret", "s3cret"},
                     {"webhook.signature_header", "X-Sig"},
                     {"webhook.signature_encoding", "base64"}});
  std::string body = "payload";
  EXPECT_TRUE(verify_webhook(s, {{"x-sig", hmac_base64("s3cret", body)}}, body, 0).ok());
  EXPECT_EQ(verify_webhook(s, {{"x-sig", hmac_hex("s3cret", body)}}, body, 0).status, 400);
  EXPECT_EQ(verify_webhook(s, {{"x-sig", hmac_base64("other", body)}}, body, 0).status, 401);
}

TEST(WebhookNone, AcceptsUnsignedDeliveriesAndTakesTheIdFromTheConfiguredHeader) {
  auto s = settings({{"webhook.scheme", "none"}, {"webhook.id_header", "X-Id"}});
  WebhookVerdict v = verify_webhook(s, {{"x-id", "42"}}, R"({"type": "t"})", 0);
  EXPECT_TRUE(v.ok());
  EXPECT_EQ(v.id, "42");
  EXPECT_EQ(v.type, "t");
  EXPECT_TRUE(verify_webhook(s, {}, "", 0).ok());  // an empty body is a valid body
}

TEST(WebhookConfig, SecretIsRequiredUnlessSchemeIsNoneAndNeverQuoted) {
  EXPECT_NE(config_error({}).find("webhook.secret is required"), std::string::npos);
  EXPECT_NE(config_error({{"webhook.scheme", "none"}, {"webhook.secret", "x"}}).find("webhook.secret"),
            std::string::npos);
  std::string bad = config_error({{"webhook.secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, whsec_not*base64"}});
  EXPECT_NE(bad.find("secret 2 of 2"), std::string::npos) << bad;
  EXPECT_EQ(bad.find("not*base64"), std::string::npos) << bad;
  EXPECT_EQ(bad.find("MfKQ9r8G"), std::string::npos) << bad;
  EXPECT_NE(config_error({{"webhook.scheme", "hmac-sha256"}, {"webhook.secret", "x"}}).find("webhook.signature_header"),
            std::string::npos);
  EXPECT_NE(config_error({{"webhook.scheme", "hmac-sha256"},
                          {"webhook.secret", "x"},
                          {"webhook.signature_header", "X Sig"}})
                .find("webhook.signature_header"),
            std::string::npos);
}

TEST(WebhookConfig, SecretsAreCommaSeparatedAndKeepInnerSpaces) {
  auto s = settings({{"webhook.scheme", "github"}, {"webhook.secret", " It's a Secret to Everybody ,second "}});
  ASSERT_EQ(s.keys.size(), 2u);
  EXPECT_EQ(s.keys[0].bytes(), kGithubSecret);
  EXPECT_EQ(s.keys[1].bytes(), "second");
  auto unprefixed = settings({{"webhook.secret", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}});
  EXPECT_EQ(unprefixed.keys[0].bytes().size(), 24u);
}

TEST(WebhookJson, FindsTopLevelStringsAndDecodesEscapes) {
  EXPECT_EQ(json_top_level_string(R"({"a":1,"type":"x"})", "type"), "x");
  EXPECT_EQ(json_top_level_string(" {\n\"type\" : \"a\\\"b\\\\c\\/\\n\" } ", "type"), "a\"b\\c/\n");
  EXPECT_EQ(json_top_level_string(R"({"type":"caf\u00e9 \ud83d\ude00"})", "type"), "caf\xC3\xA9 \xF0\x9F\x98\x80");
  EXPECT_EQ(json_top_level_string(R"({"type":"\ud83d"})", "type"), "\xEF\xBF\xBD");
  EXPECT_EQ(json_top_level_string(R"({"o":{"type":"in"},"a":["}",{"x":"]"}],"type":"out"})", "type"), "out");
  EXPECT_EQ(json_top_level_string(R"({"ty\u0070e":"escaped key"})", "type"), "escaped key");
}

TEST(WebhookJson, AnythingElseIsNoValue) {
  for (const char* doc : {"", "[]", "\"type\"", "{}", R"({"type":1})", R"({"type":null})", R"({"type":"a)",
                          R"({"type":"\u0000"})", R"({"type":"a\q"})", R"({"o":{"type":"x"}})", R"({"a":1 "type":"x"})",
                          R"({"a":{"b":[1,2})", "{\"type\":\"a\nb\"}", R"({"a":,"type":"x"})"})
    EXPECT_EQ(json_top_level_string(doc, "type"), std::nullopt) << doc;
}

TEST(WebhookEncoding, Base64AndHexDecodeStrictly) {
  EXPECT_EQ(base64_decode("aGVsbG8="), "hello");
  EXPECT_EQ(base64_decode("aGVsbG8"), "hello");
  EXPECT_EQ(base64_decode(""), "");
  EXPECT_EQ(base64_decode("aGVsbG8=="), std::nullopt);
  EXPECT_EQ(base64_decode("a"), std::nullopt);
  EXPECT_EQ(base64_decode("aG=sbG8"), std::nullopt);
  EXPECT_EQ(base64_decode("aGVs bG8="), std::nullopt);
  EXPECT_EQ(base64_decode("aGVs_G8="), std::nullopt);
  EXPECT_EQ(hex_decode("00fF"), std::string("\x00\xff", 2));
  EXPECT_EQ(hex_decode("0"), std::nullopt);
  EXPECT_EQ(hex_decode("0g"), std::nullopt);
}

TEST(WebhookHmac, MatchesOpenSslOneShotOverConcatenatedParts) {
  std::string mac = hmac_sha256("key", {"The quick brown fox ", "", "jumps over the lazy dog"});
  std::string hex;
  for (unsigned char c : mac) {
    static const char digits[] = "0123456789abcdef";
    hex += digits[c >> 4];
    hex += digits[c & 15];
  }
  // The example of the HMAC article on Wikipedia.
  EXPECT_EQ(hex, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
}

TEST(WebhookHmac, PreparedKeysOfEveryLengthMatchOpenSslAndCanBeReused) {
  // Keys shorter than, as long as and longer than SHA-256's 64-byte block (a longer one is hashed
  // first), empty, and with NUL and high bytes.
  const std::string message = "msg_1.1614265330.{\"test\": 2432232314}";
  for (size_t len : {0, 1, 24, 32, 63, 64, 65, 100, 200}) {
    std::string key;
    for (size_t i = 0; i < len; i++) key += static_cast<char>(i * 37 % 256);
    HmacKey prepared(key);
    EXPECT_EQ(prepared.bytes(), key);
    for (int round = 0; round < 3; round++) {  // the prepared states are not consumed by a MAC
      Mac mac = prepared.mac({"msg_1.", "1614265330", ".", "{\"test\": 2432232314}"});
      std::string hex;
      for (unsigned char c : mac) {
        static const char digits[] = "0123456789abcdef";
        hex += digits[c >> 4];
        hex += digits[c & 15];
      }
      EXPECT_EQ(hex, hmac_hex(key, message)) << "key of " << len << " bytes";
    }
  }
  // Two keys in turn on one thread do not disturb each other.
  HmacKey a("a"), b("b");
  EXPECT_NE(a.mac({"x"}), b.mac({"x"}));
  EXPECT_EQ(a.mac({"x"}), HmacKey("a").mac({"x"}));
}

}  // namespace
}  // namespace tidewire::detail
