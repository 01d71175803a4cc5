// Which proxy a target goes through: proxy.url first, then HTTPS_PROXY / HTTP_PROXY and NO_PROXY.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "proto/proxy_env.h"

namespace tidewire::detail::proxy {
namespace {

EnvLookup env_of(const std::map<std::string, std::string>& vars) {
  return [vars](const char* name) -> const char* {
    auto found = vars.find(name);
    return found == vars.end() ? nullptr : found->second.c_str();
  };
}

TEST(ProxyEnv, ExplicitProxyWinsEvenOverNoProxy) {
  auto env = env_of({{"HTTPS_PROXY", "http://env:1"}, {"NO_PROXY", "*"}});
  EXPECT_EQ(proxy_for("https://example.com/", "http://mine:3128", env), "http://mine:3128");
}

TEST(ProxyEnv, SchemeSelectsTheVariable) {
  auto env = env_of({{"HTTPS_PROXY", "http://secure:1"}, {"HTTP_PROXY", "http://clear:2"}});
  EXPECT_EQ(proxy_for("https://example.com/", "", env), "http://secure:1");
  EXPECT_EQ(proxy_for("wss://example.com/", "", env), "http://secure:1");
  EXPECT_EQ(proxy_for("http://example.com/", "", env), "http://clear:2");
  EXPECT_EQ(proxy_for("ws://example.com/", "", env), "http://clear:2");
  EXPECT_EQ(proxy_for("https://example.com/", "", env_of({{"HTTP_PROXY", "http://clear:2"}})), "");
}

TEST(ProxyEnv, LowerCaseSpellingIsReadAndPreferred) {
  EXPECT_EQ(proxy_for("https://a.test/", "", env_of({{"https_proxy", "http://low:1"}})), "http://low:1");
  EXPECT_EQ(proxy_for("http://a.test/", "", env_of({{"http_proxy", "http://low:1"}, {"HTTP_PROXY", "http://up:2"}})),
            "http://low:1");
  EXPECT_EQ(proxy_for("http://a.test/", "", env_of({{"HTTP_PROXY", "http://p:1"}, {"no_proxy", "a.test"}})), "");
}

TEST(ProxyEnv, NoProxyExemptsMatchingHosts) {
  auto env = env_of({{"HTTPS_PROXY", "http://p:1"}, {"NO_PROXY", " internal.test, .corp.test,10.0.0.1,[::1],only.test:8443"}});
  EXPECT_EQ(proxy_for("https://internal.test/", "", env), "");
  EXPECT_EQ(proxy_for("https://api.internal.test/", "", env), "");   // suffix without leading dot
  EXPECT_EQ(proxy_for("https://corp.test/", "", env), "");            // leading dot also matches the domain
  EXPECT_EQ(proxy_for("https://x.corp.test/", "", env), "");
  EXPECT_EQ(proxy_for("https://notinternal.test/", "", env), "http://p:1");  // label boundary
  EXPECT_EQ(proxy_for("https://10.0.0.1/", "", env), "");
  EXPECT_EQ(proxy_for("https://10.0.0.10/", "", env), "http://p:1");  // addresses match exactly
  EXPECT_EQ(proxy_for("https://[::1]:9000/", "", env), "");
  EXPECT_EQ(proxy_for("https://only.test:8443/", "", env), "");
  EXPECT_EQ(proxy_for("https://only.test/", "", env), "http://p:1");  // other port
  EXPECT_EQ(proxy_for("https://INTERNAL.TEST/", "", env), "");        // case-insensitive
}

TEST(ProxyEnv, NoProxyStarExemptsEverything) {
  auto env = env_of({{"HTTP_PROXY", "http://p:1"}, {"NO_PROXY", "*"}});
  EXPECT_EQ(proxy_for("http://anything.test/", "", env), "");
}

TEST(ProxyEnv, NoProxyMatching) {
  EXPECT_TRUE(no_proxy_matches("example.com", "example.com", 443));
  EXPECT_TRUE(no_proxy_matches("example.com", "www.example.com", 443));
  EXPECT_FALSE(no_proxy_matches("example.com", "badexample.com", 443));
  EXPECT_TRUE(no_proxy_matches("::1", "::1", 80));
  EXPECT_TRUE(no_proxy_matches("[::1]:80", "::1", 80));
  EXPECT_FALSE(no_proxy_matches("[::1]:80", "::1", 81));
  EXPECT_FALSE(no_proxy_matches("", "example.com", 80));
  EXPECT_FALSE(no_proxy_matches(",,", "example.com", 80));
  EXPECT_TRUE(no_proxy_matches("localhost", "localhost.", 80));
}

TEST(ProxyEnv, ParseProxyUrl) {
  std::string error;
  auto full = parse_proxy_url("http://proxy.test:3128/", &error);
  ASSERT_TRUE(full) << error;
  EXPECT_EQ(full->host, "proxy.test");
  EXPECT_EQ(full->port, 3128);
  auto bare = parse_proxy_url("proxy.test", &error);
  ASSERT_TRUE(bare) << error;
  EXPECT_EQ(bare->host, "proxy.test");
  EXPECT_EQ(bare->port, 80);  // http's default, as for proxy.url in the configuration
  auto bare_with_port = parse_proxy_url(" proxy.test:3128 ", &error);
  ASSERT_TRUE(bare_with_port) << error;
  EXPECT_EQ(bare_with_port->host, "proxy.test");
  EXPECT_EQ(bare_with_port->port, 3128);
  auto upper = parse_proxy_url("HTTP://proxy.test:3128", &error);
  ASSERT_TRUE(upper) << error;
  EXPECT_EQ(upper->port, 3128);
  auto v6 = parse_proxy_url("http://[::1]:8080", &error);
  ASSERT_TRUE(v6) << error;
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8080);
  EXPECT_FALSE(parse_proxy_url("https://proxy.test:443", &error));
  EXPECT_NE(error.find("https"), std::string::npos);
  EXPECT_FALSE(parse_proxy_url("http://user:pw@proxy.test:3128", &error));
  EXPECT_FALSE(parse_proxy_url("http://proxy.test:99999", &error));
  EXPECT_FALSE(parse_proxy_url("http://:3128", &error));
  EXPECT_FALSE(parse_proxy_url("http://proxy.test:0", &error));
  EXPECT_FALSE(parse_proxy_url("socks5://proxy.test:1080", &error));
}

TEST(ProxyEnv, ParseProxyUrlStopsTheAuthorityAtQueryOrFragmentAndRefusesThem) {
  std::string error;
  // The authority ends at '/', '?' or '#'; what follows is refused rather than silently ignored.
  for (const char* url : {"http://proxy.test:3128/path", "http://proxy.test:3128?x=1", "http://proxy.test:3128#f",
                          "http://proxy.test:3128/#f", "proxy.test:3128/x"}) {
    error.clear();
    EXPECT_FALSE(parse_proxy_url(url, &error)) << url;
    EXPECT_NE(error.find("path, query or fragment"), std::string::npos) << url << ": " << error;
  }
}

TEST(ProxyEnv, ParseProxyUrlRefusesControlCharactersInTheHost) {
  std::string error;
  EXPECT_FALSE(parse_proxy_url("http://proxy\r\n.test:3128", &error));
  EXPECT_FALSE(parse_proxy_url("http://proxy\x01.test:3128", &error));
  EXPECT_FALSE(parse_proxy_url("http://pro xy.test:3128", &error));
}

}  // namespace
}  // namespace tidewire::detail::proxy
