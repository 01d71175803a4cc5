#include "policy.h"

#include <gtest/gtest.h>

namespace tidewire::detail {
namespace {

TEST(Policy, HttpStatusesAreClassifiedAsTheTableSays) {
  EXPECT_EQ(classify_http_status(204), Verdict::end_clean);
  for (int status : {408, 429, 500, 502, 503, 504, 599}) EXPECT_EQ(classify_http_status(status), Verdict::retry) << status;
  for (int status : {400, 401, 403, 404, 405, 410, 422, 301}) EXPECT_EQ(classify_http_status(status), Verdict::fatal) << status;
}

TEST(Policy, WebSocketCloseCodesAreClassifiedAsTheTableSays) {
  EXPECT_EQ(classify_ws_close(1000), Verdict::end_clean);
  for (int code : {1001, 1005, 1006, 1011, 1012, 1013}) EXPECT_EQ(classify_ws_close(code), Verdict::retry) << code;
  for (int code : {1002, 1003, 1007, 1008, 1009, 1010, 4000}) EXPECT_EQ(classify_ws_close(code), Verdict::fatal) << code;
}

TEST(Policy, NetworkErrorsRetryAndTlsOrLimitsDoNot) {
  EXPECT_EQ(classify_error(TW_ERR_IO), Verdict::retry);
  EXPECT_EQ(classify_error(TW_ERR_TIMEOUT), Verdict::retry);
  EXPECT_EQ(classify_error(TW_ERR_TLS), Verdict::fatal);
  EXPECT_EQ(classify_error(TW_ERR_LIMIT), Verdict::fatal);
}

TEST(Backoff, FullJitterStaysWithinTheDoublingCeiling) {
  Backoff b({100, 100000, 60000, 0}, 42);
  for (int attempt = 0; attempt < 8; attempt++) {
    int64_t ceiling = 100LL << attempt;
    auto d = b.next_delay(0, std::nullopt);
    ASSERT_TRUE(d);
    EXPECT_GE(*d, 0);
    EXPECT_LE(*d, ceiling) << attempt;
  }
}

TEST(Backoff, JitterSpreadsDelaysAcrossTheRange) {
  int64_t low = 0, high = 0;
  for (uint64_t seed = 0; seed < 200; seed++) {
    Backoff b({1000, 1000, 60000, 0}, seed);
    int64_t d = *b.next_delay(0, std::nullopt);
    if (d < 250) low++;
    if (d > 750) high++;
  }
  EXPECT_GT(low, 20);
  EXPECT_GT(high, 20);
}

TEST(Backoff, NeverExceedsTheCapEvenAfterManyAttempts) {
  Backoff b({100, 3000, 60000, 0}, 7);
  for (int i = 0; i < 200; i++) EXPECT_LE(*b.next_delay(0, std::nullopt), 3000);
}

TEST(Backoff, HintIsAFloor) {
  Backoff b({10, 50, 60000, 0}, 1);
  for (int i = 0; i < 10; i++) EXPECT_EQ(*b.next_delay(0, 700), 700);
}

TEST(Backoff, GivesUpAfterMaxAttempts) {
  Backoff b({1, 10, 60000, 3}, 1);
  EXPECT_TRUE(b.next_delay(0, std::nullopt));
  EXPECT_TRUE(b.next_delay(0, std::nullopt));
  EXPECT_TRUE(b.next_delay(0, std::nullopt));
  EXPECT_FALSE(b.next_delay(0, std::nullopt));
}

TEST(Backoff, ResetsAfterAHealthyPeriod) {
  Backoff b({1, 1 << 20, 1000, 3}, 1);
  b.next_delay(0, std::nullopt);
  b.next_delay(0, std::nullopt);
  EXPECT_EQ(b.attempts(), 2);
  b.connected(5000);
  b.next_delay(5999, std::nullopt);  // healthy for 999 ms: not long enough
  EXPECT_EQ(b.attempts(), 3);
  b.connected(10000);
  b.next_delay(11000, std::nullopt);  // healthy for 1000 ms: back to the first step
  EXPECT_EQ(b.attempts(), 1);
}

TEST(Backoff, SuccessResetsAtOnce) {
  Backoff b({1, 100, 60000, 2}, 1);
  b.next_delay(0, std::nullopt);
  b.next_delay(0, std::nullopt);
  b.succeeded();
  EXPECT_TRUE(b.next_delay(0, std::nullopt));
}

TEST(Backoff, BaseCanBeReplacedButNotAboveTheCap) {
  Backoff b({10, 500, 60000, 0}, 3);
  b.set_base_ms(100000);
  for (int i = 0; i < 20; i++) EXPECT_LE(*b.next_delay(0, std::nullopt), 500);
}

TEST(RetryAfter, ParsesDelaySeconds) {
  EXPECT_EQ(parse_retry_after("120", 0), 120000);
  EXPECT_EQ(parse_retry_after("0", 0), 0);
  EXPECT_FALSE(parse_retry_after("1.5", 0));
  EXPECT_FALSE(parse_retry_after("-1", 0));
  EXPECT_FALSE(parse_retry_after("", 0));
  EXPECT_FALSE(parse_retry_after("soon", 0));
}

TEST(RetryAfter, ParsesAllThreeHttpDateFormats) {
  const int64_t t = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", t), 10000);
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), t);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), t);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), t);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", t), 0);  // in the past
  EXPECT_FALSE(parse_http_date("06 Nov 1994"));
}

TEST(PollInterval, ParsesWholeAndDecimalSeconds) {
  EXPECT_EQ(parse_seconds_ms("5"), 5000);
  EXPECT_EQ(parse_seconds_ms(" 0.25 "), 250);
  EXPECT_EQ(parse_seconds_ms("1.5"), 1500);
  EXPECT_FALSE(parse_seconds_ms("x"));
  EXPECT_FALSE(parse_seconds_ms(""));
  EXPECT_FALSE(parse_seconds_ms("-2"));
}

TEST(Replay, AutoSendsIdempotentMethodsAgainAndOthersOnlyWithAnEventId) {
  for (const char* m : {"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE", "QUERY", "REPORT"}) {
    EXPECT_TRUE(idempotent_method(m)) << m;
    EXPECT_TRUE(may_replay(Replay::automatic, m, false)) << m;
  }
  for (const char* m : {"POST", "PATCH", "CONNECT", "get", "Post", "FOO"}) {
    EXPECT_FALSE(idempotent_method(m)) << m;
    EXPECT_FALSE(may_replay(Replay::automatic, m, false)) << m;
    EXPECT_TRUE(may_replay(Replay::automatic, m, true)) << m;
  }
}

TEST(Replay, NeverSendsOnlyIdempotentMethodsAgainAndAlwaysSendsEvery) {
  EXPECT_FALSE(may_replay(Replay::never, "POST", true));
  EXPECT_TRUE(may_replay(Replay::never, "GET", false));
  EXPECT_TRUE(may_replay(Replay::always, "POST", false));
  EXPECT_TRUE(may_replay(Replay::always, "PATCH", true));
  EXPECT_EQ(parse_replay("auto"), Replay::automatic);
  EXPECT_EQ(parse_replay("always"), Replay::always);
  EXPECT_EQ(parse_replay("never"), Replay::never);
}

TEST(Replay, OnlyFourOhOneAndFourOhThreeAreAuthFailures) {
  EXPECT_TRUE(is_auth_failure(401));
  EXPECT_TRUE(is_auth_failure(403));
  for (int status : {400, 404, 407, 429, 500}) EXPECT_FALSE(is_auth_failure(status)) << status;
}

}  // namespace
}  // namespace tidewire::detail
