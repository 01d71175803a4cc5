#include "url.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "error.h"

namespace tidewire::detail {
namespace {

TEST(Url, ParsesSchemeHostPortAndTarget) {
  Url u = Url::parse("HTTPS://Example.com:8443/a/b?x=1#frag");
  EXPECT_EQ(u.scheme, "https");
  EXPECT_EQ(u.host, "Example.com");
  EXPECT_EQ(u.port, 8443);
  EXPECT_EQ(u.target, "/a/b?x=1");
  EXPECT_TRUE(u.tls());
  EXPECT_EQ(Url::parse("http://h").target, "/");
  EXPECT_EQ(Url::parse("http://h?q").target, "/?q");
  EXPECT_EQ(Url::parse("ws://h").port, 80);
  EXPECT_EQ(Url::parse("wss://h").port, 443);
}

TEST(Url, ParsesIpv6Literals) {
  Url u = Url::parse("http://[::1]:9000/x");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 9000);
  EXPECT_EQ(u.authority(), "[::1]:9000");
}

TEST(Url, RejectsWhatItCannotUse) {
  EXPECT_THROW(Url::parse("example.com/x"), Error);
  EXPECT_THROW(Url::parse("ftp://h/"), Error);
  EXPECT_THROW(Url::parse("http:///x"), Error);
  EXPECT_THROW(Url::parse("http://user:pw@h/"), Error);
  EXPECT_THROW(Url::parse("http://h:0/"), Error);
  EXPECT_THROW(Url::parse("http://h/a b"), Error);
}

TEST(Url, ListenUrlsMayAskForAnyFreePort) {
  EXPECT_EQ(Url::parse_listen("http://127.0.0.1:0/hooks").port, 0);
  EXPECT_EQ(Url::parse_listen("http://[::1]:8080/").port, 8080);
  EXPECT_THROW(Url::parse_listen("http://h:65536/"), Error);
}

TEST(Url, ResolvesEveryLocationForm) {
  Url base = Url::parse("http://h:1/a/b?q=1");
  EXPECT_EQ(base.resolve("https://o/x").to_string(), "https://o/x");
  EXPECT_EQ(base.resolve("//o:2/y").to_string(), "http://o:2/y");
  EXPECT_EQ(base.resolve("/z?k=v").to_string(), "http://h:1/z?k=v");
  EXPECT_EQ(base.resolve("c").to_string(), "http://h:1/a/c");
}

TEST(Url, SetsAQueryParameterReplacingAnEarlierOne) {
  Url u = Url::parse("http://h/v1/kv?index=1&wait=5m");
  EXPECT_EQ(u.with_query_param("index", "42").target, "/v1/kv?wait=5m&index=42");
  EXPECT_EQ(Url::parse("http://h/x").with_query_param("c", "a b&").target, "/x?c=a%20b%26");
}

TEST(Url, AuthorityOmitsTheDefaultPort) {
  EXPECT_EQ(Url::parse("http://h:80/").authority(), "h");
  EXPECT_EQ(Url::parse("https://h:443/").authority(), "h");
  EXPECT_EQ(Url::parse("http://h:8080/").authority(), "h:8080");
}

TEST(Url, SameOriginComparesSchemeHostIgnoringCaseAndPort) {
  Url a = Url::parse("https://Api.Example.com/x?token=1");
  EXPECT_TRUE(a.same_origin(Url::parse("https://api.example.com:443/other")));
  EXPECT_FALSE(a.same_origin(Url::parse("http://api.example.com/x")));
  EXPECT_FALSE(a.same_origin(Url::parse("https://api.example.com:8443/x")));
  EXPECT_FALSE(a.same_origin(Url::parse("https://evil.example.com/x")));
  // Case folding is ASCII letters only: other bytes compare as they are.
  EXPECT_TRUE(Url::parse("http://A-1.Example/").same_origin(Url::parse("http://a-1.EXAMPLE/")));
  EXPECT_FALSE(Url::parse("http://a-1.example/").same_origin(Url::parse("http://a_1.example/")));
  EXPECT_FALSE(Url::parse("http://a.example/").same_origin(Url::parse("http://a.exampl/")));
}

TEST(Url, DisplayLeavesOutTheQuery) {
  EXPECT_EQ(Url::parse("https://h/a/b?token=s3cret#f").display(), "https://h/a/b?REDACTED");
  EXPECT_EQ(Url::parse("http://h:8080/a").display(), "http://h:8080/a");
}

TEST(Url, QueryParameterValueCannotBreakTheRequestLine) {
  Url u = Url::parse("http://h/x").with_query_param("index", "1\r\nX-Evil: 1 \x7f");
  EXPECT_EQ(u.target, "/x?index=1%0D%0AX-Evil%3A%201%20%7F");
}

// The code and the text of a refused redirect hop.
std::pair<tw_err, std::string> refusal(const Url& from, const std::string& location, int hop, int max) {
  try {
    redirect_target(from, location, hop, max);
  } catch (const Error& e) {
    return {e.code(), e.what()};
  }
  return {TW_OK, ""};
}

TEST(Redirect, FollowsRelativeAndAbsoluteLocationsUpToTheLimit) {
  Url from = Url::parse("https://h/a/b?token=1");
  EXPECT_EQ(redirect_target(from, "c", 1, 5).to_string(), "https://h/a/c");
  EXPECT_EQ(redirect_target(from, "https://other:8443/x", 5, 5).to_string(), "https://other:8443/x");
  auto [err, text] = refusal(from, "/x", 6, 5);
  EXPECT_EQ(err, TW_ERR_LIMIT);
  EXPECT_NE(text.find("redirect.max=5"), std::string::npos) << text;
  EXPECT_EQ(text.find("token"), std::string::npos) << text;
}

TEST(Redirect, FromTlsToClearTextIsRefusedForHttpAndWebSocketAlike) {
  for (const char* from : {"https://h/x?token=s3cret", "wss://h/x?token=s3cret"}) {
    auto [err, text] = refusal(Url::parse(from), "http://other/y?k=v", 1, 5);
    EXPECT_EQ(err, TW_ERR_PROTOCOL) << from;
    EXPECT_NE(text.find("never followed"), std::string::npos) << text;
    EXPECT_NE(text.find("other/y"), std::string::npos) << text;
    EXPECT_EQ(text.find("s3cret"), std::string::npos) << text;
  }
  // Clear text to TLS is an upgrade, and followed.
  EXPECT_EQ(redirect_target(Url::parse("http://h/"), "https://h/", 1, 5).scheme, "https");
}

TEST(Redirect, AWebSocketHandshakeSentToAnHttpUrlStaysAWebSocket) {
  EXPECT_EQ(redirect_target(Url::parse("ws://h/"), "http://other/feed", 1, 5).to_string(), "ws://other/feed");
  EXPECT_EQ(redirect_target(Url::parse("wss://h/"), "https://other/feed", 1, 5).to_string(), "wss://other/feed");
  EXPECT_EQ(refusal(Url::parse("wss://h/"), "ws://other/feed", 1, 5).first, TW_ERR_PROTOCOL);
  // And an HTTP request sent to a ws(s) Location stays an HTTP request.
  EXPECT_EQ(redirect_target(Url::parse("http://h/"), "ws://other/feed", 1, 5).to_string(), "http://other/feed");
  EXPECT_EQ(refusal(Url::parse("https://h/"), "ws://other/feed", 1, 5).first, TW_ERR_PROTOCOL);
}

TEST(Redirect, ABadLocationIsAProtocolErrorWithoutItsQuery) {
  auto [err, text] = refusal(Url::parse("http://h/"), "ftp://other/x?token=s3cret", 1, 5);
  EXPECT_EQ(err, TW_ERR_PROTOCOL);
  EXPECT_EQ(text.find("s3cret"), std::string::npos) << text;
}

TEST(Redact, RemovesQueryFragmentAndPasswordFromEveryUrlInAText) {
  EXPECT_EQ(redacted("https://user:pw@h/p?token=1#frag"), "https://REDACTED@h/p?REDACTED");
  EXPECT_EQ(redacted("http://apikey@proxy:3128"), "http://REDACTED@proxy:3128");
  EXPECT_EQ(redact_urls("GET http://h/a?k=1 then wss://h/b#x."), "GET http://h/a?REDACTED then wss://h/b#REDACTED");
  EXPECT_EQ(redact_urls("http://h/a?k=1: could not resolve h; ws://u:p@h/b, then"),
            "http://h/a?REDACTED: could not resolve h; ws://REDACTED@h/b, then");
  EXPECT_EQ(redact_urls("no url here"), "no url here");
}

}  // namespace
}  // namespace tidewire::detail
