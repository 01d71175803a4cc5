// The texts every binding shows, made once by the core: error categories, the message of a
// stream's failure, unknown keys with suggestions, aliases and a key given twice — over the C ABI.
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "harness.h"

namespace tidewire::test {
namespace {

std::string owned(char* text) {
  std::string copy = text ? text : "";
  tw_free(text);
  return copy;
}

std::string error_message(const tw_event* event) {
  char* text = nullptr;
  EXPECT_EQ(tw_event_error_message(&text, event), TW_OK) << tw_last_error_message();
  return owned(text);
}

size_t occurrences(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

TEST(ErrorCategory, EveryCodeHasOneAndBindingsCanTellConfigFromTheRest) {
  for (int code = TW_ERR_INTERNAL; code <= TW_OK; ++code)
    EXPECT_STRNE(tw_err_category(static_cast<tw_err>(code)), "unknown") << tw_err_name(static_cast<tw_err>(code));
  const std::pair<tw_err, const char*> expected[] = {
      {TW_OK, "ok"},
      {TW_ERR_UNKNOWN_KEY, "config"},
      {TW_ERR_INVALID_VALUE, "config"},
      {TW_ERR_INVALID_ARGUMENT, "usage"},
      {TW_ERR_UNSUPPORTED, "usage"},
      {TW_ERR_CLOSED, "closed"},
      {TW_ERR_IO, "network"},
      {TW_ERR_GAVE_UP, "network"},
      {TW_ERR_HTTP_STATUS, "http"},
      {TW_ERR_PROTOCOL, "protocol"},
      {TW_ERR_TLS, "tls"},
      {TW_ERR_WOULD_BLOCK, "busy"},
  };
  for (const auto& [code, category] : expected) EXPECT_STREQ(tw_err_category(code), category) << tw_err_name(code);
  EXPECT_STREQ(tw_err_category(static_cast<tw_err>(-1000)), "unknown");
}

Settings sse(const std::string& path) {
  return {{"transport", "sse"}, {"url", http_peer().url(path)}, {"reconnect_initial_ms", "10"}};
}

TEST(ErrorMessage, FailureWithAStatusNamesTheCodeAndTheStatusOnce) {
  Runtime rt;
  Stream s(rt.get(), sse("/sse/status?key=" + unique_key() + "&code=401"));
  s.until_end();
  auto failure = s.failure();
  ASSERT_NE(failure, nullptr);
  std::string reason = tw_event_data(failure.get());
  std::string message = error_message(failure.get());
  EXPECT_EQ(message.rfind(reason, 0), 0u) << message;
  EXPECT_NE(message.find("(TW_ERR_HTTP_STATUS"), std::string::npos) << message;
  EXPECT_EQ(occurrences(message, "HTTP 401"), 1u) << message;
  EXPECT_STREQ(tw_err_category(tw_event_error(failure.get())), "http");
}

TEST(ErrorMessage, FailureWithoutAStatusIsTheReasonAndTheCode) {
  Runtime rt;
  Stream s(rt.get(), sse("/sse/wrongtype?key=" + unique_key()));
  s.until_end();
  auto failure = s.failure();
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(error_message(failure.get()), std::string(tw_event_data(failure.get())) + " (TW_ERR_PROTOCOL)");
}

TEST(ErrorMessage, OfAMessageIsItsDataAndNullIsRefused) {
  Runtime rt;
  Settings settings = sse("/sse/raw?key=" + unique_key() + "&body=data%3A%20hi%0A%0A");
  Stream s(rt.get(), settings);
  tw_event* event = nullptr;
  ASSERT_EQ(tw_stream_next(&event, s.get(), kSlackMs), TW_OK) << tw_last_error_message();
  EXPECT_EQ(tw_event_kind(event), TW_KIND_MESSAGE);
  EXPECT_EQ(error_message(event), "hi");
  tw_event_destroy(event);
  char* text = nullptr;
  EXPECT_EQ(tw_event_error_message(&text, nullptr), TW_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(text, nullptr);
}

TEST(SetHeaderAbi, WithLengthsANulIsRefusedNotCutShortAndNeverShown) {
  Runtime rt;
  Stream s(rt.get(), sse("/sse/raw?key=" + unique_key() + "&body=data%3A%20hi%0A%0A"));
  const std::string value("Bearer s3cret\0tail", 18);
  EXPECT_EQ(tw_stream_set_header_n(s.get(), "Authorization", 13, value.data(), value.size()), TW_ERR_INVALID_VALUE);
  std::string message = tw_last_error_message();
  EXPECT_NE(message.find("header.Authorization"), std::string::npos) << message;
  EXPECT_EQ(message.find("s3cret"), std::string::npos) << message;
  EXPECT_EQ(tw_stream_set_header_n(s.get(), "X-A\0B", 5, "v", 1), TW_ERR_UNKNOWN_KEY);
  EXPECT_NE(std::string(tw_last_error_message()).find("X-A\\x00B"), std::string::npos) << tw_last_error_message();
  EXPECT_EQ(tw_stream_set_header_n(s.get(), "X-Token", 7, "t", 1), TW_OK) << tw_last_error_message();
  EXPECT_EQ(tw_stream_set_header_n(s.get(), "X-Token", 7, nullptr, 0), TW_OK) << "NULL removes";
  EXPECT_EQ(tw_stream_set_header_n(s.get(), nullptr, 3, "v", 1), TW_ERR_INVALID_ARGUMENT);
}

TEST(ConfigAbi, UnknownKeySuggestsInsteadOfListingEveryKey) {
  tw_config* config = nullptr;
  ASSERT_EQ(tw_config_create(&config), TW_OK);
  EXPECT_EQ(tw_config_set(config, "reconect.max_ms", "1"), TW_ERR_UNKNOWN_KEY);
  EXPECT_STREQ(tw_last_error_message(), "unknown key 'reconect.max_ms'; did you mean 'reconnect.max_ms'?");
  char* value = nullptr;
  EXPECT_EQ(tw_config_get(&value, config, "transprot"), TW_ERR_UNKNOWN_KEY);
  EXPECT_STREQ(tw_last_error_message(), "unknown key 'transprot'; did you mean 'transport'?");
  tw_config_destroy(config);
}

TEST(ConfigAbi, AliasesAreListedAndAcceptedAndAKeyGivenTwiceIsRefused) {
  size_t aliases = 0;
  for (size_t i = 0; i < tw_config_key_count(); ++i) {
    const char* name = nullptr;
    ASSERT_EQ(tw_config_key_info(&name, nullptr, nullptr, nullptr, nullptr, i), TW_OK);
    const char* alias = tw_config_key_alias(i);
    if (std::string(name).rfind("header.", 0) == 0) {
      EXPECT_EQ(alias, nullptr);
      continue;
    }
    ASSERT_NE(alias, nullptr) << name;
    ++aliases;
  }
  EXPECT_EQ(aliases + 1, tw_config_key_count());
  EXPECT_EQ(tw_config_key_alias(tw_config_key_count()), nullptr);

  tw_config* config = nullptr;
  ASSERT_EQ(tw_config_create(&config), TW_OK);
  ASSERT_EQ(tw_config_set(config, "reconnect_max_ms", "2s"), TW_OK);
  char* value = nullptr;
  ASSERT_EQ(tw_config_get(&value, config, "reconnect.max_ms"), TW_OK);
  EXPECT_EQ(owned(value), "2000");
  EXPECT_EQ(tw_config_set(config, "reconnect.max_ms", "3000"), TW_ERR_INVALID_VALUE);
  EXPECT_STREQ(tw_last_error_message(),
               "key 'reconnect.max_ms' given twice (as reconnect_max_ms and reconnect.max_ms)");
  EXPECT_STREQ(tw_err_category(TW_ERR_INVALID_VALUE), "config");
  EXPECT_EQ(tw_config_unset(config, "reconnect.max_ms"), TW_OK);
  EXPECT_EQ(tw_config_set(config, "reconnect.max_ms", "3000"), TW_OK);
  EXPECT_EQ(tw_config_unset(config, "reconect.max_ms"), TW_ERR_UNKNOWN_KEY);
  EXPECT_EQ(tw_config_unset(nullptr, "url"), TW_ERR_INVALID_ARGUMENT);
  tw_config_destroy(config);
}

}  // namespace
}  // namespace tidewire::test
