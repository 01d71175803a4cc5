#include "config.h"

#include <gtest/gtest.h>

#include <set>

#include "error.h"

namespace tidewire::detail {
namespace {

tw_err set_code(Config& c, const std::string& key, const std::string& value, std::string* message = nullptr) {
  try {
    c.set(key, value);
    return TW_OK;
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.code();
  }
}

// Changes a key on purpose: a key set twice is refused (see KeyGivenTwiceIsRefusedNamingBothSpellings).
void reset(Config& c, const std::string& key, const std::string& value) {
  c.unset(key);
  c.set(key, value);
}

TEST(Config, EveryTableDefaultIsAcceptedByItsOwnKey) {
  for (const auto& spec : key_table()) {
    if (spec.type == KeyType::map) continue;
    Config c;
    EXPECT_EQ(set_code(c, spec.name, spec.default_value), TW_OK) << spec.name;
  }
}

TEST(Config, TableHasTheRequiredKeysOnceEachWithDocs) {
  std::set<std::string> names;
  for (const auto& spec : key_table()) {
    EXPECT_TRUE(names.insert(spec.name).second) << spec.name;
    EXPECT_GT(std::string(spec.doc).size(), 10u) << spec.name;
  }
  for (const char* required :
       {"transport", "url", "header.", "connect_timeout_ms", "read_timeout_ms", "reconnect.initial_ms",
        "reconnect.max_ms", "reconnect.max_attempts", "reconnect.reset_after_ms", "poll.interval_ms",
        "poll.max_interval_ms", "poll.expose_headers", "longpoll.timeout_ms", "longpoll.cursor_header",
        "longpoll.cursor_param", "sse.last_event_id", "sse.max_line_bytes", "queue.max_events", "queue.overflow",
        "status_events", "tls.ca_file", "tls.verify", "redirect.max"})
    EXPECT_TRUE(names.count(required)) << required;
}

TEST(Config, IntegersOutsideTheRangeNameTheKeyAndTheRange) {
  Config c;
  std::string message;
  EXPECT_EQ(set_code(c, "redirect.max", "21", &message), TW_ERR_INVALID_VALUE);
  EXPECT_NE(message.find("redirect.max"), std::string::npos);
  EXPECT_NE(message.find("0..20"), std::string::npos);
  EXPECT_EQ(set_code(c, "redirect.max", "2x"), TW_ERR_INVALID_VALUE);
  EXPECT_EQ(set_code(c, "redirect.max", ""), TW_ERR_INVALID_VALUE);
  EXPECT_EQ(set_code(c, "redirect.max", "99999999999999999999999"), TW_ERR_INVALID_VALUE);
  EXPECT_EQ(set_code(c, "redirect.max", "20"), TW_OK);
  EXPECT_EQ(c.integer("redirect.max"), 20);
}

TEST(Config, RefusedUrlsNeverShowTheirCredentials) {
  struct Case {
    const char* key;
    const char* value;
  };
  for (const Case& refused : {Case{"url", "https://user:s3cret-pw@host:99999/events?token=tk-secret"},
                              Case{"proxy.url", "http://user:s3cret-pw@proxy:3128/path"},
                              Case{"sink", "rediss://:s3cret-pw@host:6379/0?stream=s"},
                              Case{"webhook.handoff", "http://user:s3cret-pw@host/?token=tk-secret"}}) {
    Config c;
    std::string message;
    EXPECT_EQ(set_code(c, refused.key, refused.value, &message), TW_ERR_INVALID_VALUE) << refused.key;
    EXPECT_NE(message.find(refused.key), std::string::npos) << message;
    EXPECT_EQ(message.find("s3cret-pw"), std::string::npos) << message;
    EXPECT_EQ(message.find("tk-secret"), std::string::npos) << message;
  }
}

TEST(Config, BooleansAndEnumsAcceptOnlyTheirValues) {
  Config c;
  EXPECT_EQ(set_code(c, "tls.verify", "yes"), TW_ERR_INVALID_VALUE);
  EXPECT_EQ(set_code(c, "tls.verify", "false"), TW_OK);
  EXPECT_FALSE(c.boolean("tls.verify"));
  EXPECT_EQ(set_code(c, "transport", "grpc"), TW_ERR_INVALID_VALUE);
  EXPECT_EQ(set_code(c, "transport", "sse"), TW_OK);
}

TEST(Config, HeadersAreCaseInsensitiveAndRejectLineBreaks) {
  Config c;
  EXPECT_EQ(set_code(c, "header.Authorization", "Bearer a"), TW_OK);
  std::string twice;
  EXPECT_EQ(set_code(c, "header.authorization", "Bearer b", &twice), TW_ERR_INVALID_VALUE);
  EXPECT_EQ(twice, "key 'header.Authorization' given twice (as header.Authorization and header.authorization)");
  EXPECT_EQ(twice.find("Bearer"), std::string::npos) << twice;
  c.unset("header.AUTHORIZATION");
  EXPECT_EQ(set_code(c, "header.authorization", "Bearer b"), TW_OK);
  ASSERT_EQ(c.headers().size(), 1u);
  EXPECT_EQ(c.headers()[0].second, "Bearer b");
  EXPECT_EQ(c.get("header.AUTHORIZATION"), "Bearer b");
  std::string message;
  EXPECT_EQ(set_code(c, "header.X-Evil", "a\r\nInjected: 1", &message), TW_ERR_INVALID_VALUE);
  EXPECT_NE(message.find("header.X-Evil"), std::string::npos);
  EXPECT_EQ(set_code(c, "header.", "x"), TW_ERR_UNKNOWN_KEY);
  EXPECT_EQ(set_code(c, "header.Bad Name", "x"), TW_ERR_UNKNOWN_KEY);
}

TEST(Config, RejectedHeaderValueIsNeverEchoed) {
  using namespace std::string_literals;
  for (const std::string& bad : {"Bearer s3cret\r\nX-Injected: 1"s, "Bearer s3cret\n"s, "Bearer s3cret\0tail"s}) {
    Config c;
    std::string message;
    EXPECT_EQ(set_code(c, "header.Authorization", bad, &message), TW_ERR_INVALID_VALUE);
    EXPECT_NE(message.find("header.Authorization"), std::string::npos) << message;
    EXPECT_TRUE(message.find("CR or LF") != std::string::npos || message.find("NUL") != std::string::npos)
        << message;
    EXPECT_EQ(message.find("s3cret"), std::string::npos) << message;
    EXPECT_TRUE(c.headers().empty());
  }
}

TEST(Config, WebhookSecretWithNulIsNotEchoed) {
  using namespace std::string_literals;
  Config c;
  std::string message;
  EXPECT_EQ(set_code(c, "webhook.secret", "whsec_s3cret\0x"s, &message), TW_ERR_INVALID_VALUE);
  EXPECT_NE(message.find("webhook.secret"), std::string::npos) << message;
  EXPECT_EQ(message.find("s3cret"), std::string::npos) << message;
}

TEST(Config, CursorParamMustBeAPlainQueryName) {
  using namespace std::string_literals;
  Config c;
  EXPECT_EQ(set_code(c, "longpoll.cursor_param", "wait[index]"), TW_OK);
  c.unset("longpoll.cursor_param");
  for (const std::string& bad : {"index\r\nX-Injected: 1"s, "a\nb"s, "a\0b"s, "a b"s, "a&b"s, "a=b"s, "a#b"s}) {
    std::string message;
    EXPECT_EQ(set_code(c, "longpoll.cursor_param", bad, &message), TW_ERR_INVALID_VALUE) << bad;
    EXPECT_NE(message.find("longpoll.cursor_param"), std::string::npos) << message;
  }
  EXPECT_EQ(c.str("longpoll.cursor_param"), "");
  EXPECT_EQ(set_code(c, "longpoll.cursor_param", "index"), TW_OK);
}

TEST(Config, UnknownKeySuggestsTheClosestKeysInTheCallersSpelling) {
  Config c;
  std::string message;
  EXPECT_EQ(set_code(c, "reconect.max_ms", "1", &message), TW_ERR_UNKNOWN_KEY);
  EXPECT_EQ(message, "unknown key 'reconect.max_ms'; did you mean 'reconnect.max_ms'?");
  EXPECT_EQ(set_code(c, "reconect_max_ms", "1", &message), TW_ERR_UNKNOWN_KEY);
  EXPECT_EQ(message, "unknown key 'reconect_max_ms'; did you mean 'reconnect_max_ms'?");
  EXPECT_EQ(set_code(c, "transprot", "sse", &message), TW_ERR_UNKNOWN_KEY);
  EXPECT_EQ(message, "unknown key 'transprot'; did you mean 'transport'?");
  EXPECT_EQ(set_code(c, "Reconnect.Max_MS", "1", &message), TW_ERR_UNKNOWN_KEY);
  EXPECT_EQ(message, "unknown key 'Reconnect.Max_MS'; did you mean 'reconnect.max_ms'?");
  EXPECT_EQ(set_code(c, "headers.Authorization", "x", &message), TW_ERR_UNKNOWN_KEY);
  EXPECT_EQ(message, "unknown key 'headers.Authorization'; did you mean 'header.Authorization'?");
  EXPECT_EQ(set_code(c, "reconnect.max", "1", &message), TW_ERR_UNKNOWN_KEY);
  EXPECT_NE(message.find("'reconnect.max_ms'"), std::string::npos) << message;
  // Nothing close: no list of every key, a pointer to where they are.
  EXPECT_EQ(set_code(c, "colour", "1", &message), TW_ERR_UNKNOWN_KEY);
  EXPECT_EQ(message, "unknown key 'colour'; the keys are listed in docs/CONFIGURATION.md");
  // A hostile key is neither echoed whole nor with its control bytes.
  EXPECT_EQ(set_code(c, std::string(100000, 'k') + "\r\n", "1", &message), TW_ERR_UNKNOWN_KEY);
  EXPECT_LT(message.size(), 200u);
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_EQ(c.get("reconnect.max_ms"), "30000");
}

TEST(Config, EveryKeyIsAcceptedUnderItsAliasAndNoTwoAliasesCollide) {
  std::set<std::string> aliases;
  for (const auto& spec : key_table()) {
    if (spec.type == KeyType::map) {
      EXPECT_EQ(key_alias(spec), "");
      continue;
    }
    std::string alias = key_alias(spec);
    EXPECT_EQ(alias.find('.'), std::string::npos) << alias;
    EXPECT_TRUE(aliases.insert(alias).second) << alias;
    EXPECT_EQ(find_key(alias), &spec) << alias;
    Config c;
    EXPECT_EQ(set_code(c, alias, spec.default_value), TW_OK) << alias;
    EXPECT_TRUE(c.is_set(spec.name)) << spec.name;
  }
  Config c;
  c.set("reconnect_max_ms", "2000");
  EXPECT_EQ(c.integer("reconnect.max_ms"), 2000);
  EXPECT_EQ(c.get("reconnect_max_ms"), "2000");
  EXPECT_EQ(set_code(c, "header_Authorization", "x"), TW_ERR_UNKNOWN_KEY);
}

TEST(Config, KeyGivenTwiceIsRefusedNamingBothSpellings) {
  Config c;
  std::string message;
  c.set("reconnect_max_ms", "2000");
  EXPECT_EQ(set_code(c, "reconnect.max_ms", "3000", &message), TW_ERR_INVALID_VALUE);
  EXPECT_EQ(message, "key 'reconnect.max_ms' given twice (as reconnect_max_ms and reconnect.max_ms)");
  EXPECT_EQ(set_code(c, "reconnect.max_ms", "2000", &message), TW_ERR_INVALID_VALUE) << "the same value too";
  EXPECT_EQ(c.integer("reconnect.max_ms"), 2000) << "the first value stays";
  c.set("url", "http://a.example/");
  EXPECT_EQ(set_code(c, "url", "http://b.example/", &message), TW_ERR_INVALID_VALUE);
  EXPECT_EQ(message, "key 'url' given twice (as url and url)");
  c.unset("reconnect.max_ms");
  EXPECT_EQ(c.integer("reconnect.max_ms"), 30000);
  EXPECT_EQ(set_code(c, "reconnect.max_ms", "3000"), TW_OK);
  EXPECT_EQ(c.integer("reconnect.max_ms"), 3000);
  EXPECT_THROW(c.unset("reconect.max_ms"), Error);
  EXPECT_NO_THROW(c.unset("poll.interval_ms")) << "unsetting a key never set";
}

TEST(Config, ValuesAreAcceptedAsHostLanguagesPrintThem) {
  struct Case {
    const char* key;
    const char* given;
    const char* stored;
  };
  for (const Case& k : std::initializer_list<Case>{
           {"tls.verify", "True", "true"},      {"tls.verify", "FALSE", "false"},
           {"tls.verify", "1", "true"},         {"tls.verify", "0", "false"},
           {"redirect.max", "3.0", "3"},        {"reconnect.max_ms", "2000.000", "2000"},
           {"reconnect.max_ms", "30s", "30000"}, {"reconnect.max_ms", "1.5s", "1500"},
           {"reconnect.max_ms", "1500ms", "1500"}, {"reconnect.max_ms", "5m", "300000"},
           {"connect_timeout_ms", "1h", "3600000"}, {"webhook.tolerance_s", "5m", "300"},
           {"ws.subprotocols", "['a', 'b']", "a,b"}, {"ws.subprotocols", "[a, b]", "a,b"},
           {"ws.subprotocols", "[\"a\",\"b\"]", "a,b"}, {"ws.subprotocols", "a, b", "a, b"},
           {"ws.subprotocols", "[]", ""},       {"ws.subscribe_message", "[1, 2]", "[1, 2]"},
       }) {
    Config c;
    EXPECT_EQ(set_code(c, k.key, k.given), TW_OK) << k.key << "=" << k.given;
    EXPECT_EQ(c.get(k.key), k.stored) << k.key << "=" << k.given;
  }
  for (const Case& k : std::initializer_list<Case>{
           {"tls.verify", "yes", ""},      {"tls.verify", "2", ""},          {"redirect.max", "1.5", ""},
           {"redirect.max", "3s", ""},     {"reconnect.max_ms", "1.0005s", ""}, {"reconnect.max_ms", "30 s", ""},
           {"reconnect.max_ms", "2d", ""}, {"reconnect.max_ms", ".5s", ""},  {"reconnect.max_ms", "1..5s", ""},
           {"reconnect.max_ms", "25h", ""}, {"webhook.tolerance_s", "1500ms", ""}, {"redirect.max", "-1", ""},
           {"reconnect.max_ms", "99999999999999999999h", ""}, {"ws.subprotocols", "[a b]", ""},
       }) {
    Config c;
    std::string message;
    EXPECT_EQ(set_code(c, k.key, k.given, &message), TW_ERR_INVALID_VALUE) << k.key << "=" << k.given;
    EXPECT_NE(message.find(k.key), std::string::npos) << message;
  }
}

TEST(Config, UrlIsCheckedWhenSet) {
  Config c;
  std::string message;
  EXPECT_EQ(set_code(c, "url", "ftp://example.com/", &message), TW_ERR_INVALID_VALUE);
  EXPECT_NE(message.find("url"), std::string::npos);
  EXPECT_NE(message.find("ftp"), std::string::npos);
  EXPECT_EQ(set_code(c, "url", "http://"), TW_ERR_INVALID_VALUE);
  EXPECT_EQ(set_code(c, "url", "http://host:99999/"), TW_ERR_INVALID_VALUE);
  EXPECT_EQ(set_code(c, "url", "https://example.com:8443/a?b=c"), TW_OK);
}

TEST(Config, TransportIsInferredOnlyForWebSocketUrls) {
  Config c;
  c.set("url", "wss://example.com/feed");
  EXPECT_EQ(c.validated_transport(), TW_TRANSPORT_WS);
  reset(c, "url", "https://example.com/feed");
  EXPECT_THROW(c.validated_transport(), Error);
  c.set("transport", "sse");
  EXPECT_EQ(c.validated_transport(), TW_TRANSPORT_SSE);
  reset(c, "transport", "ws");
  EXPECT_THROW(c.validated_transport(), Error);
}

TEST(Config, ListsAreTrimmedAndValidated) {
  Config c;
  EXPECT_EQ(set_code(c, "poll.expose_headers", " X-A ,X-B,, "), TW_OK);
  EXPECT_EQ(c.list("poll.expose_headers"), (std::vector<std::string>{"X-A", "X-B"}));
  EXPECT_EQ(set_code(c, "poll.expose_headers", "X A"), TW_ERR_INVALID_VALUE);
}

TEST(Config, PortZeroMeansAnyFreePortAndOnlyForWebhook) {
  Config c;
  EXPECT_EQ(set_code(c, "url", "http://127.0.0.1:0/hooks"), TW_OK);
  c.set("transport", "webhook");
  EXPECT_EQ(c.validated_transport(), TW_TRANSPORT_WEBHOOK);
  reset(c, "transport", "poll");
  try {
    c.validated_transport();
    ADD_FAILURE() << "port 0 accepted for poll";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), TW_ERR_INVALID_VALUE);
    EXPECT_NE(std::string(e.what()).find("url: port 0"), std::string::npos) << e.what();
  }
}

