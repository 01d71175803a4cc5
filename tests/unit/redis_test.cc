// redis:// URLs and stream entries, without a server: replies are RESP bytes fed to hiredis's
// own reader, as they arrive from Redis.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <string>

#include "error.h"
#include "redis/entry.h"
#include "redis/url.h"

namespace tidewire::detail::redis {
namespace {

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

ReplyPtr parse(const std::string& resp) {
  redisReader* reader = redisReaderCreate();
  redisReaderFeed(reader, resp.data(), resp.size());
  void* reply = nullptr;
  EXPECT_EQ(redisReaderGetReply(reader, &reply), REDIS_OK);
  redisReaderFree(reader);
  return ReplyPtr(static_cast<redisReply*>(reply));
}

std::string bulk(const std::string& s) { return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n"; }

TEST(RedisUrl, ParsesHostPortDbCredentialsAndParameters) {
  RedisUrl u = RedisUrl::parse("redis://user:p%40ss@cache.local:6380/2?stream=in&group=g%20one", "url");
  EXPECT_EQ(u.host, "cache.local");
  EXPECT_EQ(u.port, 6380);
  EXPECT_EQ(u.db, 2);
  EXPECT_EQ(u.user, "user");
  EXPECT_EQ(u.password, "p@ss");
  EXPECT_EQ(u.param("stream"), "in");
  EXPECT_EQ(u.param("group"), "g one");
  EXPECT_EQ(u.param("consumer", "fallback"), "fallback");
  EXPECT_EQ(u.display(), "redis://cache.local:6380/2");
}

TEST(RedisUrl, DefaultsAndAPasswordAlone) {
  RedisUrl u = RedisUrl::parse("REDIS://:secret@[::1]", "sink");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 6379);
  EXPECT_EQ(u.db, 0);
  EXPECT_EQ(u.user, "");
  EXPECT_EQ(u.password, "secret");
  EXPECT_EQ(u.display(), "redis://[::1]:6379/0");
}

TEST(RedisUrl, BadUrlsNameTheKeyAndNeverThePassword) {
  for (const char* bad : {"http://h/", "redis://", "redis://:hunter2@h:0/", "redis://:hunter2@h:99999",
                          "redis://:hunter2@h/x", "redis://h/0?stream=a&stream=b", "redis://h/0?stream=%0a",
                          "redis://h/0?stream=%zz"}) {
    try {
      RedisUrl::parse(bad, "webhook.handoff");
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), TW_ERR_INVALID_VALUE);
      EXPECT_NE(std::string(e.what()).find("webhook.handoff"), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
    }
  }
}

TEST(RedisEntries, XreadgroupRepliesBecomeEntriesWithTheirFields) {
  std::string resp = "*1\r\n*2\r\n" + bulk("jobs") + "*2\r\n" +
                     // an entry with fields, one trimmed from the stream while pending
                     "*2\r\n" + bulk("1-0") + "*4\r\n" + bulk("data") + bulk(std::string("a\0b", 3)) + bulk("type") +
                     bulk("job") + "*2\r\n" + bulk("2-0") + "*-1\r\n";
  ReplyPtr reply = parse(resp);
  std::vector<Entry> entries;
  std::string error;
  ASSERT_TRUE(read_entries(reply.get(), entries, error)) << error;
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].id, "1-0");
  EXPECT_FALSE(entries[0].deleted);
  EXPECT_TRUE(entries[1].deleted);
  tw_event e;
  fill_event(e, std::move(entries[0]));
  EXPECT_EQ(e.id, "1-0");
  EXPECT_EQ(e.type, "job");
  EXPECT_EQ(e.data.view(), std::string("a\0b", 3));
  EXPECT_TRUE(e.headers.empty());
}

TEST(RedisEntries, ATimedOutReadIsNoEntriesAndAMalformedReplyIsAnError) {
  std::vector<Entry> entries;
  std::string error;
  EXPECT_TRUE(read_entries(parse("*-1\r\n").get(), entries, error));
  EXPECT_TRUE(entries.empty());
  EXPECT_FALSE(read_entries(parse(":1\r\n").get(), entries, error));
  EXPECT_FALSE(read_entries(parse("*1\r\n*2\r\n" + bulk("s") + "*1\r\n*2\r\n" + bulk("1-0") + "*1\r\n" + bulk("odd")).get(),
                            entries, error));
  EXPECT_NE(error.find("name/value pairs"), std::string::npos) << error;
}

TEST(RedisEntries, AnEventBecomesXaddFieldsWithItsExtras) {
  tw_event e;
  e.id = "d1";
  e.type = "t";
  e.data = std::string("body");
  std::vector<std::pair<std::string, std::string>> extra{{"scheme", "standard"}};
  auto fields = event_fields(e, extra);
  std::vector<std::string> got(fields.begin(), fields.end());
  EXPECT_EQ(got, (std::vector<std::string>{"id", "d1", "type", "t", "data", "body", "scheme", "standard"}));
}

}  // namespace
}  // namespace tidewire::detail::redis