TEST(Config, HttpMethodTakesAnyTokenCaseKeptAndRefusesTheRest) {
  for (const char* m : {"GET", "POST", "PUT", "PATCH", "DELETE", "REPORT", "QUERY", "M-SEARCH", "post"}) {
    Config c;
    EXPECT_EQ(set_code(c, "http.method", m), TW_OK) << m;
    EXPECT_EQ(c.str("http.method"), m);
  }
  for (const char* m : {"", "GE T", "GET\r\n", "P(OST)", "GET/1"}) {
    Config c;
    std::string message;
    EXPECT_EQ(set_code(c, "http.method", m, &message), TW_ERR_INVALID_VALUE) << m;
    EXPECT_NE(message.find("http.method"), std::string::npos) << message;
  }
}

TEST(Config, HttpBodyKeepsNulBytesWhileEveryOtherValueRefusesThem) {
  using namespace std::string_literals;
  Config c;
  const std::string body = "{\"a\":\0\"b\"}\0"s;
  EXPECT_EQ(set_code(c, "http.body", body), TW_OK);
  EXPECT_EQ(c.str("http.body"), body);
  EXPECT_TRUE(c.is_set("http.body"));
  std::string message;
  EXPECT_EQ(set_code(c, "sse.end_data", "a\0b"s, &message), TW_ERR_INVALID_VALUE);
  EXPECT_EQ(set_code(c, "header.Authorization", "Bearer \0x"s, &message), TW_ERR_INVALID_VALUE);
  EXPECT_EQ(message.find("Bearer"), std::string::npos) << message;
}

// A host's list or object is never stored as the text the host printed for it.
TEST(Config, AListIsTakenOnlyByAListKeyAndAnObjectByNone) {
  auto code = [](Config& c, const std::string& key, const std::string& value, tw_value_kind kind, std::string* message) {
    try {
      c.set_value(key, value, kind, "list");
      return TW_OK;
    } catch (const Error& e) {
      *message = e.what();
      return e.code();
    }
  };
  Config c;
  std::string message;
  EXPECT_EQ(code(c, "sse.end_data", "['secret']", TW_VALUE_LIST, &message), TW_ERR_INVALID_VALUE);
  EXPECT_EQ(message,
            "invalid value for sse.end_data: a value of type list is not accepted; expected any text without CR or LF "
            "(empty = none)");
  EXPECT_FALSE(c.is_set("sse.end_data"));
  EXPECT_EQ(code(c, "reconnect_max_ms", "[1]", TW_VALUE_LIST, &message), TW_ERR_INVALID_VALUE);
  EXPECT_NE(message.find("reconnect.max_ms: a value of type list"), std::string::npos) << message;
  EXPECT_EQ(code(c, "header.Authorization", "['Bearer x']", TW_VALUE_OTHER, &message), TW_ERR_INVALID_VALUE);
  EXPECT_EQ(message.find("Bearer"), std::string::npos) << message;
  EXPECT_EQ(code(c, "ws.subprotocols", "{'a': 1}", TW_VALUE_OTHER, &message), TW_ERR_INVALID_VALUE);
  EXPECT_EQ(code(c, "ws.subprotocol", "['a']", TW_VALUE_LIST, &message), TW_ERR_UNKNOWN_KEY);
  EXPECT_NE(message.find("did you mean 'ws.subprotocols'"), std::string::npos) << message;
  EXPECT_EQ(code(c, "ws.subprotocols", "['a', 'b']", TW_VALUE_LIST, &message), TW_OK);
  EXPECT_EQ(c.str("ws.subprotocols"), "a,b");
  // Text is as tw_config_set: "[DONE]" is the string it looks like.
  EXPECT_EQ(code(c, "sse.end_data", "[DONE]", TW_VALUE_TEXT, &message), TW_OK);
  EXPECT_EQ(c.str("sse.end_data"), "[DONE]");
  // A key already set is named as such, whatever the type given the second time.
  EXPECT_EQ(code(c, "ws_subprotocols", "['c']", TW_VALUE_LIST, &message), TW_ERR_INVALID_VALUE);
  EXPECT_NE(message.find("given twice"), std::string::npos) << message;
}

TEST(Config, NewEnumsAndEndMarkersAreChecked) {
  Config c;
  EXPECT_EQ(set_code(c, "http.replay_body", "sometimes"), TW_ERR_INVALID_VALUE);
  EXPECT_EQ(set_code(c, "reconnect.on_auth_failure", "retry"), TW_ERR_INVALID_VALUE);
  EXPECT_EQ(set_code(c, "reconnect.auth_wait_ms", "0"), TW_ERR_INVALID_VALUE);
  EXPECT_EQ(set_code(c, "sse.end_event", "a\nb"), TW_ERR_INVALID_VALUE);
  EXPECT_EQ(set_code(c, "sse.end_data", "[DONE]"), TW_OK);
  EXPECT_EQ(set_code(c, "sse.comments", "yes"), TW_ERR_INVALID_VALUE);
  EXPECT_EQ(c.str("http.replay_body"), "auto");
  EXPECT_EQ(c.str("reconnect.on_auth_failure"), "fatal");
  EXPECT_EQ(c.str("http.method"), "GET");
  EXPECT_FALSE(c.is_set("http.body"));
}

TEST(Config, MethodAndBodyAreRefusedForWsAndWebhookNamingTheKey) {
  for (const char* key : {"http.method", "http.body"}) {
    for (const char* url : {"ws://127.0.0.1:1/x", "http://127.0.0.1:0/hooks"}) {
      Config c;
      c.set("url", url);
      if (std::string(url).rfind("http", 0) == 0) c.set("transport", "webhook");
      c.set(key, "POST");
      try {
        c.validated_transport();
        ADD_FAILURE() << key << " accepted for " << url;
      } catch (const Error& e) {
        EXPECT_EQ(e.code(), TW_ERR_INVALID_VALUE);
        EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
      }
    }
    Config sse;
    sse.set("url", "http://127.0.0.1:1/x");
    sse.set("transport", "sse");
    sse.set(key, "POST");
    EXPECT_EQ(sse.validated_transport(), TW_TRANSPORT_SSE);
  }
}

TEST(Config, CheckHeaderValidatesLikeHeaderKeys) {
  const std::string ok = "v";
  EXPECT_NO_THROW(check_header("X-Token", &ok));
  EXPECT_NO_THROW(check_header("X-Token", nullptr));
  EXPECT_THROW(check_header("", &ok), Error);
  EXPECT_THROW(check_header("Bad Name", nullptr), Error);
  const std::string crlf = "secret\r\nX: y";
  try {
    check_header("Authorization", &crlf);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), TW_ERR_INVALID_VALUE);
    EXPECT_EQ(std::string(e.what()).find("secret"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tidewire::detail
